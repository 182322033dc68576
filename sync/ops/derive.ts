// Current state is derived from the append-only logs, never stored: that is what makes the
// outcome of concurrent edits a pure function of the set of changes, identical on every replica
// whatever order the changes arrived in. The rules here are the ones docs/sector-board.md lists.
import {
  CALL_EVENTS,
  CALL_UPDATE_FIELDS,
  type Actor,
  type CallChange,
  type StoredCallFields,
  UNIT_STATUSES,
  type CallEventKind,
  type CallHistoryEntry,
  type CallNote,
  type CallState,
  type CallView,
  type Priority,
  type PatrolMode,
  type StoredCall,
  type StoredCallEvent,
  type StoredUnit,
  type StoredUnitEvent,
  type UnitHistoryEntry,
  type UnitStatus,
  type UnitView,
  actorLabel,
} from '../schema.js';
import { readActor, txt } from './common.js';

/** Statuses that tie a unit to a call; a closed call releases units in these statuses. */
export const ON_CALL: ReadonlySet<UnitStatus> = new Set(['dispatched', 'en_route', 'on_scene', 'transporting']);

const PROGRESS: Partial<Record<CallEventKind, number>> = { assigned: 1, accepted: 2, en_route: 2, on_scene: 3, transporting: 3 };
const PROGRESS_STATE: Record<number, CallState> = { 1: 'dispatched', 2: 'en_route', 3: 'on_scene' };

function asStatus(v: unknown): UnitStatus | undefined {
  const s = txt(v);
  return (UNIT_STATUSES as readonly string[]).includes(s ?? '') ? (s as UnitStatus) : undefined;
}

function asEvent(v: unknown): CallEventKind | undefined {
  const s = txt(v);
  return (CALL_EVENTS as readonly string[]).includes(s ?? '') ? (s as CallEventKind) : undefined;
}

export interface Terminal {
  /** `archived`: the call is not on this board because an epoch cut left it behind closed. */
  state: 'cleared' | 'cancelled' | 'transferred' | 'archived';
  at: number;
}

/** Calls leave a board only closed (at an epoch cut), so a missing call counts as closed. */
export const ARCHIVED: Terminal = { state: 'archived', at: 0 };

/** A stored field value as the read model shows it. */
function fieldValue(f: StoredCallFields, k: keyof StoredCallFields): string | number | boolean | undefined {
  const v = f[k];
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return txt(v);
}

/** The changes of an `updated` event, in the fixed field order. */
function changesOf(e: StoredCallEvent): CallChange[] {
  const set = e.set ?? {};
  const was = e.was ?? {};
  const out: CallChange[] = [];
  for (const field of CALL_UPDATE_FIELDS) {
    const to = fieldValue(set, field);
    if (to === undefined) continue;
    out.push({ field, from: fieldValue(was, field) ?? null, to });
  }
  return out;
}

export function deriveCall(id: string, stored: StoredCall, events: readonly StoredCallEvent[]): CallView {
  // Updates overlay the record as written at creation, field by field, in log order: concurrent
  // updates of different fields both take effect; of the same field, the later in log order wins.
  const call: StoredCall = { ...stored };
  const history: CallHistoryEntry[] = [];
  const notes: CallNote[] = [];
  // Per unit: index of first attachment (for ordering) and highest progress in the current attachment.
  const attached = new Map<string, { order: number; progress: number }>();
  let order = 0;
  let terminal: { event: 'cleared' | 'cancelled'; at: number; disposition?: string; reason?: string } | undefined;
  let hold: CallView['hold'];
  let transfer: { sector: string; at: number; by: Actor; reason: string } | undefined;
  let dispatchedAt: number | undefined;
  let enRouteAt: number | undefined;
  let onSceneAt: number | undefined;

  for (const e of events) {
    const kind = asEvent(e.event);
    if (!kind || typeof e.at !== 'number') continue; // written by a newer or broken peer: ignore, never crash
    const by = readActor(e.by);
    const unit = txt(e.unit);
    const reason = txt(e.reason);
    const entry: CallHistoryEntry = { at: e.at, by, event: kind };
    if (unit) entry.unitId = unit;
    if (reason) entry.reason = reason;
    history.push(entry);
    if (kind === 'note') {
      notes.push({ author: actorLabel(by), by, at: e.at, text: txt(e.text) ?? '' });
      continue;
    }
    if (kind === 'updated') {
      const changes = changesOf(e);
      entry.changes = changes;
      // An update after the call closed (an offline writer) stays in history and changes nothing.
      if (!terminal) Object.assign(call, e.set ?? {});
      continue;
    }
    if (kind === 'transferred') {
      const sector = txt(e.sector);
      if (sector) entry.sector = sector;
      // The first transfer in log order is the one that counts; it ends any hold at this board.
      if (sector && !transfer && !terminal) {
        transfer = { sector, at: e.at, by, reason: reason ?? '' };
        hold = undefined;
      }
      continue;
    }
    if (kind === 'cleared' || kind === 'cancelled') {
      // The first closing event in log order wins; later ones (a concurrent clear and cancel) stay in history.
      if (!terminal) {
        terminal = { event: kind, at: e.at };
        const disp = txt(e.disposition);
        if (disp) terminal.disposition = disp;
        if (reason) terminal.reason = reason;
      }
      continue;
    }
    // Progress recorded after the call closed (an offline car that had not yet heard) is kept in
    // history but changes nothing.
    if (terminal) continue;
    if (kind === 'held') {
      if (typeof e.until === 'number') {
        hold = { since: e.at, deadline: e.until, reason: reason ?? '' };
        if (unit) hold.unitId = unit;
      }
      continue;
    }
    if (kind === 'released') {
      hold = undefined;
      continue;
    }
    if (!unit) continue;
    if (kind === 'unassigned') {
      attached.delete(unit);
      continue;
    }
    const p = PROGRESS[kind];
    if (p === undefined) continue;
    // A unit attached to a held call ends the hold: should it leave, the call is pending, not held again.
    hold = undefined;
    const cur = attached.get(unit);
    if (cur) cur.progress = Math.max(cur.progress, p);
    else attached.set(unit, { order: order++, progress: p });
    dispatchedAt ??= e.at;
    if (p >= 2) enRouteAt ??= e.at;
    if (p >= 3) onSceneAt ??= e.at;
  }

  const assigned = [...attached.entries()].sort((a, b) => a[1].order - b[1].order).map(([u]) => u);
  let state: CallState;
  if (terminal) state = terminal.event;
  else if (assigned.length > 0) state = PROGRESS_STATE[Math.max(...[...attached.values()].map((a) => a.progress))] ?? 'dispatched';
  // A unit of this board on the call (it took it concurrently with the transfer) keeps it open here.
  else if (transfer) state = 'transferred';
  else if (hold) state = 'held';
  else state = 'pending';

  const view: CallView = {
    id,
    cadNumber: txt(call.cadNumber) ?? id,
    type: txt(call.type) ?? '',
    priority: (typeof call.priority === 'number' && call.priority >= 1 && call.priority <= 4 ? call.priority : 4) as Priority,
    late: call.late === true,
    address: txt(call.address) ?? '',
    beat: txt(call.beat) ?? '',
    callerNotes: txt(call.callerNotes) ?? '',
    receivedAt: typeof call.receivedAt === 'number' ? call.receivedAt : 0,
    state,
    assigned,
    notes,
    history,
  };
  if (typeof call.lat === 'number') view.lat = call.lat;
  if (typeof call.lon === 'number') view.lon = call.lon;
  if (dispatchedAt !== undefined) view.dispatchedAt = dispatchedAt;
  if (enRouteAt !== undefined) view.enRouteAt = enRouteAt;
  if (onSceneAt !== undefined) view.onSceneAt = onSceneAt;
  if (state === 'held' && hold) view.hold = hold;
  if (terminal?.event === 'cleared') {
    view.clearedAt = terminal.at;
    if (terminal.disposition) view.disposition = terminal.disposition;
  }
  if (terminal?.event === 'cancelled') {
    view.cancelledAt = terminal.at;
    if (terminal.reason) view.cancelReason = terminal.reason;
  }
  if (transfer) view.transferredTo = transfer;
  const from = stored.transferredFrom;
  if (from && typeof from.at === 'number') view.transferredFrom = { sector: txt(from.sector) ?? '', callId: txt(from.callId) ?? id, at: from.at };
  return view;
}

export function terminalOf(call: CallView | undefined): Terminal | undefined {
  if (!call) return undefined;
  if (call.state === 'cleared' && call.clearedAt !== undefined) return { state: 'cleared', at: call.clearedAt };
  if (call.state === 'cancelled' && call.cancelledAt !== undefined) return { state: 'cancelled', at: call.cancelledAt };
  if (call.state === 'transferred' && call.transferredTo) return { state: 'transferred', at: call.transferredTo.at };
  return undefined;
}

export function deriveUnit(
  id: string,
  unit: StoredUnit,
  events: readonly StoredUnitEvent[],
  terminalFor: (callId: string) => Terminal | undefined,
  stacked: string[],
): UnitView {
  const history: UnitHistoryEntry[] = [];
  let officers = (unit.officers ?? []).map((o) => txt(o) ?? '').filter((o) => o !== '');
  let rider: string | undefined;
  let last: UnitHistoryEntry | undefined;
  for (const e of events) {
    const status = asStatus(e.status);
    if (!status || typeof e.at !== 'number') continue;
    const entry: UnitHistoryEntry = { status, at: e.at, by: readActor(e.by) };
    const reason = txt(e.reason);
    if (reason) entry.reason = reason;
    const call = txt(e.call);
    if (call) entry.callId = call;
    history.push(entry);
    if (Array.isArray(e.officers)) {
      officers = e.officers.map((o) => txt(o) ?? '').filter((o) => o !== '');
      rider = txt(e.rider);
    }
    last = entry;
  }
  const mode = txt(unit.mode);
  const view: UnitView = {
    id,
    callSign: txt(unit.callSign) ?? id,
    officers,
    homeBeat: txt(unit.homeBeat) ?? '',
    mode: mode === 'foot' || mode === 'bicycle' ? (mode as PatrolMode) : 'car',
    status: last?.status ?? 'off_duty',
    statusAt: last?.at ?? (typeof unit.createdAt === 'number' ? unit.createdAt : 0),
    stacked,
    history,
  };
  if (last?.reason) view.statusReason = last.reason;
  if (rider && view.status !== 'off_duty') view.rider = rider;
  if (last?.callId && (ON_CALL.has(last.status) || last.status === 'emergency')) {
    const t = terminalFor(last.callId);
    if (!t) view.callId = last.callId;
    else if (last.status !== 'emergency') {
      // The call closed (possibly concurrently, on another device) while this unit was on it:
      // the unit is free again. An emergency is never cleared by someone else closing a call.
      view.status = 'available';
      view.statusAt = Math.max(last.at, t.at);
      view.statusReason = `call ${last.callId} ${t.state}`;
    }
  }
  return view;
}
