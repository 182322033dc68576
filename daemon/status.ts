// `mdt status`: one screen for a technician at a car. Versions, the config without its secret,
// and, from the running daemon's GET /healthz on the screen's loopback port, device health, the
// broker link and the board's sync state (changes not yet at the precinct). Disk use of the state
// directory comes from the disk itself, so it is shown even when the daemon is down.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadVehicleConfig, type VehicleConfig } from './config.js';
import { packagePath } from './paths.js';
import { SCHEMA_VERSION } from '../sync/schema.js';

const run = promisify(execFile);

export interface Versions {
  mdt: string;
  node: string;
  boardSchema: number;
  configVersion: number;
}

export interface DiskUse {
  dir: string;
  bytes: number;
  files: Array<{ path: string; bytes: number; modified: string }>;
  freeBytes?: number;
  error?: string;
}

export interface VehicleStatus {
  versions: Versions;
  config: Record<string, unknown>;
  service?: string;
  daemon: { running: false; url: string; error: string } | { running: true; url: string; health: Record<string, unknown> };
  disk: DiskUse;
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(packagePath('package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function versions(configVersion: number): Promise<Versions> {
  return { mdt: await packageVersion(), node: process.version, boardSchema: SCHEMA_VERSION, configVersion };
}

/** Key names whose values never leave the machine (the logger redacts the same ones). */
const SECRET_KEY = /^(password|secret|token|pin|hash)$/i;

/** A deep copy with every secret value replaced; paths to secret files are kept (they are not secret). */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== undefined ? '[redacted]' : redact(v);
    return out as T;
  }
  return value;
}

/** What a technician needs from the vehicle config, and nothing secret. */
export function vehicleConfigSummary(cfg: VehicleConfig, configFile: string): Record<string, unknown> {
  return {
    file: configFile,
    vehicle: cfg.vehicle,
    brokers: cfg.brokers,
    credentials: cfg.credentials.passwordFile ? { passwordFile: cfg.credentials.passwordFile } : { password: '[redacted]' },
    ui: { host: cfg.ui.host, port: cfg.ui.port },
    stateDir: cfg.stateDir,
    ...(cfg.departmentFile ? { departmentFile: cfg.departmentFile } : {}),
    hardware: { gps: cfg.hardware.gps.kind, modem: cfg.hardware.modem.kind, inputs: cfg.hardware.inputs.kind },
    logLevel: cfg.log.level,
  };
}

export async function diskUse(dir: string): Promise<DiskUse> {
  const files: DiskUse['files'] = [];
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await stat(p);
        bytes += s.size;
        files.push({ path: p.slice(dir.length + 1), bytes: s.size, modified: s.mtime.toISOString() });
      }
    }
  };
  try {
    await walk(dir);
    const fs = await statfs(dir);
    return { dir, bytes, files: files.sort((a, b) => a.path.localeCompare(b.path)), freeBytes: fs.bavail * fs.bsize };
  } catch (err) {
    return { dir, bytes, files, error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

/** `systemctl is-active UNIT`, or undefined where there is no systemd (a container, a laptop). */
export async function serviceState(unit: string): Promise<string | undefined> {
  try {
    return (await run('systemctl', ['is-active', unit], { timeout: 3000 })).stdout.trim();
  } catch (err) {
    const out = (err as { stdout?: string }).stdout?.trim();
    // is-active exits non-zero for inactive/failed and still prints the state.
    return out && /^[a-z-]+$/.test(out) ? out : undefined;
  }
}

export async function collectVehicleStatus(configFile: string, opts: { timeoutMs?: number } = {}): Promise<VehicleStatus> {
  const cfg = await loadVehicleConfig(configFile);
  const host = cfg.ui.host.includes(':') ? `[${cfg.ui.host}]` : cfg.ui.host;
  const url = `http://${host}:${cfg.ui.port}/healthz`;
  let daemon: VehicleStatus['daemon'];
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
    daemon = { running: true, url, health: redact((await res.json()) as Record<string, unknown>) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    daemon = { running: false, url, error: cause };
  }
  const service = await serviceState('mdt-vehicle.service');
  return {
    versions: await versions(cfg.configVersion),
    config: vehicleConfigSummary(cfg, configFile),
    ...(service ? { service } : {}),
    daemon,
    disk: await diskUse(cfg.stateDir),
  };
}

function since(ms: unknown): string {
  if (typeof ms !== 'number') return '';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? ` for ${s} s` : s < 7200 ? ` for ${Math.round(s / 60)} min` : ` for ${Math.round(s / 3600)} h`;
}

function device(h: unknown): string {
  const d = (h ?? {}) as { state?: string; reason?: string; detail?: string; since?: number };
  return `${d.state ?? 'unknown'}${d.reason ? ` (${d.reason})` : d.detail ? ` (${d.detail})` : ''}${since(d.since)}`;
}

export function formatVehicleStatus(s: VehicleStatus): string {
  const c = s.config as { file: string; vehicle: VehicleConfig['vehicle']; brokers: VehicleConfig['brokers']; credentials: Record<string, string>; hardware: Record<string, string>; stateDir: string; ui: { host: string; port: number } };
  const v = c.vehicle;
  const lines = [
    `mdt ${s.versions.mdt}  node ${s.versions.node}  board schema ${s.versions.boardSchema}  config v${s.versions.configVersion}`,
    '',
    `vehicle   ${v.id}  unit ${v.unit}${v.callSign ? ` (${v.callSign})` : ''}  beat ${v.homeBeat}  sector ${v.sector}  precinct ${v.precinct}`,
    `config    ${c.file}`,
    `secret    ${c.credentials.passwordFile ? `file ${c.credentials.passwordFile}` : 'inline in the config (prefer passwordFile)'}`,
    `brokers   ${c.brokers.map((b, i) => `${i + 1}. ${b.url}${b.precinct ? ` (${b.precinct})` : ''}`).join('  ')}`,
    `hardware  gps ${c.hardware.gps}, modem ${c.hardware.modem}, inputs ${c.hardware.inputs}`,
    ...(s.service ? [`service   mdt-vehicle.service ${s.service}`] : []),
    '',
  ];
  if (!s.daemon.running) {
    lines.push(`daemon    NOT RUNNING (no answer on ${s.daemon.url}: ${s.daemon.error})`);
  } else {
    const h = s.daemon.health as { ok?: boolean; gps?: unknown; modem?: unknown; inputs?: unknown; broker?: Record<string, unknown>; sync?: Record<string, unknown> };
    const b = h.broker ?? {};
    const link =
      b.state === 'online'
        ? `online via ${String(b.broker)}${since(b.since)}`
        : b.state === 'connecting'
          ? `connecting to ${String(b.broker)} (attempt ${String(b.attempt)})`
          : `${String(b.state ?? 'unknown')}${b.lastError ? `: ${String(b.lastError)}` : ''}${typeof b.retryInMs === 'number' ? `, retry in ${b.retryInMs} ms` : ''}${since(b.since)}`;
    const sync = h.sync ?? {};
    lines.push(
      `daemon    running (${s.daemon.url}), overall ${h.ok ? 'ok' : 'DEGRADED'}`,
      `gps       ${device(h.gps)}`,
      `modem     ${device(h.modem)}`,
      `inputs    ${device(h.inputs)}`,
      `broker    ${link}`,
      `board     ${String(sync.docId ?? '?')}: ${sync.pending ? 'changes PENDING (not yet at the precinct)' : 'in sync with the precinct'}${typeof sync.waiting === 'number' ? `, ${sync.waiting} change(s) waiting` : ''}`,
    );
  }
  const d = s.disk;
  lines.push(
    `disk      ${d.dir}: ${humanBytes(d.bytes)} in ${d.files.length} file(s)${d.freeBytes !== undefined ? `, ${humanBytes(d.freeBytes)} free` : ''}${d.error ? ` (${d.error})` : ''}`,
  );
  for (const f of d.files.filter((x) => x.path.startsWith('boards/'))) lines.push(`          ${f.path}  ${humanBytes(f.bytes)}  ${f.modified}`);
  return lines.join('\n');
}
