// One line of gpsd's JSON protocol -> a typed report, or a rejection saying why.
// Field names and meanings follow gpsd's `gpsd_json(5)` (man/gpsd_json.xml, protocol 3.14 as
// shipped in gpsd 3.22). gpsd omits empty attributes rather than sending null, so every field
// other than `class` (and TPV `mode`) is optional. Unknown extra fields are kept: newer gpsd
// releases add fields (e.g. `altHAE` replaced `alt`) and that must not break us.
import { z } from 'zod';

/** gpsd caps a report at 1536 bytes and may truncate longer ones (gpsd_json(5), "GPSD_JSON_MAX"). */
export const GPSD_MAX_LINE_CHARS = 1536;

const num = z.number().finite();

const versionSchema = z.looseObject({
  class: z.literal('VERSION'),
  release: z.string(),
  rev: z.string().optional(),
  proto_major: z.number().int(),
  proto_minor: z.number().int(),
});

// TPV: time-position-velocity. `mode` 0 = not seen yet, 1 = no fix, 2 = 2D, 3 = 3D.
const tpvSchema = z.looseObject({
  class: z.literal('TPV'),
  device: z.string().optional(),
  mode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  /** 2 = DGPS, 3 = RTK fixed, 4 = RTK float, 5 = dead reckoning, ... */
  status: z.number().int().optional(),
  /** ISO 8601 UTC; absent until the receiver reports a time. */
  time: z.string().optional(),
  ept: num.optional(),
  lat: num.min(-90).max(90).optional(),
  lon: num.min(-180).max(180).optional(),
  altHAE: num.optional(),
  altMSL: num.optional(),
  /** Deprecated since 3.20 in favour of altHAE/altMSL; older gpsd sends only this. */
  alt: num.optional(),
  /** Course over ground, degrees from true north. */
  track: num.optional(),
  /** Ground speed, m/s. */
  speed: num.optional(),
  climb: num.optional(),
  /** Horizontal position error estimate, m ("certainty unknown": relative quality only). */
  eph: num.optional(),
  epx: num.optional(),
  epy: num.optional(),
  epv: num.optional(),
  eps: num.optional(),
  leapseconds: z.number().int().optional(),
});

const satelliteSchema = z.looseObject({
  PRN: z.number(),
  el: num.optional(),
  az: num.optional(),
  ss: num.optional(),
  used: z.boolean(),
});

const skySchema = z.looseObject({
  class: z.literal('SKY'),
  device: z.string().optional(),
  time: z.string().optional(),
  hdop: num.optional(),
  pdop: num.optional(),
  /** Satellites seen / used; gpsd >= 3.21 sends these, older only the `satellites` list. */
  nSat: z.number().int().optional(),
  uSat: z.number().int().optional(),
  satellites: z.array(satelliteSchema).optional(),
});

// DEVICE: a device appeared, changed or went away. gpsd announces removal as `"activated":0`
// (seen on the wire with gpsd 3.22); a live device carries an ISO 8601 activation time.
const deviceSchema = z.looseObject({
  class: z.literal('DEVICE'),
  path: z.string().optional(),
  activated: z.union([z.string(), z.number()]).optional(),
  driver: z.string().optional(),
  bps: z.number().optional(),
});

const devicesSchema = z.looseObject({
  class: z.literal('DEVICES'),
  devices: z.array(deviceSchema),
});

const watchSchema = z.looseObject({
  class: z.literal('WATCH'),
  enable: z.boolean().optional(),
  json: z.boolean().optional(),
  device: z.string().optional(),
});

const errorSchema = z.looseObject({
  class: z.literal('ERROR'),
  message: z.string(),
});

export type GpsdVersion = z.infer<typeof versionSchema>;
export type GpsdTpv = z.infer<typeof tpvSchema>;
export type GpsdSky = z.infer<typeof skySchema>;
export type GpsdDevice = z.infer<typeof deviceSchema>;
export type GpsdDevices = z.infer<typeof devicesSchema>;
export type GpsdWatch = z.infer<typeof watchSchema>;
export type GpsdError = z.infer<typeof errorSchema>;

export type GpsdReport = GpsdVersion | GpsdTpv | GpsdSky | GpsdDevices | GpsdDevice | GpsdWatch | GpsdError;

const schemas = {
  VERSION: versionSchema,
  TPV: tpvSchema,
  SKY: skySchema,
  DEVICES: devicesSchema,
  DEVICE: deviceSchema,
  WATCH: watchSchema,
  ERROR: errorSchema,
} as const;

export type GpsdLineResult =
  | { kind: 'report'; report: GpsdReport }
  /** A valid report of a class we do not use (GST, ATT, PPS, TOFF, POLL, ...). */
  | { kind: 'ignored'; class: string }
  | { kind: 'rejected'; reason: string };

/** True when a DEVICE entry describes a device gpsd has closed or lost. */
export function isDeviceDeactivated(device: GpsdDevice): boolean {
  return device.activated === undefined || device.activated === 0 || device.activated === '0';
}

/**
 * Parses one line (without its newline). Never throws: gpsd may truncate long reports, and a
 * port shared with something else may deliver NMEA or binary noise.
 */
export function parseGpsdLine(line: string): GpsdLineResult {
  const text = line.trim();
  if (text.length === 0) return { kind: 'rejected', reason: 'empty line' };
  if (text.length > GPSD_MAX_LINE_CHARS) {
    return { kind: 'rejected', reason: `line of ${text.length} chars exceeds gpsd's ${GPSD_MAX_LINE_CHARS}-char cap` };
  }
  if (!text.startsWith('{')) return { kind: 'rejected', reason: 'not a JSON object (NMEA or noise?)' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'rejected', reason: text.endsWith('}') ? 'invalid JSON' : 'invalid JSON (truncated line?)' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'rejected', reason: 'JSON is not an object' };
  }
  const cls = (value as { class?: unknown }).class;
  if (typeof cls !== 'string') return { kind: 'rejected', reason: 'missing "class"' };
  if (!Object.hasOwn(schemas, cls)) return { kind: 'ignored', class: cls };
  const parsed = schemas[cls as keyof typeof schemas].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return { kind: 'rejected', reason: `${cls} ${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { kind: 'report', report: parsed.data };
}
