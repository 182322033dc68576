// Validation of EIDO documents against NENA's JSON schema (NENA-STA-021, from the OpenAPI YAML
// in sync/registries/eido, bundled at build time into dist/sync/registries/eido-schema.json by
// scripts/eido-bundle.ts). ajv resolves the cross-file $refs through the base URIs the
// bundle's file paths give. Compiling the NIEM types takes seconds (about 5 s measured on the
// 2-core bench machine), so the validator is built once, lazily, never on a daemon's start path.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type Plugin } from 'ajv';
import addFormatsModule from 'ajv-formats';

export type EidoValidation = { ok: true } | { ok: false; errors: string[] };
export type EidoValidator = (doc: unknown) => EidoValidation;

const BASE = 'https://eido.schema.invalid/';

interface Bundle {
  root: { file: string; type: string };
  files: Record<string, object>;
}

/**
 * The bundle is a build output (scripts/eido-bundle.ts): beside this module in dist/sync/, or in
 * dist/ when this module runs from the source tree (tests).
 */
export function defaultBundlePath(): string {
  const candidates = [new URL('./registries/eido-schema.json', import.meta.url), new URL('../dist/sync/registries/eido-schema.json', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error('dist/sync/registries/eido-schema.json not found: run npm run build (scripts/eido-bundle.ts derives it from sync/registries/eido)');
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`;
}

let cached: Promise<EidoValidator> | undefined;

export function loadEidoValidator(bundlePath?: string): Promise<EidoValidator> {
  if (bundlePath === undefined && cached) return cached;
  const p = (async () => {
    const bundle = JSON.parse(await readFile(bundlePath ?? defaultBundlePath(), 'utf8')) as Bundle;
    // OpenAPI 3.0 keywords (nullable, example, ...) are not JSON Schema: not strict.
    const ajv = new Ajv({ strict: false, allErrors: true });
    const addFormats = ((addFormatsModule as unknown as { default?: Plugin<unknown> }).default ?? addFormatsModule) as Plugin<unknown>;
    addFormats(ajv, undefined);
    // OpenAPI's numeric and binary formats carry no constraint JSON Schema can check.
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(f, true);
    for (const [file, schema] of Object.entries(bundle.files)) ajv.addSchema(schema, BASE + file);
    const validate = ajv.compile({ $ref: `${BASE}${bundle.root.file}#/components/schemas/${bundle.root.type}` });
    return (doc: unknown): EidoValidation => (validate(doc) ? { ok: true } : { ok: false, errors: (validate.errors ?? []).map(describe) });
  })();
  if (bundlePath === undefined) cached = p;
  return p;
}
