// Configuration files a fleet technician or precinct admin reads and edits (JSON; examples in
// deploy/). Validated at start with zod; the first problem is reported as `file: field: problem`.
// Defaults are the safe choice: UI and API on loopback, broker authentication always on.
import { readFile } from 'node:fs/promises';
import { resolve, dirname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { hardwareConfigSchema } from '../hardware/config.js';
import { packagePath } from './paths.js';

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected 1-40 letters, digits, "_", "." or "-"');
const port = z.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const brokerUrl = z
  .string()
  .regex(/^(mqtts?|wss?):\/\/[^\s/]+/, 'expected an mqtt://, mqtts://, ws:// or wss:// URL with a host');

export const vehicleConfigSchema = z
  .object({
    configVersion: z.literal(1).default(1),
    vehicle: z
      .object({
        id: id.describe('fleet asset number, also the MQTT username'),
        unit: id.describe('unit id / call sign'),
        callSign: z.string().min(1).max(40).optional(),
        homeBeat: id,
        sector: id,
        precinct: id,
        mode: z.enum(['car', 'foot', 'bicycle']).default('car'),
      })
      .strict(),
    brokers: z
      .array(z.object({ url: brokerUrl, precinct: id.optional(), caFile: z.string().optional() }).strict())
      .min(1, 'list at least the home precinct broker'),
    credentials: z
      .object({ password: z.string().min(8).optional(), passwordFile: z.string().optional() })
      .strict()
      .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), 'give exactly one of password or passwordFile'),
    ui: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(8080),
        /** Binding the screen to a non-loopback address exposes the officer's UI to the car's network. */
        allowRemote: z.boolean().default(false),
        lockAfterSeconds: z.number().int().min(30).max(3600).default(300),
      })
      .strict()
      .refine((u) => u.allowRemote || LOOPBACK.includes(u.host), {
        message: 'must be a loopback address unless ui.allowRemote is true',
        path: ['host'],
      })
      .default({ host: '127.0.0.1', port: 8080, allowRemote: false, lockAfterSeconds: 300 }),
    stateDir: z.string().default('/var/lib/mdt'),
    departmentFile: z.string().optional(),
    /** The department's station directory for the beat page (daemon/department.ts loadStations); default: the sample department's. */
    stationsFile: z.string().optional(),
    avl: z
      .object({
        /** Send a position at most this often, and at least every maxIntervalMs while moving. */
        minIntervalMs: z.number().int().min(200).default(1000),
        maxIntervalMs: z.number().int().min(1000).default(10_000),
      })
      .strict()
      .default({ minIntervalMs: 1000, maxIntervalMs: 10_000 }),
    hardware: hardwareConfigSchema,
    log: z.object({ level: logLevel.default('info') }).strict().default({ level: 'info' }),
  })
  .strict();

export const precinctConfigSchema = z
  .object({
    configVersion: z.literal(1).default(1),
    precinct: z.object({ id, name: z.string().min(1) }).strict(),
    /** Sectors this station serves; default: every sector of the precinct in the department file. */
    sectors: z.array(id).min(1).optional(),
    mqtt: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(1883),
        tls: z
          .object({ host: z.string().default('0.0.0.0'), port: port.default(8883), certFile: z.string(), keyFile: z.string(), caFile: z.string().optional() })
          .strict()
          .optional(),
        /**
         * Use an existing broker (e.g. Mosquitto, deploy/mosquitto-precinct.conf) instead of the
         * embedded aedes: the station connects to it as `precinct-{id}`; credentials and ACL are
         * the broker's (generated from the vehicle registry, docs/sync-protocol.md).
         */
        external: z
          .object({ url: brokerUrl, password: z.string().min(8).optional(), passwordFile: z.string().optional(), caFile: z.string().optional() })
          .strict()
          .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), 'give exactly one of password or passwordFile')
          .optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 1883 }),
    /** Neighbouring precinct brokers this station relays roaming cars to (sync/precinct-link.ts). */
    links: z
      .array(
        z
          .object({ precinct: id, url: brokerUrl, password: z.string().min(8).optional(), passwordFile: z.string().optional(), caFile: z.string().optional() })
          .strict()
          .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), 'give exactly one of password or passwordFile'),
      )
      .default([]),
    api: z
      .object({ host: z.string().default('127.0.0.1'), port: port.default(8090) })
      .strict()
      .default({ host: '127.0.0.1', port: 8090 }),
    stateDir: z.string().default('/var/lib/mdt-precinct'),
    departmentFile: z.string().optional(),
    /** Officers who may sign on (sync/roster.ts file format); default: roster.json in stateDir. */
    rosterFile: z.string().optional(),
    /** The dispatch policy (docs/dispatch.md). */
    dispatch: z
      .object({
        /** How long a non-emergency call waits for its busy beat officer before going to another unit. */
        holdMinutes: z.number().positive().max(240).default(30),
        /** The yearly schedule (JSON or CSV, docs/dispatch.md); without it the board's roster (home beats) names beat officers. */
        scheduleFile: z.string().optional(),
        /** A call reported this long after the incident (CAD `occurredAt`) is a late report: the beat officer's, even at P1. */
        lateReportMinutes: z.number().int().min(1).max(10_080).default(60),
      })
      .strict()
      .default({ holdMinutes: 30, lateReportMinutes: 60 }),
    /** Sector board epochs (docs/sector-board.md, "Epochs"): the daily cut and how long a closed epoch stays live. */
    epochs: z
      .object({
        /** Local time of the daily cut: a quiet hour, away from the shift change's sign-ons. */
        rolloverAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)').default('04:00'),
        /** IANA time zone of rolloverAt and of the epoch ids (the service day); default: the system's. */
        timeZone: z.string().refine(isTimeZone, 'expected an IANA time zone such as America/Los_Angeles').optional(),
        /** A closed epoch keeps syncing with late cars this long after the cut (or its last late edit), then is archived. */
        keepClosedHours: z.number().positive().max(24 * 30).default(24),
        /** How often closed epochs are checked against keepClosedHours for archiving. */
        archiveCheckMinutes: z.number().positive().max(24 * 60).default(10),
      })
      .strict()
      .default({ rolloverAt: '04:00', keepClosedHours: 24, archiveCheckMinutes: 10 }),
    log: z.object({ level: logLevel.default('info') }).strict().default({ level: 'info' }),
  })
  .strict();

export type VehicleConfig = z.infer<typeof vehicleConfigSchema>;
export type PrecinctConfig = z.infer<typeof precinctConfigSchema>;

/** The sample department (real Seattle PD beat polygons) used when no department file is set. */
export const SAMPLE_DEPARTMENT = packagePath('deploy', 'sample-department', 'seattle-spd-beats-2018.geojson');
/** The sample department's (invented) stations, used when no stations file is set. */
export const SAMPLE_STATIONS = packagePath('deploy', 'sample-department', 'stations.json');

function firstIssue(file: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(root)';
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') problem = `unknown field(s) ${issue.keys.join(', ')}`;
  return new ConfigError(file, field, problem);
}

export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, file: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw firstIssue(file, result.error);
  return result.data;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
}

/** Relative paths in a config file are relative to the file, so a config dir can be moved whole. */
function relativeTo(file: string, p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  return isAbsolute(p) ? p : resolve(dirname(resolve(file)), p);
}

export async function loadVehicleConfig(file: string): Promise<VehicleConfig> {
  const cfg = parseConfig(vehicleConfigSchema, await readJson(file), file);
  cfg.stateDir = relativeTo(file, cfg.stateDir)!;
  cfg.departmentFile = relativeTo(file, cfg.departmentFile);
  cfg.stationsFile = relativeTo(file, cfg.stationsFile);
  if (cfg.credentials.passwordFile) cfg.credentials.passwordFile = resolvePasswordFile(cfg.credentials.passwordFile, file);
  for (const b of cfg.brokers) b.caFile = relativeTo(file, b.caFile);
  return cfg;
}

export async function loadPrecinctConfig(file: string): Promise<PrecinctConfig> {
  const cfg = parseConfig(precinctConfigSchema, await readJson(file), file);
  cfg.stateDir = relativeTo(file, cfg.stateDir)!;
  cfg.departmentFile = relativeTo(file, cfg.departmentFile);
  cfg.rosterFile = relativeTo(file, cfg.rosterFile);
  cfg.dispatch.scheduleFile = relativeTo(file, cfg.dispatch.scheduleFile);
  if (cfg.mqtt.tls) {
    cfg.mqtt.tls.certFile = relativeTo(file, cfg.mqtt.tls.certFile)!;
    cfg.mqtt.tls.keyFile = relativeTo(file, cfg.mqtt.tls.keyFile)!;
    cfg.mqtt.tls.caFile = relativeTo(file, cfg.mqtt.tls.caFile);
  }
  if (cfg.mqtt.external) {
    cfg.mqtt.external.passwordFile = relativeTo(file, cfg.mqtt.external.passwordFile);
    cfg.mqtt.external.caFile = relativeTo(file, cfg.mqtt.external.caFile);
  }
  for (const l of cfg.links) {
    l.passwordFile = relativeTo(file, l.passwordFile);
    l.caFile = relativeTo(file, l.caFile);
  }
  return cfg;
}

/**
 * Where the car's broker password is read from. Under systemd, `LoadCredential=NAME:/etc/mdt/NAME`
 * puts it in `$CREDENTIALS_DIRECTORY/NAME`, readable by the service user only, while the original
 * stays root-only: a relative `passwordFile` therefore names that credential when the variable is
 * set, and a file beside the config otherwise (a technician running `mdt selftest` as root). The
 * same config works both ways.
 */
export function resolvePasswordFile(passwordFile: string, configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (isAbsolute(passwordFile)) return passwordFile;
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials) return resolve(credentials, passwordFile);
  return configFile ? resolve(dirname(resolve(configFile)), passwordFile) : resolve(passwordFile);
}

/** The car's broker password: from the config, or from a file (systemd LoadCredential). */
export async function readVehiclePassword(cfg: VehicleConfig, configFile?: string): Promise<string> {
  if (cfg.credentials.password) return cfg.credentials.password;
  const file = resolvePasswordFile(cfg.credentials.passwordFile!, configFile);
  let secret: string;
  try {
    secret = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new ConfigError(configFile ?? 'vehicle config', 'credentials.passwordFile', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (secret.length < 8) throw new ConfigError(configFile ?? 'vehicle config', 'credentials.passwordFile', `${file} holds no password (under 8 characters)`);
  return secret;
}
