// node-cron drives the precinct's epochs in real time: the daily cut at a quiet local hour, and a
// check every ten minutes for closed epochs whose grace period is over. No state lives in a timer:
// the grace is read from the boards (the cut time and the last late edit), so a restarted station
// archives what came due while it was down at its first check.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from './logger.js';
import type { PrecinctEpochs } from './precinct-epochs.js';

export interface EpochScheduleOptions {
  sectors: PrecinctEpochs[];
  /** Local HH:MM of the daily cut. */
  rolloverAt: string;
  timeZone?: string | undefined;
  log: Logger;
}

export interface RunningEpochSchedule {
  stop(): Promise<void>;
}

export function startEpochSchedule(opts: EpochScheduleOptions): RunningEpochSchedule {
  const [h, m] = opts.rolloverAt.split(':').map(Number);
  const each = (what: string, fn: (e: PrecinctEpochs) => Promise<unknown>) => async () => {
    for (const e of opts.sectors) {
      try {
        await fn(e);
      } catch (err) {
        opts.log.error({ err, epoch: e.epoch }, `${what} failed; retried at the next run`);
      }
    }
  };
  const tz = opts.timeZone ? { timezone: opts.timeZone } : {};
  const tasks: ScheduledTask[] = [
    cron.schedule(`0 ${m} ${h} * * *`, each('epoch rollover', (e) => e.rollover()), { name: 'epoch-rollover', noOverlap: true, ...tz }),
    cron.schedule('0 */10 * * * *', each('epoch archiving', (e) => e.archiveDue()), { name: 'epoch-archive', noOverlap: true }),
  ];
  return {
    async stop() {
      for (const t of tasks) {
        await t.stop();
        await t.destroy();
      }
    },
  };
}
