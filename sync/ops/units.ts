// Unit operations: roster entry, sign-on/off and status changes. Status changes are appended to
// the unit log; when the unit is on a call the matching call event is appended in the same change,
// so a call's progress and its unit's status can never be seen half-applied.
import {
  BoardError,
  PATROL_MODES,
  UNIT_STATUSES,
  type OpContext,
  type PatrolMode,
  type StoredUnitEvent,
  type UnitId,
  type UnitStatus,
  type UnitView,
} from '../schema.js';
import {
  checkCtx,
  commit,
  imm,
  logKey,
  optText,
  reqId,
  reqOneOf,
  reqText,
  reqTextList,
  requireOwnUnit,
  storeActor,
  txt,
  type SectorBoard,
} from './common.js';
import { ON_CALL } from './derive.js';
import { callView, unitView } from './read.js';

export interface UpsertUnitInput {
  id: UnitId | string;
  callSign: string;
  homeBeat: string;
  mode: PatrolMode;
  officers?: string[];
}

export function upsertUnit(doc: SectorBoard, input: UpsertUnitInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('id', input.id);
  const callSign = reqText('callSign', input.callSign, 32);
  const homeBeat = reqId('homeBeat', input.homeBeat);
  const mode = reqOneOf('mode', input.mode, PATROL_MODES);
  const officers = input.officers === undefined ? undefined : reqTextList('officers', input.officers, 4, 64);
  requireOwnUnit(ctx, 'upsertUnit', id);
  const existing = doc.units[id];
  if (existing) {
    const same =
      txt(existing.callSign) === callSign &&
      txt(existing.homeBeat) === homeBeat &&
      txt(existing.mode) === mode &&
      (officers === undefined || JSON.stringify(existing.officers.map((o) => txt(o))) === JSON.stringify(officers));
    // An unchanged roster entry writes nothing: rosters are re-sent at every shift start.
    if (same) return doc;
    return commit(doc, ctx, (d) => {
      const u = d.units[id];
      if (!u) return;
      if (txt(u.callSign) !== callSign) u.callSign = imm(callSign);
      if (txt(u.homeBeat) !== homeBeat) u.homeBeat = imm(homeBeat);
      if (txt(u.mode) !== mode) u.mode = imm(mode);
      if (officers !== undefined) u.officers = officers.map(imm);
    });
  }
  return commit(doc, ctx, (d) => {
    d.units[id] = { callSign: imm(callSign), homeBeat: imm(homeBeat), mode: imm(mode), officers: (officers ?? []).map(imm), createdAt: ctx.at };
  });
}

export function requireUnit(doc: SectorBoard, id: string): UnitView {
  const u = unitView(doc, id);
  if (!u) throw new BoardError('not_found', `unit ${id} is not on this sector board (upsertUnit first)`, 'unitId');
  return u;
}

function unitEvent(ctx: OpContext, status: UnitStatus, extra: { reason?: string; call?: string; officers?: string[]; rider?: string }): StoredUnitEvent {
  const e: StoredUnitEvent = { status: imm(status), at: ctx.at, by: storeActor(ctx.by) };
  if (extra.reason) e.reason = imm(extra.reason);
  if (extra.call) e.call = imm(extra.call);
  if (extra.officers) e.officers = extra.officers.map(imm);
  if (extra.rider) e.rider = imm(extra.rider);
  return e;
}

export interface SignOnInput {
  unitId: UnitId | string;
  officers: string[];
  rider?: string;
}

export function signOn(doc: SectorBoard, input: SignOnInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('unitId', input.unitId);
  const officers = reqTextList('officers', input.officers, 4, 64);
  if (officers.length === 0) throw new BoardError('invalid_input', 'officers: at least one officer signs on', 'officers');
  const rider = optText('rider', input.rider, 64);
  requireOwnUnit(ctx, 'signOn', id);
  const unit = requireUnit(doc, id);
  // A crew change while free is a new sign-on; while busy it would hide the call the unit is on.
  if (unit.status !== 'off_duty' && unit.status !== 'available') {
    throw new BoardError('invalid_transition', `unit ${id} is ${unit.status}: sign-on (or crew change) only when off duty or available`, 'unitId');
  }
  return commit(doc, ctx, (d) => {
    d.unitLog[logKey(id, ctx.at)] = unitEvent(ctx, 'available', { officers, ...(rider ? { rider } : {}) });
  });
}

export function signOff(doc: SectorBoard, input: { unitId: UnitId | string }, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('unitId', input.unitId);
  requireOwnUnit(ctx, 'signOff', id);
  const unit = requireUnit(doc, id);
  if (unit.status === 'off_duty') throw new BoardError('invalid_transition', `unit ${id} is already off duty`, 'unitId');
  if (unit.callId !== undefined || unit.status === 'emergency') {
    throw new BoardError('invalid_transition', `unit ${id} is ${unit.status}${unit.callId ? ` on call ${unit.callId}` : ''}: clear it before signing off`, 'unitId');
  }
  return commit(doc, ctx, (d) => {
    d.unitLog[logKey(id, ctx.at)] = unitEvent(ctx, 'off_duty', { officers: [] });
  });
}

export interface SetUnitStatusInput {
  unitId: UnitId | string;
  status: UnitStatus;
  reason?: string;
}

export function setUnitStatus(doc: SectorBoard, input: SetUnitStatusInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('unitId', input.unitId);
  const status = reqOneOf('status', input.status, UNIT_STATUSES);
  const reason = optText('reason', input.reason, 200);
  requireOwnUnit(ctx, 'setUnitStatus', id);
  const unit = requireUnit(doc, id);
  if (status === 'off_duty' || unit.status === 'off_duty') {
    throw new BoardError('invalid_transition', `unit ${id}: use signOn/signOff to come on or go off duty (now ${unit.status})`, 'status');
  }
  if (status === 'dispatched') throw new BoardError('invalid_transition', `unit ${id}: a unit is dispatched by assignUnit, not by a status change`, 'status');
  if (status === 'out_of_service' && !reason) throw new BoardError('invalid_input', 'reason: out of service needs a reason', 'reason');
  if (status === unit.status && reason === unit.statusReason) return doc;
  const activeCall = unit.callId;
  const call = activeCall ? callView(doc, activeCall) : undefined;
  return commit(doc, ctx, (d) => {
    // On-call statuses and an emergency keep the call reference; anything else leaves the call.
    const keepsCall = activeCall && (ON_CALL.has(status) || status === 'emergency');
    d.unitLog[logKey(id, ctx.at)] = unitEvent(ctx, status, { ...(reason ? { reason } : {}), ...(keepsCall ? { call: activeCall } : {}) });
    if (!activeCall || !call) return;
    const callEvent = status === 'en_route' || status === 'on_scene' || status === 'transporting' ? status : status === 'emergency' ? undefined : 'unassigned';
    if (!callEvent) return;
    d.callLog[logKey(activeCall, ctx.at)] = { event: imm(callEvent), at: ctx.at, by: storeActor(ctx.by), unit: imm(id), ...(reason ? { reason: imm(reason) } : {}) };
  });
}
