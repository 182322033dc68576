// Builds the car's hardware adapters from the config's `hardware` section. The only place that
// knows which class serves which `kind`; daemon/vehicle.ts receives the interfaces.
import type { HardwareConfig } from './config.js';
import type { HardwareLogger } from './logger.js';
import { silentLogger } from './logger.js';
import { GpsdSource } from './gpsd-client.js';
import { SimGps } from './sim-gps.js';
import { SimModem } from './sim-modem.js';
import { SimInputs } from './sim-inputs.js';
import { NoInputs, NoModem } from './not-fitted.js';
import { type Clock, type GpsSource, type ModemSource, type VehicleInputs, systemClock } from './types.js';

export interface HardwareSet {
  gps: GpsSource;
  modem: ModemSource;
  inputs: VehicleInputs;
}

export interface HardwareDeps {
  log?: HardwareLogger;
  clock?: Clock;
  /** The home beat's outer ring, [lon, lat]: where a simulated GPS patrols. */
  beatPolygon?: Array<[number, number]>;
}

export function createHardware(cfg: HardwareConfig, deps: HardwareDeps = {}): HardwareSet {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  return { gps: createGps(cfg, deps, log, clock), modem: createModem(cfg, log, clock), inputs: createInputs(cfg, log, clock) };
}

function createGps(cfg: HardwareConfig, deps: HardwareDeps, log: HardwareLogger, clock: Clock): GpsSource {
  const gps = cfg.gps;
  if (gps.kind === 'gpsd') {
    return new GpsdSource({ host: gps.host, port: gps.port, staleAfterMs: gps.staleAfterMs, silenceTimeoutMs: gps.silenceTimeoutMs, log, clock });
  }
  if (!deps.beatPolygon) throw new Error('a simulated GPS needs the home beat polygon');
  return new SimGps({ polygon: deps.beatPolygon, speedMps: gps.speedMps, intervalMs: gps.intervalMs, clock, log, ...(gps.seed !== undefined ? { seed: gps.seed } : {}) });
}

function createModem(cfg: HardwareConfig, log: HardwareLogger, clock: Clock): ModemSource {
  switch (cfg.modem.kind) {
    case 'sim':
      return new SimModem({ clock, log, ...(cfg.modem.seed !== undefined ? { seed: cfg.modem.seed } : {}) });
    case 'none':
      return new NoModem();
    default:
      throw new Error(`modem kind "${cfg.modem.kind}" is not available in this build`);
  }
}

function createInputs(cfg: HardwareConfig, log: HardwareLogger, clock: Clock): VehicleInputs {
  switch (cfg.inputs.kind) {
    case 'sim':
      return new SimInputs(clock, log);
    case 'none':
      return new NoInputs();
    default:
      throw new Error(`inputs kind "${cfg.inputs.kind}" is not available in this build`);
  }
}
