// `npm run replay`: the real Seattle PD calls for service of the sample department (1,000
// records, three days of January 2024) fed to the precinct's dispatcher in simulated time, with
// simulated units that sign on and off by the watch, accept, drive, work the call and clear, and
// the dispatch figures printed at the end.
//
// Time is simulated as a discrete-event simulation (the clock jumps from one event to the next),
// so three days replay in seconds, deterministically: the same records give the same table.
// What runs is the real dispatch code on real sector boards (SectorReplica over an in-memory
// store): only the officers are simulated, and the broker and HTTP API are left out.
//
// Times a unit takes, from the records where they exist (docs/dispatch.md):
//  - acknowledge: 30 s after assignment;
//  - travel: first_response_time - first_dispatch_delay of the record (the SPD's own dispatch to
//    first arrival), when both are present and between 1 and 60 minutes, else 8 (P1) to 15 minutes;
//  - on scene: not in the records; modelled per priority (P1 60, P2 45, P3 30, P4 20 minutes), times
//    0.5 to 1.5 from a hash of the CAD id, times responding_units^0.5 for the bigger incidents.
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as board from '../sync/board.js';
import { SectorReplica } from '../sync/replica.js';
import { silentLogger, type Actor, type SectorId, type UnitId, type VehicleId } from '../sync/schema.js';
import { loadDepartment, type Department } from '../daemon/department.js';
import { SAMPLE_DEPARTMENT } from '../daemon/config.js';
import { departmentPriority, loadRecordedCalls, SAMPLE_CALLS, type RecordedCall } from '../daemon/sample-calls.js';
import { ManualClock } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import { MemoryDocStore } from './memory-store.js';
import type { Position } from './policy.js';
import { computeFigures, formatFigures, type Figures } from './figures.js';
import { onDutyAt, scheduledBeatOfficers, shiftsOn, localDate, uniformSchedule, type Assignment, type Schedule } from './schedule.js';

const MIN = 60_000;
const ACK_MS = 30_000;
const DEFAULT_TRAVEL_MIN: Record<number, number> = { 1: 8, 2: 11, 3: 14, 4: 15 };
const ON_SCENE_MIN: Record<number, number> = { 1: 60, 2: 45, 3: 30, 4: 20 };

export interface ReplayOptions {
  department?: Department;
  callsFile?: string;
  /** Precincts to replay; default every precinct the records fall in. */
  precincts?: string[];
  holdMinutes?: number;
}

export interface ReplayResult {
  figures: Figures;
  calls: number;
  holdMs: number;
  /** Events the simulation ran (calls, unit actions, sign-ons, deadlines). */
  events: number;
}

/** A fraction in [0, 1) from a string: deterministic variety without a random generator. */
function hash01(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0) / 2 ** 32;
}

export function travelMs(r: RecordedCall): number {
  const travel = r.firstResponseTimeS !== undefined && r.firstDispatchDelayS !== undefined ? r.firstResponseTimeS - r.firstDispatchDelayS : undefined;
  if (travel !== undefined && travel >= 60 && travel <= 3600) return travel * 1000;
  return (DEFAULT_TRAVEL_MIN[departmentPriority(r.spdPriority)] ?? 15) * MIN;
}

export function onSceneMs(r: RecordedCall): number {
  const base = ON_SCENE_MIN[departmentPriority(r.spdPriority)] ?? 20;
  return Math.round(base * (0.5 + hash01(r.cadId)) * Math.sqrt(Math.max(1, r.respondingUnits)) * MIN);
}

/** Simulation events in time order; equal times run in the order they were scheduled. */
/**
 * Returned by an event that cannot change a dispatch decision (a unit acknowledging or arriving
 * frees no unit and adds no call): the dispatcher is not asked to re-decide after it. Reading a
 * board view materialises the whole document, the replay's main cost, so this halves the run time.
 */
const QUIET = Symbol('quiet');
type EventResult = typeof QUIET | void;

class Agenda {
  private items: Array<{ at: number; seq: number; run: () => Promise<EventResult> | EventResult }> = [];
  private seq = 0;
  push(at: number, run: () => Promise<EventResult> | EventResult): void {
    const item = { at, seq: this.seq++, run };
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid]!;
      if (m.at < at || (m.at === at && m.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }
  shift() {
    return this.items.shift();
  }
}

interface Station {
  precinct: string;
  dispatcher: Dispatcher;
  replicas: Map<string, SectorReplica>;
  positions: Map<string, Record<string, Position>>;
  ticks: Set<number>;
}

export async function runReplay(opts: ReplayOptions = {}): Promise<ReplayResult> {
  const dept = opts.department ?? (await loadDepartment(SAMPLE_DEPARTMENT));
  const holdMs = (opts.holdMinutes ?? 30) * MIN;
  const all = await loadRecordedCalls(dept, opts.callsFile ?? SAMPLE_CALLS);
  const precincts = opts.precincts ?? [...new Set(all.map((c) => c.precinct))].sort();
  const records = all.filter((c) => precincts.includes(c.precinct));
  if (records.length === 0) throw new Error(`no recorded calls fall in precinct(s) ${precincts.join(', ')}`);
  const first = records[0]!.queuedAt;
  const last = records[records.length - 1]!.queuedAt;
  const year = new Date(first).getUTCFullYear();
  const sectors = precincts.flatMap((p) => dept.precincts[p]?.sectors ?? []);
  const schedule: Schedule = uniformSchedule(dept, sectors, year);
  const clock = new ManualClock(first - 30 * MIN);
  const agenda = new Agenda();
  const store = new MemoryDocStore();
  const cad: Actor = { kind: 'operator', operatorId: 'cad', role: 'dispatcher' };
  const byCall = new Map(records.map((r) => [r.cadId, r]));
  const unitHome = new Map<string, { station: Station; sector: string; beat: string }>();
  const signOffWhenFree = new Set<string>();
  let events = 0;

  const stations: Station[] = [];
  for (const precinct of precincts) {
    const replicas = new Map<string, SectorReplica>();
    const positions = new Map<string, Record<string, Position>>();
    for (const s of dept.precincts[precinct]?.sectors ?? []) {
      replicas.set(s, await SectorReplica.open({ store, sector: s as SectorId, epoch: String(year), actorId: createHash('sha256').update(s).digest('hex').slice(0, 32) }));
      positions.set(s, {});
    }
    const dispatcher = new Dispatcher({
      precinct,
      department: dept,
      sectors: new Map([...replicas].map(([s, replica]) => [s, { replica, positions: () => positions.get(s)! }])),
      clock,
      holdMs,
      schedule,
      log: silentLogger,
    });
    const station: Station = { precinct, dispatcher, replicas, positions, ticks: new Set() };
    dispatcher.on('decision', (r) => {
      if (r.decision.kind === 'dispatch') respond(r.decision.unitId, r.callId, r.decision.sector, clock.now());
    });
    stations.push(station);
  }
  for (const a of schedule.assignments) {
    const sector = dept.beats[a.beat]?.sector;
    const station = stations.find((s) => sector !== undefined && s.replicas.has(sector));
    if (station && sector) unitHome.set(a.unit, { station, sector, beat: a.beat });
  }

  const car = (unit: string): Actor => ({ kind: 'vehicle', vehicleId: `V-${unit}` as VehicleId, unitId: unit as UnitId });
  const ctx = (by: Actor) => ({ by, at: clock.now() });
  const act = async (unit: string, fn: (d: board.SectorBoard) => board.SectorBoard) => {
    const home = unitHome.get(unit);
    if (!home) return;
    await home.station.replicas.get(home.sector)!.update(fn);
  };
  const unitView = (unit: string) => {
    const home = unitHome.get(unit);
    return home ? home.station.replicas.get(home.sector)!.view().units[unit] : undefined;
  };
  const place = (unit: string, lon: number, lat: number) => {
    const home = unitHome.get(unit);
    if (home) home.station.positions.get(home.sector)![unit] = { lon, lat, at: clock.now() };
  };

  // A unit answering an assignment: acknowledge, drive, work the call, clear; then sign off if its watch ended.
  function respond(unit: string, callId: string, sector: string, at: number): void {
    const r = byCall.get(callId);
    if (!r) return;
    const onIt = () => unitView(unit)?.callId === callId;
    agenda.push(at + ACK_MS, async (): Promise<EventResult> => {
      if (onIt()) await act(unit, (d) => board.acceptCall(d, { callId, unitId: unit }, ctx(car(unit))));
      return QUIET;
    });
    const arrive = at + ACK_MS + travelMs(r);
    agenda.push(arrive, async (): Promise<EventResult> => {
      if (!onIt()) return;
      place(unit, r.lon, r.lat);
      await act(unit, (d) => board.setUnitStatus(d, { unitId: unit, status: 'on_scene' }, ctx(car(unit))));
      return QUIET;
    });
    agenda.push(arrive + onSceneMs(r), async () => {
      if (!onIt()) return;
      // A call transferred to an adjacent sector lives on that sector's board.
      const home = unitHome.get(unit)!;
      const replica = home.station.replicas.get(sector) ?? home.station.replicas.get(home.sector)!;
      await replica.update((d) => board.clearCall(d, { callId, disposition: 'RPT' }, ctx(car(unit))));
      if (signOffWhenFree.delete(unit)) await act(unit, (d) => board.signOff(d, { unitId: unit }, ctx(car(unit))));
    });
  }

  // Watches: units sign on at the start (a few minutes into it) and off at the end, or after the call they are on.
  const signOn = async (a: Assignment) => {
    signOffWhenFree.delete(a.unit);
    const u = unitView(a.unit);
    if (u && u.status !== 'off_duty') return;
    const center = dept.beats[a.beat]?.center;
    if (center) place(a.unit, center[0], center[1]);
    await act(a.unit, (d) => {
      const withUnit = u ? d : board.upsertUnit(d, { id: a.unit, callSign: a.unit, homeBeat: a.beat, mode: a.mode }, ctx(car(a.unit)));
      return board.signOn(withUnit, { unitId: a.unit, officers: [`Ofc. ${a.unit}`] }, ctx(car(a.unit)));
    });
  };
  const signOff = async (a: Assignment) => {
    const u = unitView(a.unit);
    if (!u || u.status === 'off_duty') return;
    if (u.callId) signOffWhenFree.add(a.unit);
    else await act(a.unit, (d) => board.signOff(d, { unitId: a.unit }, ctx(car(a.unit))));
  };
  const settle = async () => {
    for (const s of stations) await s.dispatcher.evaluate();
  };
  // The dispatcher is not start()ed: the replay asks it to decide after each event itself (see
  // QUIET), instead of after every board change. The first change of watch puts the roster on.
  agenda.push(clock.now(), async () => {
    for (const s of stations) await s.dispatcher.shiftChange();
  });
  for (const { assignment } of onDutyAt(schedule, clock.now())) agenda.push(clock.now(), () => signOn(assignment));
  for (let day = localDate(first, schedule.timeZone); day <= localDate(last, schedule.timeZone); day = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)) {
    for (const inst of shiftsOn(schedule, day)) {
      if (inst.end <= clock.now()) continue;
      for (const a of schedule.assignments.filter((x) => x.shift === inst.shift && x.from <= day && x.to >= day)) {
        if (inst.start > clock.now()) agenda.push(inst.start + Math.floor(hash01(`${a.unit}${day}`) * 4 * MIN), () => signOn(a));
        agenda.push(inst.end, () => signOff(a));
      }
      // The change of watch, as node-cron runs it in the precinct.
      if (inst.start > clock.now()) agenda.push(inst.start, async () => {
        for (const s of stations) await s.dispatcher.shiftChange();
      });
    }
  }
  for (const r of records) {
    agenda.push(r.queuedAt, async () => {
      const home = stations.find((s) => s.replicas.has(r.sector));
      await home?.replicas.get(r.sector)!.update((d) =>
        board.createCall(
          d,
          {
            id: r.cadId,
            cadNumber: r.cadId,
            type: `SPD priority ${r.spdPriority}`,
            priority: departmentPriority(r.spdPriority),
            address: r.neighborhood || `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}`,
            beat: r.beat,
            lat: r.lat,
            lon: r.lon,
            receivedAt: r.queuedAt,
          },
          ctx(cad),
        ),
      );
    });
  }

  // Run: each event at its time, then the dispatcher settles; hold deadlines get an event of their own.
  for (let item = agenda.shift(); item; item = agenda.shift()) {
    clock.set(Math.max(clock.now(), item.at));
    events++;
    if ((await item.run()) === QUIET) continue;
    await settle();
    for (const s of stations) {
      for (const [, replica] of s.replicas) {
        for (const c of Object.values(replica.view().calls)) {
          if (c.state !== 'held' || !c.hold || c.hold.deadline <= clock.now() || s.ticks.has(c.hold.deadline)) continue;
          s.ticks.add(c.hold.deadline);
          const station = s;
          agenda.push(c.hold.deadline, () => station.dispatcher.tick());
        }
      }
    }
  }
  for (const s of stations) await s.dispatcher.stop();

  const boards = stations.flatMap((s) => [...s.replicas].map(([sector, r]) => ({ sector, board: r.view() })));
  const isBeatOfficer = (beat: string, unit: string, at: number) => scheduledBeatOfficers(schedule, beat, at).includes(unit);
  const figures = computeFigures(boards, isBeatOfficer, first, clock.now(), holdMs);
  return { figures, calls: records.length, holdMs, events };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      precinct: { type: 'string', multiple: true },
      'hold-minutes': { type: 'string', default: '30' },
      calls: { type: 'string' },
      top: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run replay [-- --precinct N|all] [--hold-minutes 30] [--calls file.csv] [--top 20]\n');
    return;
  }
  const holdMinutes = Number(values['hold-minutes']);
  if (!Number.isFinite(holdMinutes) || holdMinutes <= 0) throw new Error('--hold-minutes: expected a positive number of minutes');
  const started = Date.now();
  const result = await runReplay({
    holdMinutes,
    ...(values.calls ? { callsFile: values.calls } : {}),
    // Default: the demo's North Precinct; `--precinct all` replays every precinct of the records.
    ...(values.precinct?.includes('all') ? {} : { precincts: (values.precinct ?? ['N']).flatMap((p) => p.split(',')) }),
  });
  process.stdout.write(
    [
      `Dispatch replay: ${result.calls} real calls for service (${values.calls ?? 'deploy/sample-department/seattle-spd-dispatch-2024-01-sample1000.csv'}),`,
      `one unit per beat and watch (3 x 8 h), hold limit ${holdMinutes} min, ${result.events} simulated events in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
      '',
      formatFigures(result.figures, { holdMs: result.holdMs, topUnits: Number(values.top) }),
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`replay failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
