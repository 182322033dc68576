// A precinct N started through the real composition root with a yearly schedule for sector B (one
// unit per beat and watch, NB11..NB33, covering last year to next year so a test near New Year
// still finds a watch on duty): automatic dispatch runs only with a schedule.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import { scheduledBeatOfficers, uniformSchedule, type Schedule } from '../../../dispatch/schedule.js';
import type { Fleet, PrecinctDispatchConfig } from '../../helpers/fleet.js';

export interface ScheduledPrecinct {
  precinct: RunningPrecinct;
  schedule: Schedule;
  /** The unit on duty on a beat now, by the schedule. */
  officer(beat: string): string;
}

export async function startScheduledPrecinct(fleet: Fleet, dispatch: PrecinctDispatchConfig = {}): Promise<ScheduledPrecinct> {
  const year = new Date().getUTCFullYear();
  const base = uniformSchedule(fleet.department, ['B'], year);
  const schedule: Schedule = { ...base, assignments: base.assignments.map((a) => ({ ...a, from: `${year - 1}-01-01`, to: `${year + 1}-12-31` })) };
  const scheduleFile = join(fleet.dir, 'schedule.json');
  await writeFile(scheduleFile, JSON.stringify(schedule));
  const precinct = await fleet.addPrecinct({ id: 'N', dispatch: { ...dispatch, scheduleFile } }); // stopped by fleet.close()
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
