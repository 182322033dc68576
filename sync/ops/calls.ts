// Call operations. The call record holds what the CAD reported (written once at creation); every
// later fact (assignment, acceptance, progress, hold, notes, closing) is an event in the call log.
import { isDisposition } from '../registries/dispositions.js';
import { BoardError, type CallEventKind, type CallId, type CallView, type OpContext, type Priority, type StoredCall, type StoredCallEvent, type UnitId } from '../schema.js';
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
  if (c.state === 'cleared' || c.state === 'cancelled') throw new BoardError('call_closed', `${op}: call ${id} is already ${c.state}`, 'callId');
  return c;
}

function callEvent(ctx: OpContext, event: CallEventKind, extra: Partial<Omit<StoredCallEvent, 'event' | 'at' | 'by'>> = {}): StoredCallEvent {
  return { event: imm(event), at: ctx.at, by: storeActor(ctx.by), ...extra };
}

export function createCall(doc: SectorBoard, input: CreateCallInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cadNumber = reqId('cadNumber', input.cadNumber);
  const id = input.id === undefined ? cadNumber : reqId('id', input.id);
  const type = reqText('type', input.type, 64);
  if (![1, 2, 3, 4].includes(input.priority)) fail('priority', `must be 1 (emergency) to 4, got ${JSON.stringify(input.priority)}`);
  const address = reqText('address', input.address, 200);
  const beat = reqId('beat', input.beat);
  const callerNotes = optText('callerNotes', input.callerNotes, 2000) ?? '';
  const receivedAt = input.receivedAt === undefined ? ctx.at : reqTime('receivedAt', input.receivedAt);
  if (input.late !== undefined && typeof input.late !== 'boolean') fail('late', 'must be a boolean');
  const { lat, lon } = input;
  if ((lat === undefined) !== (lon === undefined)) fail(lat === undefined ? 'lat' : 'lon', 'lat and lon come together');
  if (lat !== undefined && (typeof lat !== 'number' || !(lat >= -90 && lat <= 90))) fail('lat', 'must be a latitude in degrees');
  if (lon !== undefined && (typeof lon !== 'number' || !(lon >= -180 && lon <= 180))) fail('lon', 'must be a longitude in degrees');
  if (doc.calls[id]) throw new BoardError('exists', `call ${id} already exists on this board`, 'id');
  const stored: StoredCall = {
    cadNumber: imm(cadNumber),
    type: imm(type),
    priority: input.priority,
    late: input.late === true,
    address: imm(address),
    beat: imm(beat),
    callerNotes: imm(callerNotes),
    receivedAt,
  };
  if (lat !== undefined && lon !== undefined) {
    stored.lat = lat;
    stored.lon = lon;
  }
  return commit(doc, ctx, `createCall ${id}`, (d) => {
    d.calls[id] = stored;
    d.callLog[logKey(id, ctx.at)] = callEvent(ctx, 'created');
  });
}

export function assignUnit(doc: SectorBoard, input: { callId: CallId | string; unitId: UnitId | string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const uid = reqId('unitId', input.unitId);
  requireRole(ctx, 'assignUnit', ['operator', 'policy']);
  const call = requireOpen(doc, cid, 'assignUnit');
  const unit = requireUnit(doc, uid);
  if (unit.status === 'off_duty' || unit.status === 'out_of_service' || unit.status === 'emergency') {
    throw new BoardError('unit_unavailable', `assignUnit: unit ${uid} is ${unit.status}${unit.statusReason ? ` (${unit.statusReason})` : ''}`, 'unitId');
  }
  if (call.assigned.includes(uid)) throw new BoardError('invalid_transition', `assignUnit: unit ${uid} is already on call ${cid}`, 'unitId');
  return commit(doc, ctx, `assignUnit ${cid} ${uid}`, (d) => {
    // A unit moved off another open call leaves it explicitly, so that call's roster stays true.
    if (unit.callId && unit.callId !== cid) d.callLog[logKey(unit.callId, ctx.at)] = callEvent(ctx, 'unassigned', { unit: imm(uid), reason: imm(`reassigned to ${cid}`) });
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'assigned', { unit: imm(uid) });
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
  return commit(doc, ctx, `acceptCall ${cid} ${uid}`, (d) => {
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
  return commit(doc, ctx, `holdCall ${cid}`, (d) => {
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
  return commit(doc, ctx, `releaseHold ${cid}`, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'released', { reason: imm(reason) });
  });
}

export function addNote(doc: SectorBoard, input: { callId: CallId | string; text: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const text = reqText('text', input.text, 4000);
  // Notes are allowed on closed calls too: supplements after clearing are routine.
  requireCall(doc, cid);
  return commit(doc, ctx, `addNote ${cid}`, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'note', { text: imm(text) });
  });
}

export function clearCall(doc: SectorBoard, input: { callId: CallId | string; disposition: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const disposition = reqText('disposition', input.disposition, 32);
  if (!isDisposition(disposition)) fail('disposition', `unknown disposition code ${JSON.stringify(disposition)} (see sync/registries/dispositions.ts)`);
  requireOpen(doc, cid, 'clearCall');
  return commit(doc, ctx, `clearCall ${cid}`, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'cleared', { disposition: imm(disposition) });
  });
}

export function cancelCall(doc: SectorBoard, input: { callId: CallId | string; reason: string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const cid = reqId('callId', input.callId);
  const reason = reqText('reason', input.reason, 200);
  requireRole(ctx, 'cancelCall', ['operator', 'policy']);
  requireOpen(doc, cid, 'cancelCall');
  return commit(doc, ctx, `cancelCall ${cid}`, (d) => {
    d.callLog[logKey(cid, ctx.at)] = callEvent(ctx, 'cancelled', { reason: imm(reason) });
  });
}
