// Build step: derives dist/sync/registries/eido-schema.json, the EIDO schema bundle that
// sync/eido-validate.ts loads, from NENA's YAML in sync/registries/eido (its README says where it
// comes from). Run by `npm run build` after tsc; the bundle is a build output, never committed.
// The YAML is parsed with js-yaml (a devDependency: the build's only; the daemon takes no YAML
// parser), then pruned to the schemas reachable from EmergencyIncidentDataObjectType, so the
// runtime carries only what validation needs. The one upstream typo `NIEMComponents//j.yaml` is
// normalised to `NIEMComponents/j.yaml`, and one `minItems: 1,` (a string in YAML) to the number 1.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EIDO_ROOT_FILE = 'openapi.yaml';
export const EIDO_ROOT_TYPE = 'EmergencyIncidentDataObjectType';

export interface EidoSchemaBundle {
  $comment: string;
  source: string;
  root: { file: string; type: string };
  /** Relative file path -> the schemas of that file that validation can reach. */
  files: Record<string, { components: { schemas: Record<string, unknown> } }>;
}

type YamlLoad = (text: string) => unknown;

export async function loadYamlParser(): Promise<YamlLoad> {
  // A specifier in a variable keeps tsc from demanding type declarations for a package the
  // project does not declare; this only runs at build time, with the devDependencies installed.
  const name = 'js-yaml';
  const mod = (await import(name)) as { load?: YamlLoad; default?: { load: YamlLoad } };
  const load = mod.load ?? mod.default?.load;
  if (!load) throw new Error('js-yaml has no load()');
  return load;
}

function normalise(ref: string, fromFile: string): { file: string; name: string } {
  const [path = '', pointer = ''] = ref.split('#');
  const file = path === '' ? fromFile : posix.normalize(posix.join(posix.dirname(fromFile), path.replace(/\/\/+/g, '/')));
  const m = /^\/components\/schemas\/([^/]+)$/.exec(pointer);
  if (!m?.[1]) throw new Error(`unsupported $ref ${ref} in ${fromFile}`);
  return { file, name: m[1] };
}

const NUMERIC_KEYWORDS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'minProperties', 'maxProperties']);

/** Rewrites every $ref to the normalised relative form and reports the targets. */
function walk(node: unknown, fromFile: string, found: Array<{ file: string; name: string }>): unknown {
  if (Array.isArray(node)) return node.map((x) => walk(x, fromFile, found));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const t = normalise(v.trim(), fromFile);
      found.push(t);
      const rel = t.file === fromFile ? '' : posix.relative(posix.dirname(fromFile), t.file);
      out[k] = `${rel}#/components/schemas/${t.name}`;
    } else if (NUMERIC_KEYWORDS.has(k) && typeof v === 'string' && /^\d+,?$/.test(v)) {
      // Upstream writes `minItems: 1,` once (AgentType.agentRoleRegistryText), which YAML reads
      // as the string "1,"; JSON Schema needs the number.
      out[k] = Number.parseInt(v, 10);
    } else {
      out[k] = walk(v, fromFile, found);
    }
  }
  return out;
}

export async function buildEidoSchemaBundle(yamlDir: string): Promise<EidoSchemaBundle> {
  const load = await loadYamlParser();
  const parsed = new Map<string, Record<string, unknown>>();
  const schemasOf = async (file: string): Promise<Record<string, unknown>> => {
    let doc = parsed.get(file);
    if (!doc) {
      const y = load(await readFile(join(yamlDir, file), 'utf8')) as { components?: { schemas?: Record<string, unknown> } };
      doc = y.components?.schemas ?? {};
      parsed.set(file, doc);
    }
    return doc;
  };
  const files: EidoSchemaBundle['files'] = {};
  const queue = [{ file: EIDO_ROOT_FILE, name: EIDO_ROOT_TYPE }];
  while (queue.length > 0) {
    const { file, name } = queue.shift() as { file: string; name: string };
    files[file] ??= { components: { schemas: {} } };
    const target = files[file].components.schemas;
    if (name in target) continue;
    const schema = (await schemasOf(file))[name];
    if (schema === undefined) throw new Error(`${file} has no schema ${name}`);
    const found: Array<{ file: string; name: string }> = [];
    target[name] = walk(schema, file, found);
    queue.push(...found);
  }
  // Stable key order: the same YAML always gives the same bytes.
  const sorted: EidoSchemaBundle['files'] = {};
  for (const f of Object.keys(files).sort()) {
    const schemas = files[f]?.components.schemas ?? {};
    sorted[f] = { components: { schemas: Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, schemas[k]])) } };
  }
  return {
    $comment: 'Generated at build time by scripts/eido-bundle.ts from sync/registries/eido (NENA911/EIDO-JSON 7f62055d); do not edit.',
    source: 'NENA-STA-021 EIDO JSON schema, Schema/openapi.yaml and Schema/NIEMComponents/*.yaml',
    root: { file: EIDO_ROOT_FILE, type: EIDO_ROOT_TYPE },
    files: sorted,
  };
}

/** The project's root, from this module in scripts/ (source) or in dist/scripts/ (built). */
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = basename(dirname(HERE)) === 'dist' ? join(HERE, '..', '..') : join(HERE, '..');
export const EIDO_YAML_DIR = join(ROOT, 'sync', 'registries', 'eido');
export const EIDO_BUNDLE_PATH = join(ROOT, 'dist', 'sync', 'registries', 'eido-schema.json');

/** Writes the bundle where the built sync/eido-validate.js looks for it. */
export async function writeEidoSchemaBundle(): Promise<void> {
  const bundle = await buildEidoSchemaBundle(EIDO_YAML_DIR);
  await mkdir(dirname(EIDO_BUNDLE_PATH), { recursive: true });
  await writeFile(EIDO_BUNDLE_PATH, `${JSON.stringify(bundle)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeEidoSchemaBundle().catch((err: unknown) => {
    console.error(`eido-bundle: ${String(err)}`);
    process.exit(1);
  });
}
