// A precinct N started through the real composition root with a yearly schedule for sector B (one
// unit per beat and watch, NB11..NB33, covering last year to next year so a test near New Year
// still finds a watch on duty): automatic dispatch runs only with a schedule.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, precinctConfigSchema } from '../../../daemon/config.js';
import { startPrecinct, type RunningPrecinct } from '../../../daemon/precinct.js';
import { scheduledBeatOfficers, uniformSchedule, type Schedule } from '../../../dispatch/schedule.js';
import { testLogger, type Fleet } from '../../helpers/fleet.js';

export interface ScheduledPrecinct {
  precinct: RunningPrecinct;
  schedule: Schedule;
  /** The unit on duty on a beat now, by the schedule. */
  officer(beat: string): string;
}

export async function startScheduledPrecinct(fleet: Fleet): Promise<ScheduledPrecinct> {
  const year = new Date().getUTCFullYear();
  const base = uniformSchedule(fleet.department, ['B'], year);
  const schedule: Schedule = { ...base, assignments: base.assignments.map((a) => ({ ...a, from: `${year - 1}-01-01`, to: `${year + 1}-12-31` })) };
  const scheduleFile = join(fleet.dir, 'schedule.json');
  await writeFile(scheduleFile, JSON.stringify(schedule));
  const config = parseConfig(
    precinctConfigSchema,
    {
      precinct: { id: 'N', name: 'North Precinct' },
      mqtt: { host: '127.0.0.1', port: 0 },
      api: { host: '127.0.0.1', port: 0 },
      stateDir: join(fleet.dir, 'precinct-N'),
      dispatch: { scheduleFile },
    },
    'test precinct',
  );
  const precinct = await startPrecinct({ config, department: fleet.department, log: testLogger() });
  fleet.precincts.push(precinct); // stopped by fleet.close()
  return {
    precinct,
    schedule,
    officer(beat) {
      const u = scheduledBeatOfficers(schedule, beat, Date.now())[0];
      if (!u) throw new Error(`no unit scheduled on beat ${beat} now`);
      return u;
    },
  };
}
