// Builds the car's hardware adapters from the config's `hardware` section. The only place that
// knows which class serves which `kind`; daemon/vehicle.ts receives the interfaces.
import type { HardwareConfig } from './config.js';
import { GpsdSource } from './gpsd-client.js';
import { SerialInputs } from './inputs-serial.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { MmcliSource } from './mmcli-source.js';
import { AtModemSource } from './modem-source.js';
import { NoInputs, NoModem } from './not-fitted.js';
import { SimGps } from './sim-gps.js';
import { SimInputs } from './sim-inputs.js';
import { SimModem } from './sim-modem.js';
import { type Clock, type GpsSource, type ModemSource, type VehicleInputs, systemClock } from './types.js';

export interface HardwareSet {
  gps: GpsSource;
  modem: ModemSource;
  inputs: VehicleInputs;
}

export interface HardwareDeps {
  /** Each adapter logs through `log.child`-style fields `{ device }`; pino's logger fits. */
  log?: HardwareLogger;
  clock?: Clock;
  /** The home beat's outer ring, [lon, lat]: where a simulated GPS patrols. */
  beatPolygon?: Array<[number, number]>;
}

/**
 * Constructs (does not start) one adapter per device. Throws only on a config the schema
 * cannot catch: a simulated GPS without a beat polygon.
 */
export function createHardware(cfg: HardwareConfig, deps: HardwareDeps = {}): HardwareSet {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  return {
    gps: createGps(cfg, deps.beatPolygon, tagged(log, 'gps'), clock),
    modem: createModem(cfg, tagged(log, 'modem'), clock),
    inputs: createInputs(cfg, tagged(log, 'inputs'), clock),
  };
}

function createGps(cfg: HardwareConfig, beatPolygon: Array<[number, number]> | undefined, log: HardwareLogger, clock: Clock): GpsSource {
  const gps = cfg.gps;
  if (gps.kind === 'gpsd') {
    return new GpsdSource({ host: gps.host, port: gps.port, staleAfterMs: gps.staleAfterMs, silenceTimeoutMs: gps.silenceTimeoutMs, log, clock });
  }
  if (!beatPolygon || beatPolygon.length < 3) throw new Error('hardware.gps.kind "sim" needs the home beat polygon');
  return new SimGps({ polygon: beatPolygon, speedMps: gps.speedMps, intervalMs: gps.intervalMs, clock, log, ...(gps.seed !== undefined && { seed: gps.seed }) });
}

function createModem(cfg: HardwareConfig, log: HardwareLogger, clock: Clock): ModemSource {
  const modem = cfg.modem;
  switch (modem.kind) {
    case 'at':
      return new AtModemSource({ path: modem.path, baudRate: modem.baudRate, pollMs: modem.pollMs, commandTimeoutMs: modem.commandTimeoutMs, log, clock });
    case 'mmcli':
      return new MmcliSource({ modem: modem.modem, pollMs: modem.pollMs, log, clock });
    case 'sim':
      return new SimModem({ clock, log, ...(modem.seed !== undefined && { seed: modem.seed }) });
    case 'none':
      return new NoModem(clock);
  }
}

function createInputs(cfg: HardwareConfig, log: HardwareLogger, clock: Clock): VehicleInputs {
  const inputs = cfg.inputs;
  switch (inputs.kind) {
    case 'serial':
      return new SerialInputs({
        path: inputs.path,
        baudRate: inputs.baudRate,
        debounceMs: inputs.debounceMs,
        heartbeatTimeoutMs: inputs.heartbeatTimeoutMs,
        log,
        clock,
      });
    case 'sim':
      return new SimInputs({ clock, log });
    case 'none':
      return new NoInputs(clock);
  }
}

/** Adds `{ device }` to every line so one hardware logger serves all three adapters. */
function tagged(log: HardwareLogger, device: string): HardwareLogger {
  return {
    debug: (o, m) => log.debug({ device, ...o }, m),
    info: (o, m) => log.info({ device, ...o }, m),
    warn: (o, m) => log.warn({ device, ...o }, m),
    error: (o, m) => log.error({ device, ...o }, m),
  };
}
