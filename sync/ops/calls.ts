// Call operations. The call record holds what the CAD reported (written once at creation); every
// later fact (assignment, acceptance, progress, hold, notes, closing) is an event in the call log.
import { isDisposition } from '../registries/dispositions.js';
import { BoardError, CALL_UPDATE_FIELDS, isClosedCallState, type CallChange, type CallEventKind, type StoredCallFields, type CallId, type CallView, type OpContext, type Priority, type StoredCall, type StoredCallEvent, type UnitId } from '../schema.js';
import {
  checkCtx,
  commit,
  fail,
  imm,
  logKey,
  optText,
  reqId,
  reqText,
  reqTime,
  requireOwnUnit,
  requireRole,
  storeActor,
  txt,
  type SectorBoard,
} from './common.js';
import { callView } from './read.js';
import { requireUnit } from './units.js';

export interface CreateCallInput {
  id?: CallId | string;
  cadNumber: string;
  type: string;
  priority: Priority;
  late?: boolean;
  address: string;
  beat: string;
  lat?: number;
  lon?: number;
  callerNotes?: string;
  /** When the communications centre received the call; defaults to ctx.at. */
  receivedAt?: number;
}

export function requireCall(doc: SectorBoard, id: string): CallView {
  const c = callView(doc, id);
  if (!c) throw new BoardError('not_found', `call ${id} is not on this sector board`, 'callId');
  return c;
}

function requireOpen(doc: SectorBoard, id: string, op: string): CallView {
  const c = requireCall(doc, id);
  if (isClosedCallState(c.state)) {
    const where = c.state === 'transferred' && c.transferredTo ? ` to sector ${c.transferredTo.sector}` : '';
    throw new BoardError('call_closed', `${op}: call ${id} is already ${c.state}${where}`, 'callId');
  }
  return c;
}

function callEvent(ctx: OpContext, event: CallEventKind, extra: Partial<Omit<StoredCallEvent, 'event' | 'at' | 'by'>> = {}): StoredCallEvent {
  return { event: imm(event), at: ctx.at, by: storeActor(ctx.by), ...extra };
}

interface ValidCall {
  id: string;
  stored: StoredCall;
}

function validateNewCall(input: CreateCallInput, ctx: OpContext): ValidCall {
  const cadNumber = reqId('cadNumber', input.cadNumber);
  const id = input.id === undefined ? cadNumber : reqId('id', input.id);
  const type = reqText('type', input.type, 64);
  const priority = reqPriority(input.priority);
  const address = reqText('address', input.address, 200);
  const beat = reqId('beat', input.beat);
  const callerNotes = optText('callerNotes', input.callerNotes, 2000) ?? '';
  const receivedAt = input.receivedAt === undefined ? ctx.at : reqTime('receivedAt', input.receivedAt);
  if (input.late !== undefined && typeof input.late !== 'boolean') fail('late', 'must be a boolean');
  const location = reqLocation(input.lat, input.lon);
  const stored: StoredCall = {
    cadNumber: imm(cadNumber),
    type: imm(type),
    priority,
    late: input.late === true,
    address: imm(address),
    beat: imm(beat),
    callerNotes: imm(callerNotes),
    receivedAt,
  };
  if (location) {
    stored.lat = location.lat;
    stored.lon = location.lon;
  }
  return { id, stored };
}

function reqPriority(v: unknown): Priority {
  if (v !== 1 && v !== 2 && v !== 3 && v !== 4) fail('priority', `must be 1 (emergency) to 4, got ${JSON.stringify(v)}`);
  return v;
}

function reqLocation(lat: unknown, lon: unknown): { lat: number; lon: number } | undefined {
  if ((lat === undefined) !== (lon === undefined)) fail(lat === undefined ? 'lat' : 'lon', 'lat and lon come together');
  if (lat === undefined) return undefined;
  if (typeof lat !== 'number' || !(lat >= -90 && lat <= 90)) fail('lat', 'must be a latitude in degrees');
  if (typeof lon !== 'number' || !(lon >= -180 && lon <= 180)) fail('lon', 'must be a longitude in degrees');
  return { lat, lon };
}

export function createCall(doc: SectorBoard, input: CreateCallInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const { id, stored } = validateNewCall(input, ctx);
  if (doc.calls[id]) throw new BoardError('exists', `call ${id} already exists on this board`, 'id');
  return commit(doc, ctx, (d) => {
    d.calls[id] = stored;
    d.callLog[logKey(id, ctx.at)] = callEvent(ctx, 'created');
  });
}

/**
 * Sends a unit to a call. `reason` (why this unit: the policy's rule, or an override's words) is
 * written on the same `assigned` event, so the assignment and its reason are one history entry.
 * An assignment also ends a hold on the call.
 */
export function assignUnit(doc: SectorBoard, input: { callId: CallId | string; unitId: UnitId | string; reason?: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const uid = reqId('unitId', input.unitId);
  const reason = optText('reason', input.reason, 200);
  requireRole(ctx, 'assignUnit', ['operator', 'policy']);
  const call = requireOpen(doc, cid, 'assignUnit');
  const unit = requireUnit(doc, uid);
  if (unit.status === 'off_duty' || unit.status === 'out_of_service' || unit.status === 'emergency') {
    throw new BoardError('unit_unavailable', `assignUnit: unit ${uid} is ${unit.status}${unit.statusReason ? ` (${unit.statusReason})` : ''}`, 'unitId');
  }
  if (call.assigned.includes(uid)) throw new BoardError('invalid_transition', `assignUnit: unit ${uid} is already on call ${cid}`, 'unitId');
  return commit(doc, ctx, (d) => {
    // A unit moved off another open call leaves it explicitly, so that call's roster stays true.
    if (unit.callId && unit.callId !== cid) d.callLog[logKey(unit.callId, ctx.at)] = callEvent(ctx, 'unassigned', { unit: imm(uid), reason: imm(`reassigned to ${cid}`) });
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'assigned', { unit: imm(uid), ...(reason ? { reason: imm(reason) } : {}) });
    d.unitLog[logKey(uid, ctx.at)] = { status: imm('dispatched'), at: ctx.at, by: storeActor(ctx.by), call: imm(cid) };
  });
}

export function acceptCall(doc: SectorBoard, input: { callId: CallId | string; unitId: UnitId | string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const uid = reqId('unitId', input.unitId);
  requireOwnUnit(ctx, 'acceptCall', uid);
  requireOpen(doc, cid, 'acceptCall');
  const unit = requireUnit(doc, uid);
  if (unit.status === 'off_duty' || unit.status === 'emergency') {
    throw new BoardError('unit_unavailable', `acceptCall: unit ${uid} is ${unit.status}`, 'unitId');
  }
  if (unit.callId === cid && unit.status !== 'dispatched') throw new BoardError('invalid_transition', `acceptCall: unit ${uid} is already ${unit.status} on call ${cid}`, 'unitId');
  return commit(doc, ctx, (d) => {
    if (unit.callId && unit.callId !== cid) d.callLog[logKey(unit.callId, ctx.at)] = callEvent(ctx, 'unassigned', { unit: imm(uid), reason: imm(`took call ${cid}`) });
    // Accepting a held call ends the hold by attaching the unit; no separate release is written.
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'accepted', { unit: imm(uid) });
    d.unitLog[logKey(uid, ctx.at)] = { status: imm('en_route'), at: ctx.at, by: storeActor(ctx.by), call: imm(cid) };
  });
}

export function holdCall(
  doc: SectorBoard,
  input: { callId: CallId | string; until: number; reason: string; unitId?: UnitId | string },
  ctx: OpContext,
): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const until = reqTime('until', input.until);
  const reason = reqText('reason', input.reason, 200);
  const uid = input.unitId === undefined ? undefined : reqId('unitId', input.unitId);
  requireRole(ctx, 'holdCall', ['operator', 'policy']);
  if (until <= ctx.at) fail('until', 'the hold deadline must be after now');
  const call = requireOpen(doc, cid, 'holdCall');
  if (call.state !== 'pending') throw new BoardError('invalid_transition', `holdCall: call ${cid} is ${call.state}; only a pending call can be held`, 'callId');
  if (uid !== undefined) requireUnit(doc, uid);
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'held', { until, reason: imm(reason), ...(uid ? { unit: imm(uid) } : {}) });
  });
}

export function releaseHold(doc: SectorBoard, input: { callId: CallId | string; reason: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const reason = reqText('reason', input.reason, 200);
  requireRole(ctx, 'releaseHold', ['operator', 'policy']);
  const call = requireOpen(doc, cid, 'releaseHold');
  if (call.state !== 'held') throw new BoardError('invalid_transition', `releaseHold: call ${cid} is ${call.state}, not held`, 'callId');
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'released', { reason: imm(reason) });
  });
}

export function addNote(doc: SectorBoard, input: { callId: CallId | string; text: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const text = reqText('text', input.text, 4000);
  // Notes are allowed on closed calls too: supplements after clearing are routine.
  requireCall(doc, cid);
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'note', { text: imm(text) });
  });
}

export function clearCall(doc: SectorBoard, input: { callId: CallId | string; disposition: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const disposition = reqText('disposition', input.disposition, 32);
  if (!isDisposition(disposition)) fail('disposition', `unknown disposition code ${JSON.stringify(disposition)} (see sync/registries/dispositions.ts)`);
  requireOpen(doc, cid, 'clearCall');
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'cleared', { disposition: imm(disposition) });
  });
}

export function cancelCall(doc: SectorBoard, input: { callId: CallId | string; reason: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const reason = reqText('reason', input.reason, 200);
  requireRole(ctx, 'cancelCall', ['operator', 'policy']);
  requireOpen(doc, cid, 'cancelCall');
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'cancelled', { reason: imm(reason) });
  });
}

export interface UpdateCallInput {
  callId: CallId | string;
  type?: string;
  priority?: Priority;
  late?: boolean;
  address?: string;
  beat?: string;
  /** A new location: lat and lon together. */
  lat?: number;
  lon?: number;
  callerNotes?: string;
  /** Why (the CAD's words); appended to the history entry. */
  reason?: string;
}

const show = (v: string | number | boolean | null): string => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v) : v === null ? 'none' : String(v));

/** One line for the history: "priority 3 -> 1; beat B1 -> B2: caller saw a weapon". */
function describeChanges(changes: readonly CallChange[], reason: string | undefined): string {
  const parts = changes.map((c) => {
    if (c.field === 'callerNotes') return 'caller notes rewritten';
    if (c.field === 'late') return c.to ? 'marked late-reported' : 'no longer late-reported';
    return `${c.field} ${show(c.from)} -> ${show(c.to)}`;
  });
  const text = `updated: ${parts.join('; ')}${reason ? `: ${reason}` : ''}`;
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}

/**
 * A CAD update of what was reported: type, priority, late-reported flag, address, location, beat,
 * caller notes. Only fields that differ are written, with what the writer saw before, as one
 * `updated` event (who, old -> new); the record from creation is never rewritten (deriveCall
 * overlays updates in log order). Refused on a closed call, and when nothing would change.
 */
export function updateCall(doc: SectorBoard, input: UpdateCallInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  requireRole(ctx, 'updateCall', ['operator', 'policy']);
  const want: Partial<Record<(typeof CALL_UPDATE_FIELDS)[number], string | number | boolean>> = {};
  if (input.type !== undefined) want.type = reqText('type', input.type, 64);
  if (input.priority !== undefined) want.priority = reqPriority(input.priority);
  if (input.late !== undefined) {
    if (typeof input.late !== 'boolean') fail('late', 'must be a boolean');
    want.late = input.late;
  }
  if (input.address !== undefined) want.address = reqText('address', input.address, 200);
  if (input.beat !== undefined) want.beat = reqId('beat', input.beat);
  const location = reqLocation(input.lat, input.lon);
  if (location) {
    want.lat = location.lat;
    want.lon = location.lon;
  }
  if (input.callerNotes !== undefined) {
    if (typeof input.callerNotes !== 'string' || input.callerNotes.length > 2000) fail('callerNotes', 'must be a string of at most 2000 characters');
    want.callerNotes = input.callerNotes;
  }
  const reason = optText('reason', input.reason, 160);
  const call = requireOpen(doc, cid, 'updateCall');
  const set: StoredCallFields = {};
  const was: StoredCallFields = {};
  const changes: CallChange[] = [];
  for (const field of CALL_UPDATE_FIELDS) {
    const to = want[field];
    if (to === undefined) continue;
    const from = call[field];
    if (from === to) continue;
    changes.push({ field, from: from ?? null, to });
    // Numbers and booleans are stored as they are, strings as ImmutableStrings (schema.ts).
    (set as Record<string, unknown>)[field] = typeof to === 'string' ? imm(to) : to;
    if (from !== undefined) (was as Record<string, unknown>)[field] = typeof from === 'string' ? imm(from) : from;
  }
  if (changes.length === 0) fail('(update)', `nothing to change: call ${cid} already has every value given`);
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'updated', { set, was, reason: imm(describeChanges(changes, reason)) });
  });
}

/**
 * The sending half of a transfer between sector boards: marks the call on this board as
 * transferred to `toSector` (state `transferred`, with the reference), not cancelled. The
 * receiving half is receiveTransfer on the other sector's board; dispatch/transfer.ts writes both,
 * receiving side first, and completes a transfer a restart cut in two. A call being worked by a
 * unit of this board is not transferred.
 */
export function transferCall(doc: SectorBoard, input: { callId: CallId | string; toSector: string; reason: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const to = reqId('toSector', input.toSector);
  const reason = reqText('reason', input.reason, 200);
  requireRole(ctx, 'transferCall', ['operator', 'policy']);
  if (to === txt(doc.sector)) fail('toSector', `call ${cid} is already on the board of sector ${to}`);
  const call = requireOpen(doc, cid, 'transferCall');
  if (call.assigned.length > 0) throw new BoardError('invalid_transition', `transferCall: call ${cid} is being worked by ${call.assigned.join(', ')}; only a call without a unit is transferred`, 'callId');
  return commit(doc, ctx, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'transferred', { sector: imm(to), reason: imm(reason) });
  });
}

export interface ReceiveTransferInput {
  /** The call as it stands on the sending board (same id, CAD number and report). */
  call: CreateCallInput & { id: CallId | string };
  from: { sector: string; callId?: string };
  reason: string;
}

/**
 * The receiving half of a transfer: the call appears on this board with a reference to where it
 * came from. Idempotent: receiving the same transfer again (a retry after a restart) changes
 * nothing; a different call with the same id is refused.
 */
export function receiveTransfer(doc: SectorBoard, input: ReceiveTransferInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  requireRole(ctx, 'receiveTransfer', ['operator', 'policy']);
  const { id, stored } = validateNewCall(input.call, ctx);
  const fromSector = reqId('from.sector', input.from.sector);
  const fromCall = input.from.callId === undefined ? id : reqId('from.callId', input.from.callId);
  const reason = reqText('reason', input.reason, 200);
  if (fromSector === txt(doc.sector)) fail('from.sector', `a call is not transferred to its own sector ${fromSector}`);
  const existing = callView(doc, id);
  if (existing) {
    if (existing.transferredFrom?.sector === fromSector && existing.transferredFrom.callId === fromCall) return doc;
    throw new BoardError('exists', `call ${id} already exists on this board${existing.transferredFrom ? ` (transferred from sector ${existing.transferredFrom.sector})` : ''}`, 'callId');
  }
  stored.transferredFrom = { sector: imm(fromSector), callId: imm(fromCall), at: ctx.at };
  return commit(doc, ctx, (d) => {
    d.calls[id] = stored;
    d.callLog[logKey(id, ctx.at)] = callEvent(ctx, 'created', { reason: imm(`transferred from sector ${fromSector}: ${reason}`.slice(0, 200)) });
  });
}
