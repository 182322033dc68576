// `mdt provision` turns a bare MDT into a car of the fleet, and `mdt precinct-admin` lets the
// station's staff list and revoke cars and add operators.
//
// Provisioning: the broker secret is generated here, on the MDT (192 random bits), registered with
// the precinct (its fleet API with a technician's token, or the station's registry file when run
// on the station while it is stopped), then written beside the config as `broker-password`,
// 0600, for systemd's LoadCredential=. The config names it relatively, so the same file works
// for the service (from $CREDENTIALS_DIRECTORY) and for a technician's `mdt selftest`. It is never
// printed. Running it again with the same identity changes nothing; another identity is refused
// without --force.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { chown, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadPrecinctConfig, parseConfig, vehicleConfigSchema, SAMPLE_DEPARTMENT, type VehicleConfig, type PrecinctConfig } from './config.js';
import { loadDepartment, type Department } from './department.js';
import { UsageError } from './errors.js';
import { OperatorRegistry, STAFF_ROLES, type StaffRole } from './operators.js';
import { registerVehicle, summary, type RegisterOutcome, type RegisterVehicle, type VehicleSummary } from './fleet-api.js';
import { VehicleRegistry } from '../sync/credentials.js';
import { newSecret } from '../sync/secret-hash.js';
import { writeFileAtomic } from '../sync/atomic-file.js';
import { hardwareConfigSchema } from '../hardware/config.js';

const run = promisify(execFile);

/** The credential's name: the file beside the config, and the LoadCredential= name in the unit. */
export const PASSWORD_CREDENTIAL = 'broker-password';
/** The brokers' CA certificate, copied beside the config where the service user can read it. */
export const BROKER_CA = 'broker-ca.pem';

// ---- where a registration goes -------------------------------------------------------------

export interface Registrar {
  /** For messages: "precinct API http://..." or "registry /var/lib/...". */
  readonly where: string;
  register(req: RegisterVehicle): Promise<RegisterOutcome>;
}

interface ApiError {
  error?: string;
  field?: string;
  message?: string;
}

/** The fleet routes of a running station, with an operator's bearer token. */
export class FleetClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T & ApiError }> {
    const url = new URL(`api/v1/fleet/${path}`, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new UsageError(`cannot reach the precinct API at ${this.baseUrl}: ${cause} (is the station running, is the URL right?)`);
    }
    const parsed = (await res.json().catch(() => ({}))) as T & ApiError;
    if (res.status === 401 || res.status === 403) {
      throw new UsageError(`precinct API ${this.baseUrl} refused the operator token: ${parsed.message ?? res.status}`);
    }
    return { status: res.status, body: parsed };
  }

  async register(req: RegisterVehicle): Promise<RegisterOutcome> {
    const r = await this.call<{ outcome: RegisterOutcome }>('POST', 'vehicles', req);
    if (r.status === 200 || r.status === 201) return r.body.outcome;
    throw new UsageError(`precinct API ${this.baseUrl} refused the registration: ${r.body.field ? `${r.body.field}: ` : ''}${r.body.message ?? `HTTP ${r.status}`}`);
  }

  async list(): Promise<VehicleSummary[]> {
    const r = await this.call<{ vehicles: VehicleSummary[] }>('GET', 'vehicles');
    if (r.status !== 200) throw new UsageError(`precinct API ${this.baseUrl}: ${r.body.message ?? `HTTP ${r.status}`}`);
    return r.body.vehicles;
  }

  async revoke(vehicleId: string): Promise<VehicleSummary & { alreadyRevoked: boolean; effect: string }> {
    const r = await this.call<VehicleSummary & { alreadyRevoked: boolean; effect: string }>('POST', `vehicles/${encodeURIComponent(vehicleId)}/revoke`);
    if (r.status !== 200) throw new UsageError(`precinct API ${this.baseUrl}: ${r.body.field ? `${r.body.field}: ` : ''}${r.body.message ?? `HTTP ${r.status}`}`);
    return r.body;
  }
}

export function apiRegistrar(client: FleetClient): Registrar {
  return { where: `precinct API ${client.baseUrl}`, register: (req) => client.register(req) };
}

/** Straight into the station's registry file: only on the station, and only while it is stopped. */
export async function fileRegistrar(precinct: PrecinctConfig, department: Department): Promise<Registrar> {
  await refuseIfStationRunning(precinct, 'register through it with --precinct-api URL --token-file FILE');
  const file = registryFile(precinct);
  await mkdir(precinct.stateDir, { recursive: true, mode: 0o750 });
  const registry = await VehicleRegistry.open(file);
  return {
    where: `registry ${file}`,
    async register(req) {
      const r = await registerVehicle(registry, department, req);
      if ('conflict' in r) throw new UsageError(`${r.field}: ${r.conflict}`);
      await ownedLikeDir(file, precinct.stateDir);
      return r.outcome;
    },
  };
}

/**
 * Run as root on the station, a rewritten file would belong to root and the station (its own
 * user) could no longer read it: give it the owner of the state directory, as the station's own
 * writes have.
 */
async function ownedLikeDir(file: string, dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const d = await stat(dir);
  await chown(file, d.uid, d.gid);
}

export function registryFile(precinct: PrecinctConfig): string {
  return join(precinct.stateDir, 'vehicles.json');
}

export function stationApiUrl(precinct: PrecinctConfig): string {
  const host = precinct.api.host === '0.0.0.0' || precinct.api.host === '::' ? '127.0.0.1' : precinct.api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${precinct.api.port}/`;
}

/** Whether something answers on the station's API port (a running station holds its registry). */
export async function stationRunning(precinct: PrecinctConfig): Promise<boolean> {
  const url = new URL(stationApiUrl(precinct));
  return new Promise((resolveRunning) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) });
    const done = (up: boolean) => {
      socket.destroy();
      resolveRunning(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// The running station keeps its registry in memory and rewrites the file on every change: an
// edit made beside it would be ignored now and overwritten later.
async function refuseIfStationRunning(precinct: PrecinctConfig, instead: string): Promise<void> {
  if (await stationRunning(precinct)) {
    throw new UsageError(`the station is running (its API answers on ${stationApiUrl(precinct)}): ${instead}, or stop it first (systemctl stop mdt-precinct)`);
  }
}

// ---- mdt provision -------------------------------------------------------------------------

export interface BrokerArg {
  url: string;
  precinct?: string;
}

/** `--broker mqtt://host:1883` or `--broker N=mqtt://host:1883` (the precinct that runs it). */
export function parseBrokerArg(arg: string): BrokerArg {
  const m = /^([A-Za-z0-9_.-]{1,40})=(.+)$/.exec(arg);
  const url = m ? m[2]! : arg;
  if (!/^(mqtts?|wss?):\/\/[^\s/]+/.test(url)) throw new UsageError(`--broker: expected an mqtt://, mqtts://, ws:// or wss:// URL (optionally PRECINCT=URL), got "${arg}"`);
  return m ? { url, precinct: m[1]! } : { url };
}

export interface ProvisionOptions {
  configFile: string;
  vehicleId: string;
  unit: string;
  callSign?: string;
  beat: string;
  /** Checked against the department file when given; derived from the beat otherwise. */
  sector?: string;
  precinct?: string;
  mode?: 'car' | 'foot' | 'bicycle';
  /** Ordered: the home precinct's broker first, then neighbours, then the county. */
  brokers: BrokerArg[];
  /** CA certificate the TLS brokers (mqtts://, wss://) are checked against, when not a public CA. */
  caFile?: string;
  departmentFile?: string;
  stateDir?: string;
  uiPort?: number;
  /** A JSON file holding the config's `hardware` section (default: gpsd on loopback). */
  hardwareFile?: string;
  registrars: Registrar[];
  force: boolean;
  /** Owner of the written config (default: the service user `mdt` when root runs this); the secret stays root's. */
  owner?: string;
  department?: Department;
  print: (line: string) => void;
}

export interface ProvisionResult {
  config: VehicleConfig;
  configFile: string;
  secretFile: string;
  outcomes: Array<{ where: string; outcome: RegisterOutcome }>;
  wrote: boolean;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  const text = await readIfExists(file);
  if (text === undefined) throw new UsageError(`${what} ${file} does not exist`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  const configFile = resolve(opts.configFile);
  const dir = dirname(configFile);
  const secretFile = join(dir, PASSWORD_CREDENTIAL);
  if (opts.brokers.length === 0) throw new UsageError('--broker is required (the home precinct broker first)');
  const ca = opts.caFile ? await readIfExists(opts.caFile) : undefined;
  if (opts.caFile && ca === undefined) throw new UsageError(`--ca: ${opts.caFile} does not exist`);
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca: ${opts.caFile} is not a PEM certificate`);
  if (opts.registrars.length === 0) throw new UsageError('give --precinct-api URL (with --token-file) or, on the station, --precinct-config FILE');

  const department = opts.department ?? (await loadDepartment(opts.departmentFile ?? SAMPLE_DEPARTMENT));
  const beat = department.beats[opts.beat];
  if (!beat) throw new UsageError(`--beat: beat ${opts.beat} is not in the department file`);
  if (opts.sector && opts.sector !== beat.sector) throw new UsageError(`--sector: beat ${beat.id} belongs to sector ${beat.sector}, not ${opts.sector}`);
  if (opts.precinct && opts.precinct !== beat.precinct) throw new UsageError(`--precinct: beat ${beat.id} belongs to precinct ${beat.precinct}, not ${opts.precinct}`);

  // The identity already on this MDT, if any.
  const existingText = await readIfExists(configFile);
  let existing: Record<string, unknown> | undefined;
  if (existingText !== undefined) {
    try {
      existing = JSON.parse(existingText) as Record<string, unknown>;
    } catch {
      if (!opts.force) throw new UsageError(`${configFile} exists and is not valid JSON; refusing to overwrite it without --force`);
    }
  }
  const existingVehicle = (existing?.vehicle ?? undefined) as { id?: string; unit?: string } | undefined;
  if (existingVehicle?.id !== undefined && existingVehicle.id !== opts.vehicleId && !opts.force) {
    throw new UsageError(
      `${configFile} already holds the identity of vehicle ${existingVehicle.id} (unit ${existingVehicle.unit ?? '?'}); refusing to overwrite it without --force`,
    );
  }
  const sameIdentity = existingVehicle?.id === opts.vehicleId;

  // Keep the secret of this identity (or of a run that stopped before writing the config).
  let secret: string | undefined;
  if (!opts.force && (sameIdentity || existing === undefined)) {
    const old = (await readIfExists(secretFile))?.trim();
    if (old && old.length >= 24) secret = old;
  }
  const freshSecret = secret === undefined;
  secret ??= newSecret();

  let hardware: unknown = sameIdentity ? existing?.hardware : undefined;
  if (opts.hardwareFile) hardware = await readJsonFile(opts.hardwareFile, '--hardware');
  if (hardware !== undefined) {
    const h = hardwareConfigSchema.safeParse(hardware);
    if (!h.success) {
      const issue = h.error.issues[0]!;
      throw new UsageError(`--hardware: hardware.${issue.path.join('.')}: ${issue.message}`);
    }
  }
  const base = sameIdentity ? existing! : {};
  const raw = {
    ...base,
    configVersion: 1,
    vehicle: {
      id: opts.vehicleId,
      unit: opts.unit,
      ...(opts.callSign ? { callSign: opts.callSign } : {}),
      homeBeat: beat.id,
      sector: beat.sector,
      precinct: beat.precinct,
      mode: opts.mode ?? 'car',
    },
    brokers: opts.brokers.map((b) => ({
      url: b.url,
      ...(b.precinct ? { precinct: b.precinct } : {}),
      ...(opts.caFile && /^(mqtts|wss):/.test(b.url) ? { caFile: BROKER_CA } : {}),
    })),
    credentials: { passwordFile: PASSWORD_CREDENTIAL },
    ...(opts.uiPort !== undefined ? { ui: { ...((base.ui as object | undefined) ?? {}), host: '127.0.0.1', port: opts.uiPort } } : {}),
    ...(opts.stateDir ? { stateDir: resolve(opts.stateDir) } : {}),
    ...(opts.departmentFile ? { departmentFile: resolve(opts.departmentFile) } : {}),
    ...(hardware !== undefined ? { hardware } : {}),
  };
  // Validate exactly what the daemon will load (defaults are not written: the file stays short).
  const config = parseConfig(vehicleConfigSchema, raw, configFile);
  const text = JSON.stringify(raw, null, 2) + '\n';

  // Register first: if the precinct refuses, nothing on this MDT changes.
  const req: RegisterVehicle = { vehicleId: opts.vehicleId, unitId: opts.unit, sector: beat.sector, secret, ...(opts.force ? { replace: true } : {}) };
  const outcomes: ProvisionResult['outcomes'] = [];
  for (const r of opts.registrars) {
    const outcome = await r.register(req);
    outcomes.push({ where: r.where, outcome });
    opts.print(`registered vehicle ${opts.vehicleId} with ${r.where}: ${outcome}`);
  }

  await mkdir(dir, { recursive: true, mode: 0o750 });
  const wrote = freshSecret || text !== existingText;
  if (freshSecret) await writeFileAtomic(secretFile, secret + '\n', 0o600);
  if (ca !== undefined) await writeFileAtomic(join(dir, BROKER_CA), ca, 0o644);
  const owner = opts.owner ?? (await defaultOwner());
  if (text !== existingText) {
    await writeFileAtomic(configFile, text, 0o600);
    if (owner) await chownTo(configFile, owner);
  }
  opts.print(
    wrote
      ? `wrote ${configFile} (0600${owner ? `, owner ${owner}` : ''})${freshSecret ? ` and ${secretFile} (0600, the systemd credential "${PASSWORD_CREDENTIAL}")` : ''}`
      : `${configFile} already provisioned as vehicle ${opts.vehicleId}: nothing changed`,
  );
  opts.print(`vehicle ${opts.vehicleId}, unit ${opts.unit}, beat ${beat.id}, sector ${beat.sector}, precinct ${beat.precinct}; brokers ${opts.brokers.map((b) => b.url).join(', ')}`);
  opts.print(`next: mdt selftest --config ${configFile}`);
  return { config, configFile, secretFile, outcomes, wrote };
}

/** The car's service user (deploy/install.sh creates it), when root provisions: it must read the config. */
async function defaultOwner(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    await run('id', ['-u', 'mdt']);
    return 'mdt';
  } catch {
    return undefined;
  }
}

async function chownTo(file: string, user: string): Promise<void> {
  let uid: number;
  let gid: number;
  try {
    uid = Number((await run('id', ['-u', user])).stdout.trim());
    gid = Number((await run('id', ['-g', user])).stdout.trim());
  } catch {
    throw new UsageError(`--owner: no such user ${user} (install.sh creates it)`);
  }
  await chown(file, uid, gid);
}

// ---- operator tokens -------------------------------------------------------------------------

/** From --token-file, or $MDT_OPERATOR_TOKEN: never a command-line value, which `ps` would show. */
export async function readToken(tokenFile: string | undefined): Promise<string | undefined> {
  if (tokenFile) {
    const text = await readIfExists(tokenFile);
    if (text === undefined) throw new UsageError(`--token-file: ${tokenFile} does not exist`);
    const token = text.trim();
    if (!token) throw new UsageError(`--token-file: ${tokenFile} is empty`);
    return token;
  }
  const env = process.env.MDT_OPERATOR_TOKEN?.trim();
  return env ? env : undefined;
}

// ---- mdt precinct-admin ----------------------------------------------------------------------

export interface AdminTarget {
  precinct?: PrecinctConfig;
  apiUrl?: string;
  token?: string;
}

/** The running station's API when it answers (or --api was given), else undefined. */
async function fleetClientFor(t: AdminTarget, action: string): Promise<FleetClient | undefined> {
  const url = t.apiUrl ?? (t.precinct && (await stationRunning(t.precinct)) ? stationApiUrl(t.precinct) : undefined);
  if (!url) return undefined;
  if (!t.token) throw new UsageError(`the station is running: ${action} goes through its API; give --token-file FILE (a fleet or watch_commander operator token) or set MDT_OPERATOR_TOKEN`);
  return new FleetClient(url, t.token);
}

function needPrecinct(t: AdminTarget): PrecinctConfig {
  if (!t.precinct) throw new UsageError('--config FILE (the precinct config) or --api URL is required');
  return t.precinct;
}

export async function listVehicles(t: AdminTarget): Promise<VehicleSummary[]> {
  const client = await fleetClientFor(t, 'listing');
  if (client) return client.list();
  const registry = await VehicleRegistry.open(registryFile(needPrecinct(t)));
  return registry
    .list()
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([vehicleId, v]) => summary(vehicleId, v));
}

export async function revokeVehicle(t: AdminTarget, vehicleId: string): Promise<{ summary: VehicleSummary; alreadyRevoked: boolean; effect: string }> {
  const client = await fleetClientFor(t, 'revocation');
  if (client) {
    const r = await client.revoke(vehicleId);
    const { alreadyRevoked, effect, ...summary } = r;
    return { summary, alreadyRevoked, effect };
  }
  const file = registryFile(needPrecinct(t));
  const registry = await VehicleRegistry.open(file);
  const before = registry.get(vehicleId);
  if (!before) throw new UsageError(`vehicle ${vehicleId} is not registered in ${file}`);
  const alreadyRevoked = before.revokedAt !== undefined;
  if (!alreadyRevoked) {
    await registry.revoke(vehicleId);
    await ownedLikeDir(file, needPrecinct(t).stateDir);
  }
  const v = registry.get(vehicleId)!;
  return {
    summary: { vehicleId, unitId: v.unitId, sector: v.sector, precinct: v.precinct, registeredAt: new Date(v.registeredAt).toISOString(), revokedAt: new Date(v.revokedAt!).toISOString() },
    alreadyRevoked,
    effect: 'refused from the station\'s next start',
  };
}

export function parseRole(role: unknown): StaffRole {
  if (typeof role !== 'string' || !(STAFF_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role: expected one of ${STAFF_ROLES.join(', ')}, got ${role === undefined ? 'nothing' : `"${String(role)}"`}`);
  }
  return role as StaffRole;
}

/**
 * Adds (or re-keys) an operator in the station's operators file and returns the token, shown
 * once. The station reads the file at start: a running one needs a restart to know the operator.
 */
export async function addOperator(precinct: PrecinctConfig, id: string, role: StaffRole): Promise<{ token: string; file: string; restartNeeded: boolean }> {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new UsageError(`operator id: expected 1-40 letters, digits, "_" or "-", got "${id}"`);
  await mkdir(precinct.stateDir, { recursive: true, mode: 0o750 });
  const file = join(precinct.stateDir, 'operators.json');
  const operators = await OperatorRegistry.open(file);
  const token = await operators.add(id, role);
  await ownedLikeDir(file, precinct.stateDir);
  return { token, file, restartNeeded: await stationRunning(precinct) };
}

export async function adminTarget(values: { config?: string; api?: string; tokenFile?: string }): Promise<AdminTarget> {
  return {
    ...(values.config ? { precinct: await loadPrecinctConfig(values.config) } : {}),
    ...(values.api ? { apiUrl: values.api } : {}),
    ...(await readToken(values.tokenFile).then((token) => (token ? { token } : {}))),
  };
}
