// The `hardware` section of the vehicle config: which adapter drives each device, real or
// simulated. Validated with zod at start (daemon/config.ts embeds this schema), so a typo names
// the field instead of failing later at a serial port. Defaults are what a fitted car has: gpsd
// on loopback. The modem and inputs default to "none" (health `missing`, "not fitted") so an
// unconfigured car shows the gap on its screen rather than pretending.
import { z } from 'zod';

const tcpPort = z.number().int().min(1).max(65535);
/** Use the udev `/dev/serial/by-id/...` link: `ttyUSBn` numbering changes between boots. */
const serialPath = z.string().min(1, 'expected a serial device path such as /dev/serial/by-id/...');
const baudRate = z.number().int().positive();

export const gpsConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('gpsd'),
    host: z.string().min(1).default('127.0.0.1'),
    port: tcpPort.default(2947),
    /** A fix older than this is shown stale. */
    staleAfterMs: z.number().int().min(1000).max(600_000).default(5000),
    /** Reconnect when gpsd sends nothing for this long (it reports every second with a receiver). */
    silenceTimeoutMs: z.number().int().min(1000).max(120_000).default(5000),
  }),
  z.strictObject({
    kind: z.literal('sim'),
    /** Cruising speed of the simulated patrol, m/s. */
    speedMps: z.number().positive().max(60).default(11),
    intervalMs: z.number().int().min(100).max(60_000).default(1000),
    seed: z.number().int().optional(),
  }),
]);

export const modemConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('at'),
    path: serialPath,
    baudRate: baudRate.default(115200),
    pollMs: z.number().int().min(1000).max(600_000).default(10_000),
    /** 3GPP TS 27.007 leaves response time open; 2 s covers CSQ/CREG/COPS? on common modules. */
    commandTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
  }),
  z.strictObject({
    kind: z.literal('mmcli'),
    /** ModemManager's modem index or D-Bus path, as `mmcli -m` takes it. */
    modem: z.string().min(1).default('0'),
    pollMs: z.number().int().min(1000).max(600_000).default(10_000),
  }),
  z.strictObject({ kind: z.literal('sim'), seed: z.number().int().optional() }),
  z.strictObject({ kind: z.literal('none') }),
]);

export const inputsConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('serial'),
    path: serialPath,
    baudRate: baudRate.default(9600),
    /** A level must hold this long to count: relay contacts bounce for a few ms. */
    debounceMs: z.number().int().min(0).max(5000).default(50),
    /** The interface module sends `HB` every second; this long without any line = degraded. */
    heartbeatTimeoutMs: z.number().int().min(500).max(60_000).default(3000),
  }),
  z.strictObject({ kind: z.literal('sim') }),
  z.strictObject({ kind: z.literal('none') }),
]);

export type GpsConfig = z.infer<typeof gpsConfigSchema>;
export type ModemConfig = z.infer<typeof modemConfigSchema>;
export type InputsConfig = z.infer<typeof inputsConfigSchema>;

export interface HardwareConfig {
  gps: GpsConfig;
  modem: ModemConfig;
  inputs: InputsConfig;
}

export const defaultHardwareConfig: HardwareConfig = {
  gps: { kind: 'gpsd', host: '127.0.0.1', port: 2947, staleAfterMs: 5000, silenceTimeoutMs: 5000 },
  modem: { kind: 'none' },
  inputs: { kind: 'none' },
};

export const hardwareConfigSchema = z
  .strictObject({
    gps: gpsConfigSchema.default(defaultHardwareConfig.gps),
    modem: modemConfigSchema.default(defaultHardwareConfig.modem),
    inputs: inputsConfigSchema.default(defaultHardwareConfig.inputs),
  })
  .default(defaultHardwareConfig);

/** Parses and defaults a `hardware` section; throws zod's error naming the field on bad input. */
export function parseHardwareConfig(input: unknown): HardwareConfig {
  return hardwareConfigSchema.parse(input);
}
