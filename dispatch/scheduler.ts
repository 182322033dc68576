// node-cron drives the dispatcher in real time: a tick every second for hold deadlines, and a job
// at each shift boundary of the schedule (in the schedule's time zone) for the change of watch.
// No deadline lives in a timer: the tick reads the deadlines from the boards, so a restarted
// precinct re-arms every hold simply by starting (and its first pass dispatches what came due
// while it was down).
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../sync/schema.js';
import type { Dispatcher } from './dispatcher.js';
import { shiftBoundaries, type Schedule } from './schedule.js';

export interface RunningScheduler {
  stop(): Promise<void>;
}

/** The node-cron expression (with seconds) for a local HH:MM every day. */
export function dailyAt(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `0 ${m} ${h} * * *`;
}

export function startDispatchScheduler(dispatcher: Dispatcher, schedule: Schedule | undefined, log: Logger): RunningScheduler {
  const tasks: ScheduledTask[] = [];
  const guard = (what: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      log.error({ err }, `${what} failed`);
    }
  };
  // noOverlap: a slow pass (a large board) must not start a second one on top of it.
  tasks.push(cron.schedule('* * * * * *', guard('hold deadline tick', () => dispatcher.tick()), { name: 'dispatch-tick', noOverlap: true }));
  if (schedule) {
    for (const hhmm of shiftBoundaries(schedule)) {
      tasks.push(
        cron.schedule(
          dailyAt(hhmm),
          guard('shift change', async () => {
            log.info({ at: hhmm, timeZone: schedule.timeZone }, 'shift change');
            await dispatcher.shiftChange();
          }),
          { name: `shift-change-${hhmm}`, timezone: schedule.timeZone, noOverlap: true },
        ),
      );
    }
  }
  return {
    async stop() {
      for (const t of tasks) {
        await t.stop();
        await t.destroy();
      }
    },
  };
}
