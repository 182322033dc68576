// Epochs keep the live board small: Automerge cannot truncate history, so instead of one
// document growing for years there is one document per sector per epoch (a service day by
// default). At the cut the precinct closes the old board and opens the next one with only the
// live work carried over; the closed board becomes the archive of that day.
//
// Carried entries keep their log keys, and late edits are forwarded with their original keys, so
// carrying and forwarding are idempotent: any replica may run them, any number of times, in any
// order, and the results merge into one state with no duplicates. That is what lets a car that
// was offline across the cut merge its offline edits (docs/sector-board.md, "Epochs").
import * as Automerge from '@automerge/automerge';
import { createBoard, type SectorBoard } from './board.js';
import { checkCtx, imm, readActor, requireRole, txt } from './ops/common.js';
import { deriveCall } from './ops/derive.js';
import { BoardError, isClosedCallState, isValidId, type OpContext, type StoredBoard, type StoredCall, type StoredActor, type StoredCallEvent } from './schema.js';

export interface EpochClock {
  /** Offset of local time from UTC in minutes (e.g. -360 for CST). */
  utcOffsetMinutes: number;
  /** Local hour at which the service day turns (shift change), 0-23. */
  cutHour: number;
}

export const DEFAULT_EPOCH_CLOCK: EpochClock = { utcOffsetMinutes: 0, cutHour: 6 };

/** The service day an instant belongs to, as the epoch id `YYYY-MM-DD`. */
export function epochFor(at: number, clock: EpochClock = DEFAULT_EPOCH_CLOCK): string {
  const local = new Date(at + (clock.utcOffsetMinutes - clock.cutHour * 60) * 60_000);
  return local.toISOString().slice(0, 10);
}

/**
 * The service day of an instant in an IANA time zone (DST-aware), as `YYYY-MM-DD`: the id the
 * precinct gives the epoch it opens at its daily cut. `current` is the epoch being closed: a second
 * cut on the same day (a manual rollover) gets `.2`, `.3`, … so ids never repeat.
 */
export function nextEpochId(current: string, at: number, timeZone?: string): string {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
  if (current !== day && !current.startsWith(`${day}.`)) return day;
  const n = current === day ? 1 : Number(current.slice(day.length + 1)) || 1;
  return `${day}.${n + 1}`;
}

function isOpen(doc: StoredBoard, callId: string, events: Record<string, StoredCallEvent>): boolean {
  const call = doc.calls[callId];
  if (!call) return false;
  const prefix = `${callId}~`;
  const evs = Object.keys(events)
    .filter((k) => k.startsWith(prefix))
    .sort()
    .map((k) => events[k] as StoredCallEvent);
  const state = deriveCall(callId, call as StoredCall, evs).state;
  return !isClosedCallState(state);
}

/**
 * Beat prose is collaborative text, one op per character: copied as text into every new epoch it
 * would dominate the live board (a year of plans is thousands of ops a day). It is carried as
 * immutable snapshots instead; the first edit in the new epoch turns a field back into text
 * (sync/ops/beats.ts). Readers do not see the difference.
 */
function frozenBeat(b: StoredBoard['beats'][string]): StoredBoard['beats'][string] {
  const plans: StoredBoard['beats'][string]['plans'] = {};
  for (const [pid, p] of Object.entries(b.plans)) plans[pid] = frozenPlan(p);
  return { ...b, characteristics: imm(txt(b.characteristics) ?? '') as unknown as string, plans };
}

function frozenPlan(p: StoredBoard['beats'][string]['plans'][string]): StoredBoard['beats'][string]['plans'][string] {
  const f = (v: unknown) => imm(txt(v) ?? '') as unknown as string;
  return { ...p, problem: f(p.problem), analysis: f(p.analysis), response: f(p.response), assessment: f(p.assessment) };
}

function unreadByAnyone(r: StoredBoard['inbox'][string]): boolean {
  return r.recipients.some((x) => typeof r.readBy[txt(x.id) ?? ''] !== 'number');
}

export interface RolloverResult {
  /** The old board with its `closed` marker: keep syncing it until every car has caught up, then archive. */
  closed: SectorBoard;
  /** The new live board: genesis plus one carry-over change. */
  next: SectorBoard;
  carried: { calls: string[]; units: string[]; reports: string[]; beats: string[] };
}

/**
 * Closes `prev` and opens `nextEpoch` carrying: every unit (roster entry, its current status event
 * and its latest crew event), every call still open (record and its whole log), reports someone
 * has not read yet, and the beats. Done by the precinct (operator or policy), never by a car.
 */
/**
 * Unread CARE reports follow the live board for this long; after that they are read from the
 * archive. Without a bound, one recipient who never opens the inbox (a supervisor's account)
 * would carry every report of the year into every day's board (measured: 13k of 24.6k ops).
 */
export const REPORT_CARRY_MS = 14 * 86_400_000;

export function rolloverEpoch(prev: SectorBoard, nextEpoch: string, ctx: OpContext, actorId?: string): RolloverResult {
  checkCtx(ctx);
  requireRole(ctx, 'rolloverEpoch', ['operator', 'policy']);
  if (!isValidId(nextEpoch)) throw new BoardError('invalid_input', `nextEpoch must be an id, got ${JSON.stringify(nextEpoch)}`, 'nextEpoch');
  const sector = txt(prev.sector) ?? '';
  const epoch = txt(prev.epoch) ?? '';
  if (nextEpoch === epoch) throw new BoardError('epoch_mismatch', `rolloverEpoch: ${sector}@${epoch} cannot roll over into itself`, 'nextEpoch');
  const already = txt(prev.closed?.nextEpoch);
  if (already !== undefined && already !== nextEpoch) throw new BoardError('epoch_mismatch', `rolloverEpoch: ${sector}@${epoch} was already closed into ${already}`, 'nextEpoch');

  const closed = already
    ? prev
    : Automerge.change(prev, { message: `close epoch into ${nextEpoch}`, time: Math.floor(ctx.at / 1000) }, (d) => {
        d.closed = { at: ctx.at, nextEpoch: imm(nextEpoch) };
      });

  const s = Automerge.toJS(closed);
  const carried: RolloverResult['carried'] = { calls: [], units: [], reports: [], beats: [] };
  let next = createBoard(sector, nextEpoch, actorId);
  next = Automerge.change(next, { message: `carry over from ${epoch}`, time: Math.floor(ctx.at / 1000) }, (d) => {
    d.openedFrom = { at: ctx.at, epoch: imm(epoch) };
    for (const [id, b] of Object.entries(s.beats)) {
      d.beats[id] = frozenBeat(b);
      carried.beats.push(id);
    }
    const unitKeys = Object.keys(s.unitLog).sort();
    for (const [id, u] of Object.entries(s.units)) {
      d.units[id] = u;
      carried.units.push(id);
      const mine = unitKeys.filter((k) => k.startsWith(`${id}~`));
      const latest = mine.at(-1);
      // The crew (officers, rider) lives on sign-on/off events: keep the latest one too.
      const crew = [...mine].reverse().find((k) => Array.isArray(s.unitLog[k]?.officers));
      for (const k of new Set([crew, latest])) if (k && s.unitLog[k]) d.unitLog[k] = s.unitLog[k];
    }
    const callKeys = Object.keys(s.callLog).sort();
    for (const [id, c] of Object.entries(s.calls)) {
      if (!isOpen(s, id, s.callLog)) continue;
      d.calls[id] = c;
      carried.calls.push(id);
      for (const k of callKeys) if (k.startsWith(`${id}~`)) d.callLog[k] = s.callLog[k] as StoredCallEvent;
    }
    for (const [id, r] of Object.entries(s.inbox)) {
      if (!unreadByAnyone(r) || ctx.at - r.deliveredAt > REPORT_CARRY_MS) continue;
      d.inbox[id] = r;
      carried.reports.push(id);
    }
  });
  return { closed, next, carried };
}

/**
 * Copies into `next` what reached `prev` after the cut (an offline car's notes, statuses, closing
 * of a carried call, a call it created, read receipts), each under its original key. Returns
 * `next` unchanged when there is nothing new. Run it whenever `prev` receives changes after it
 * was closed, on the precinct or on a car: running it twice, or on two replicas, converges.
 */
export interface ForwardOnly {
  vehicleId: string;
  unitId: string;
}

function byVehicle(entry: { by?: StoredActor } | undefined, only: ForwardOnly): boolean {
  const by = readActor(entry?.by);
  return by.kind === 'vehicle' && by.vehicleId === only.vehicleId;
}

/**
 * With `only`, a car forwards just what it wrote itself: its events on carried calls, its own
 * on-view calls, its unit's events and its read receipts. Why: the precinct's author guard refuses
 * a car's change that writes anyone else's entry (sync/author-guard.ts), and the precinct forwards
 * everything else from its own copy once the car's late edits reach the closed epoch.
 */
export function forwardLateEdits(prev: SectorBoard, next: SectorBoard, ctx: OpContext, only?: ForwardOnly): SectorBoard {
  checkCtx(ctx);
  const p = Automerge.toJS(prev);
  if (txt(p.sector) !== txt(next.sector)) throw new BoardError('epoch_mismatch', 'forwardLateEdits: boards of different sectors');
  const nextEpoch = txt(next.epoch);
  const closedInto = txt(p.closed?.nextEpoch);
  if (closedInto !== undefined && closedInto !== nextEpoch) throw new BoardError('epoch_mismatch', `forwardLateEdits: ${txt(p.epoch)} was closed into ${closedInto}, not ${nextEpoch}`);

  const plan: Array<(d: StoredBoard) => void> = [];
  const nextCallKeys = new Set(Object.keys(next.callLog));
  const nextUnitKeys = Object.keys(next.unitLog).sort();
  const prevCallKeys = Object.keys(p.callLog).sort();
  const prevUnitKeys = Object.keys(p.unitLog).sort();

  for (const [id, c] of Object.entries(p.calls)) {
    const present = next.calls[id] !== undefined;
    // A call the cut did not carry is forwarded only if it is still open: it was created (or
    // reopened by nothing: calls never reopen) on an offline replica after the cut.
    if (!present && !isOpen(p, id, p.callLog)) continue;
    let missing = prevCallKeys.filter((k) => k.startsWith(`${id}~`) && !nextCallKeys.has(k));
    if (only) {
      const mine = missing.filter((k) => byVehicle(p.callLog[k], only));
      // A call the cut did not carry goes over from a car only when the car wrote all of it.
      if (!present && mine.length !== missing.length) continue;
      missing = mine;
    }
    if (present && missing.length === 0) continue;
    plan.push((d) => {
      if (!present) d.calls[id] = c;
      for (const k of missing) d.callLog[k] = p.callLog[k] as StoredCallEvent;
    });
  }

  for (const [id, u] of Object.entries(p.units)) {
    if (only && id !== only.unitId) continue;
    const present = next.units[id] !== undefined;
    const prefix = `${id}~`;
    const inNext = nextUnitKeys.filter((k) => k.startsWith(prefix));
    const prevSet = new Set(prevUnitKeys.filter((k) => k.startsWith(prefix)));
    // Older history stays in the archive: forward only what is newer than the newest event the
    // cut carried (or every event of a unit the cut did not know).
    const carriedMax = inNext.filter((k) => prevSet.has(k)).at(-1) ?? '';
    const inNextSet = new Set(inNext);
    const missing = [...prevSet].filter((k) => k > carriedMax && !inNextSet.has(k) && (!only || byVehicle(p.unitLog[k], only))).sort();
    if (present && missing.length === 0) continue;
    plan.push((d) => {
      if (!present) d.units[id] = u;
      for (const k of missing) if (p.unitLog[k]) d.unitLog[k] = p.unitLog[k];
    });
  }

  // Beat edits made on the old board after the cut: newer plans and profiles win, as snapshots.
  for (const [id, b] of only ? [] : Object.entries(p.beats)) {
    const target = next.beats[id];
    if (!target) {
      plan.push((d) => {
        d.beats[id] = frozenBeat(b);
      });
      continue;
    }
    const newerPlans = Object.entries(b.plans).filter(([pid, pl]) => pl.updatedAt > (target.plans[pid]?.updatedAt ?? -1));
    const newerProfile = b.updatedAt > target.updatedAt && txt(b.characteristics) !== txt(target.characteristics);
    if (newerPlans.length === 0 && !newerProfile) continue;
    plan.push((d) => {
      const t = d.beats[id];
      if (!t) return;
      for (const [pid, pl] of newerPlans) t.plans[pid] = frozenPlan(pl);
      if (newerProfile) {
        t.characteristics = imm(txt(b.characteristics) ?? '') as unknown as string;
        t.resources = b.resources;
        t.crimeProblems = b.crimeProblems;
      }
    });
  }

  // Inbox items sent after the cut on a replica still on the old epoch (a message written offline)
  // go over whole; older ones the cut did not carry stay in the archive.
  const cutAt = next.openedFrom?.at ?? p.closed?.at ?? Infinity;
  for (const [id, r] of Object.entries(p.inbox)) {
    if (next.inbox[id] || r.deliveredAt < cutAt || (only && !byVehicle(r, only))) continue;
    plan.push((d) => {
      d.inbox[id] = r;
    });
  }

  for (const [id, r] of Object.entries(p.inbox)) {
    const target = next.inbox[id];
    if (!target) continue;
    const reads = Object.entries(r.readBy).filter(([reader]) => typeof target.readBy[reader] !== 'number' && (!only || reader === only.unitId));
    if (reads.length === 0) continue;
    plan.push((d) => {
      const t = d.inbox[id];
      if (t) for (const [reader, at] of reads) t.readBy[reader] = at;
    });
  }

  if (plan.length === 0) return next;
  return Automerge.change(next, { message: `forward late edits from ${txt(p.epoch)}`, time: Math.floor(ctx.at / 1000) }, (d) => {
    for (const step of plan) step(d);
  });
}
