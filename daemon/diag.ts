// `mdt diag`: one .tar.gz for support, from a car or a station. Inside: the status (versions,
// health, broker link, sync state, disk), the config with its secrets replaced, the service's
// journal when journald has one, basic system facts and a listing (names and sizes only) of the
// state directory. Never inside: the broker secret, operator tokens, or the boards themselves
// (they hold calls for service, which is criminal justice information). Before packing, every
// collected file is searched for the secrets this machine holds; a hit aborts the bundle.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, loadavg, release, totalmem, freemem, uptime, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadPrecinctConfig, loadVehicleConfig, readVehiclePassword } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { collectVehicleStatus, diskUse, redact, serviceState, versions } from './status.js';

const run = promisify(execFile);

export interface DiagOptions {
  configFile: string;
  /** The archive to write; default mdt-diag-<id>-<time>.tar.gz in the current directory. */
  out?: string;
  /** journalctl --since; default the last 24 hours. */
  since?: string;
}

export interface DiagResult {
  archive: string;
  files: string[];
}

type Kind = 'vehicle' | 'precinct';

async function kindOf(configFile: string): Promise<{ kind: Kind; raw: unknown }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(configFile, '(file)', `cannot read as JSON: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const o = (raw ?? {}) as Record<string, unknown>;
  if (o.vehicle !== undefined) return { kind: 'vehicle', raw };
  if (o.precinct !== undefined) return { kind: 'precinct', raw };
  throw new ConfigError(configFile, '(root)', 'neither a vehicle config (no "vehicle") nor a precinct config (no "precinct")');
}

async function journal(unit: string, sinceArg: string): Promise<string> {
  try {
    const { stdout } = await run('journalctl', ['-u', unit, '--since', sinceArg, '-o', 'short-iso', '--no-pager', '-q'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout.length > 0 ? stdout : `(no journal entries for ${unit} since ${sinceArg})\n`;
  } catch (err) {
    const e = err as { code?: string | number; stderr?: string; message: string };
    return `(journal unavailable for ${unit}: ${e.code === 'ENOENT' ? 'journalctl not installed' : (e.stderr?.trim() || e.message)})\n`;
  }
}

function systemFacts(): string {
  return [
    `host: ${hostname()}`,
    `kernel: ${release()}`,
    `node: ${process.version} (${process.platform}/${process.arch})`,
    `uptime: ${Math.round(uptime())} s`,
    `load: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `memory: ${Math.round(freemem() / 1048576)} MB free of ${Math.round(totalmem() / 1048576)} MB`,
    `collected: ${new Date().toISOString()}`,
    '',
  ].join('\n');
}

/** Secrets this machine holds, to make sure none rode along into the bundle. */
async function localSecrets(kind: Kind, configFile: string): Promise<string[]> {
  const found: string[] = [];
  if (kind === 'vehicle') {
    try {
      const cfg = await loadVehicleConfig(configFile);
      found.push(await readVehiclePassword(cfg, configFile));
    } catch {
      // An unreadable secret cannot leak.
    }
  }
  return found.filter((s) => s.length >= 8);
}

const README = `mdt diagnostics bundle

status.json           versions, config summary, daemon health, broker link, sync state, disk use
config.redacted.json  the config file with secret values replaced by "[redacted]"
journal.txt           the service's journal (journalctl), when the machine has one
system.txt            kernel, node, load, memory
files.txt             names and sizes of the files in the state directory (no contents)

Not included, on purpose: the broker secret, operator tokens, and the sector boards (they hold
calls for service, which is criminal justice information).
`;

export async function collectDiag(opts: DiagOptions): Promise<DiagResult> {
  const configFile = resolve(opts.configFile);
  const { kind, raw } = await kindOf(configFile);
  const sinceArg = opts.since ?? '-24h';
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const work = await mkdtemp(join(tmpdir(), 'mdt-diag-'));
  try {
    const unit = kind === 'vehicle' ? 'mdt-vehicle.service' : 'mdt-precinct.service';
    const o = raw as { vehicle?: { id?: unknown }; precinct?: { id?: unknown } };
    let id = kind === 'vehicle' ? String(o.vehicle?.id ?? 'vehicle') : `precinct-${String(o.precinct?.id ?? 'unknown')}`;
    let status: { disk?: { files: Array<{ path: string; bytes: number; modified: string }> } } & Record<string, unknown>;
    try {
      if (kind === 'vehicle') {
        const s = await collectVehicleStatus(configFile);
        id = String((s.config.vehicle as { id: string }).id);
        status = s as unknown as typeof status;
      } else {
        const cfg = await loadPrecinctConfig(configFile);
        id = `precinct-${cfg.precinct.id}`;
        const service = await serviceState(unit);
        status = { versions: await versions(cfg.configVersion), config: redact(cfg), ...(service ? { service } : {}), disk: await diskUse(cfg.stateDir) };
      }
    } catch (err) {
      // A broken config is exactly when support needs the bundle: ship the error with the rest.
      if (!(err instanceof ConfigError)) throw err;
      status = { versions: await versions(1), configError: err.message };
    }
    id = id.replace(/[^A-Za-z0-9_.-]/g, '_');
    const name = `mdt-diag-${id}-${stamp}`;
    const dir = join(work, name);
    const files: Record<string, string> = {
      'README.txt': README,
      'status.json': JSON.stringify(redact(status), null, 2) + '\n',
      'config.redacted.json': JSON.stringify(redact(raw), null, 2) + '\n',
      'journal.txt': await journal(unit, sinceArg),
      'system.txt': systemFacts(),
      'files.txt': (status.disk?.files ?? [])
        .map((f) => `${f.modified}  ${String(f.bytes).padStart(12)}  ${f.path}`)
        .join('\n') + '\n',
    };
    const secrets = await localSecrets(kind, configFile);
    for (const [file, text] of Object.entries(files)) {
      if (secrets.some((s) => text.includes(s))) throw new Error(`refusing to write the bundle: ${file} contains this machine's broker secret`);
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text, { mode: 0o600 });
    const archive = resolve(opts.out ?? `${name}.tar.gz`);
    try {
      await run('tar', ['-czf', archive, '-C', work, name], { timeout: 60_000 });
    } catch (err) {
      throw new UsageError(`cannot write ${archive}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
    await chmod(archive, 0o600);
    return { archive, files: (await readdir(dir)).sort().map((f) => `${name}/${f}`) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
