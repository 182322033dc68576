// Dispatch at a precinct station: loads and validates the yearly schedule, runs the dispatcher on
// the station's sector boards with the AVL positions the station hears, and drives it with
// node-cron. The composition root (daemon/precinct.ts) calls this once; the HTTP API and the
// Watch Commander console read the same object.
import type { Logger } from '../sync/schema.js';
import type { SectorReplica } from '../sync/replica.js';
import type { AvlPosition } from '../sync/avl.js';
import type { Department } from '../daemon/department.js';
import { systemClock, type Clock } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import type { Position } from './policy.js';
import { loadSchedule, scheduledBeatOfficers, coversSector, type Schedule } from './schedule.js';
import { startDispatchScheduler, type RunningScheduler } from './scheduler.js';

export interface DispatchConfig {
  holdMinutes: number;
  scheduleFile?: string | undefined;
  lateReportMinutes: number;
}

export interface StationSector {
  replica: SectorReplica;
  breadcrumbs: Map<string, AvlPosition[]>;
}

export interface PrecinctDispatch {
  /** False without a schedule: the station then dispatches nothing by itself (see below). */
  enabled: boolean;
  dispatcher: Dispatcher;
  /** Decides now (after a CAD or operator action); a no-op when dispatch is off. */
  evaluate(): Promise<void>;
  schedule: Schedule | undefined;
  scheduleWarnings: string[];
  holdMs: number;
  lateReportMs: number;
  clock: Clock;
  /** Whether a unit is a beat officer of a beat at an instant (schedule, else home beat on the board). */
  isBeatOfficer(sector: string, beat: string, unit: string, at: number): boolean;
  stop(): Promise<void>;
}

export async function startPrecinctDispatch(opts: {
  precinct: string;
  department: Department;
  sectors: ReadonlyMap<string, StationSector>;
  config: DispatchConfig;
  log: Logger;
  clock?: Clock;
  /** Tests drive time themselves and leave node-cron out. */
  cron?: boolean;
}): Promise<PrecinctDispatch> {
  const clock = opts.clock ?? systemClock;
  let schedule: Schedule | undefined;
  let scheduleWarnings: string[] = [];
  if (opts.config.scheduleFile) {
    // A bad schedule stops the station at start: dispatching by a schedule nobody checked would
    // send calls to the wrong officers without anyone noticing.
    const loaded = await loadSchedule(opts.config.scheduleFile, opts.department);
    schedule = loaded.schedule;
    scheduleWarnings = loaded.warnings;
    for (const w of loaded.warnings) opts.log.warn({ file: opts.config.scheduleFile }, `schedule: ${w}`);
    opts.log.info({ file: opts.config.scheduleFile, assignments: schedule.assignments.length }, 'schedule loaded');
  } else {
    // The beat officer is known from the yearly schedule; without one the station does not guess
    // (home beats on the board are the car's own claim) and leaves every call to the dispatchers.
    opts.log.warn({}, 'no dispatch.scheduleFile: automatic dispatch is off; calls wait for a dispatcher to assign them');
  }
  const enabled = schedule !== undefined;
  const positions = (s: StationSector) => (): Record<string, Position> => {
    const out: Record<string, Position> = {};
    for (const [unit, trail] of s.breadcrumbs) {
      const last = trail[trail.length - 1];
      if (last) out[unit] = { lat: last.lat, lon: last.lon, at: last.at };
    }
    return out;
  };
  const holdMs = opts.config.holdMinutes * 60_000;
  const dispatcher = new Dispatcher({
    precinct: opts.precinct,
    department: opts.department,
    sectors: new Map([...opts.sectors].map(([id, s]) => [id, { replica: s.replica, positions: positions(s) }])),
    clock,
    holdMs,
    ...(schedule ? { schedule } : {}),
    log: opts.log,
  });
  // Recovery: the first pass re-reads every held call and its deadline from the boards.
  if (enabled) await dispatcher.start();
  const scheduler: RunningScheduler | undefined = !enabled || opts.cron === false ? undefined : startDispatchScheduler(dispatcher, schedule, opts.log);
  return {
    enabled,
    dispatcher,
    evaluate: () => (enabled ? dispatcher.evaluate() : Promise.resolve()),
    schedule,
    scheduleWarnings,
    holdMs,
    lateReportMs: opts.config.lateReportMinutes * 60_000,
    clock,
    isBeatOfficer(sector, beat, unit, at) {
      if (schedule && coversSector(schedule, opts.department, sector)) return scheduledBeatOfficers(schedule, beat, at).includes(unit);
      return opts.sectors.get(sector)?.replica.view().units[unit]?.homeBeat === beat;
    },
    async stop() {
      await scheduler?.stop();
      await dispatcher.stop();
    },
  };
}
