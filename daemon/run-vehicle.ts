// Entry point behind `mdt vehicle`: config → logger → composition root → run until a signal.
// Kept apart from the precinct's entry point so a car never loads the station's modules (broker,
// dispatch, CAD/CARE API), which cost it start time (docs/sector-board.md, "Start").
import { loadVehicleConfig, readVehiclePassword, SAMPLE_DEPARTMENT } from './config.js';
import { createLogger } from './log.js';
import { loadDepartment } from './department.js';
import { installCrashHandlers, notifySystemd, stopOnSignal } from './lifecycle.js';
import { startVehicle } from './vehicle.js';
import { createHardware } from '../hardware/factory.js';
import { ConfigError } from './errors.js';

export async function runVehicle(configFile: string): Promise<void> {
  const config = await loadVehicleConfig(configFile);
  const log = createLogger({ level: config.log.level }).child({ program: 'vehicle', vehicle: config.vehicle.id });
  installCrashHandlers(log);
  const department = await loadDepartment(config.departmentFile ?? SAMPLE_DEPARTMENT);
  const beat = department.beats[config.vehicle.homeBeat];
  if (!beat) throw new ConfigError(configFile, 'vehicle.homeBeat', `beat ${config.vehicle.homeBeat} is not in the department file`);
  if (beat.sector !== config.vehicle.sector) {
    throw new ConfigError(configFile, 'vehicle.sector', `beat ${beat.id} belongs to sector ${beat.sector}, not ${config.vehicle.sector}`);
  }
  const hardware = createHardware(config.hardware, { log: log.child({ component: 'hardware' }), beatPolygon: beat.rings[0] });
  const vehicle = await startVehicle({ config, password: await readVehiclePassword(config), hardware, department, log });
  notifySystemd('--ready', log);
  await stopOnSignal(() => vehicle.stop(), log);
}
