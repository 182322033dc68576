// The precinct's epochs in real time: node-cron runs the daily cut at a quiet local hour, and a
// timer checks for closed epochs whose grace period is over (every ten minutes by default). No
// state lives in a timer: the grace is read from the boards (the cut time and the last late edit),
// so a restarted station archives what came due while it was down at its first check.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from './logger.js';
import type { PrecinctEpochs } from './precinct-epochs.js';

export interface EpochScheduleOptions {
  sectors: PrecinctEpochs[];
  /** Local HH:MM of the daily cut. */
  rolloverAt: string;
  timeZone?: string | undefined;
  /** How often closed epochs are checked for archiving (default ten minutes). */
  archiveEveryMs?: number;
  log: Logger;
}

export interface RunningEpochSchedule {
  stop(): Promise<void>;
}

export const DEFAULT_ARCHIVE_EVERY_MS = 10 * 60_000;

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
  const rollover: ScheduledTask = cron.schedule(`0 ${m} ${h} * * *`, each('epoch rollover', (e) => e.rollover()), { name: 'epoch-rollover', noOverlap: true, ...tz });
  const archive = each('epoch archiving', (e) => e.archiveDue());
  // A check still running when the next is due is not doubled: the next one starts after it.
  let archiving: Promise<void> | undefined;
  const archiveEveryMs = opts.archiveEveryMs ?? DEFAULT_ARCHIVE_EVERY_MS;
  if (!(archiveEveryMs > 0)) throw new Error(`archiveEveryMs must be a positive number of milliseconds, got ${archiveEveryMs}`);
  const timer = setInterval(() => {
    archiving ??= archive().finally(() => (archiving = undefined));
  }, archiveEveryMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await archiving;
      await rollover.stop();
      await rollover.destroy();
    },
  };
}
