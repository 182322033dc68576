// Entry point behind `mdt precinct`: config → logger → composition root → run until a signal.
import { loadPrecinctConfig, SAMPLE_DEPARTMENT } from './config.js';
import { createLogger } from './log.js';
import { loadDepartment } from './department.js';
import { installCrashHandlers, notifySystemd, stopOnSignal } from './lifecycle.js';
import { startPrecinct } from './precinct.js';

export async function runPrecinct(configFile: string): Promise<void> {
  const config = await loadPrecinctConfig(configFile);
  const log = createLogger({ level: config.log.level }).child({ program: 'precinct', precinct: config.precinct.id });
  installCrashHandlers(log);
  const department = await loadDepartment(config.departmentFile ?? SAMPLE_DEPARTMENT);
  const precinct = await startPrecinct({ config, department, log });
  notifySystemd('--ready', log);
  await stopOnSignal(() => precinct.stop(), log);
}
