// What dispatchers, Watch Commanders and CARE operators do to calls and reports at the precinct:
// create, update and cancel calls, override the policy (assign by hand, release or extend a hold)
// and deliver CARE reports. Shared by the JSON API and the Watch Commander console, so both
// validate the same way and record who did what in the call's history.
import { randomBytes } from 'node:crypto';
import * as board from '../sync/board.js';
import { BoardError, type CallView, type OpContext, type Priority, type Recipient } from '../sync/schema.js';
import type { SectorReplica } from '../sync/replica.js';
import type { Department } from '../daemon/department.js';
import type { Operator, OperatorRole } from '../daemon/operators.js';
import type { PrecinctDispatch } from './station.js';
import { beatOfficersOfDay, coversSector, supervisorsOf } from './schedule.js';
import { formatDuration } from './clock.js';

/** An error for the HTTP layer: status, a stable code and the field at fault. */
export class ActionError extends Error {
  override readonly name = 'ActionError';
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly code: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface ActionDeps {
  precinct: { id: string; name: string };
  department: Department;
  sectors: ReadonlyMap<string, { replica: SectorReplica }>;
  dispatch: PrecinctDispatch;
}

const OVERRIDERS: readonly OperatorRole[] = ['dispatcher', 'watch_commander'];
const CAD: readonly OperatorRole[] = ['dispatcher', 'watch_commander'];
const CARE: readonly OperatorRole[] = ['care', 'watch_commander'];

function requireRole(op: Operator, roles: readonly OperatorRole[], what: string): void {
  if (!roles.includes(op.role)) throw new ActionError(403, 'forbidden', undefined, `${what} needs the role ${roles.join(' or ')}; ${op.id} is ${op.role}`);
}

/** Board refusals keep their code and field; the status says whose fault it is. */
export function fromBoardError(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  if (err instanceof BoardError) {
    const status = err.code === 'invalid_input' ? 400 : err.code === 'not_found' ? 404 : err.code === 'forbidden' ? 403 : 409;
    return new ActionError(status, err.code, err.field, err.message);
  }
  return new ActionError(409, 'refused', undefined, err instanceof Error ? err.message : String(err));
}

export function ctxOf(deps: ActionDeps, op: Operator): OpContext {
  return { by: { kind: 'operator', operatorId: op.id, role: op.role }, at: deps.dispatch.clock.now() };
}

/**
 * A call wherever it is in the precinct. A transferred call is on two boards under the same id:
 * the board that works it now is preferred over the one it left.
 */
export function findCall(deps: ActionDeps, callId: string): { sector: string; replica: SectorReplica; call: CallView } {
  let left: { sector: string; replica: SectorReplica; call: CallView } | undefined;
  for (const [sector, s] of deps.sectors) {
    const call = s.replica.view().calls[callId];
    if (!call) continue;
    if (call.state !== 'transferred') return { sector, replica: s.replica, call };
    left ??= { sector, replica: s.replica, call };
  }
  if (left) return left;
  throw new ActionError(404, 'not_found', 'callId', `call ${callId} is not on any board of precinct ${deps.precinct.id}`);
}

export async function write(replica: SectorReplica, fn: (d: board.SectorBoard) => board.SectorBoard): Promise<void> {
  try {
    await replica.update(fn);
  } catch (err) {
    throw fromBoardError(err);
  }
}

export interface NewCall {
  cadNumber?: string | undefined;
  type: string;
  priority: 1 | 2 | 3 | 4;
  late?: boolean | undefined;
  /** When the incident happened, if the caller knows: a report long after it is a late report. */
  occurredAt?: number | undefined;
  address: string;
  beat: string;
  lat?: number | undefined;
  lon?: number | undefined;
  callerNotes?: string | undefined;
}

let cadSeq = 0;
function nextCadNumber(now: number): string {
  cadSeq += 1;
  return `${new Date(now).getUTCFullYear()}-${String(now % 1_000_000).padStart(6, '0')}${cadSeq}`;
}

/** The policy's latest word on a call: its hold reason, or the reason written with its decision. */
export function lastDecision(call: CallView): string | undefined {
  if (call.state === 'held' && call.hold) return call.hold.reason;
  for (let i = call.history.length - 1; i >= 0; i--) {
    const h = call.history[i]!;
    if (h.by.kind === 'policy' && h.reason) return h.reason;
  }
  for (let i = call.notes.length - 1; i >= 0; i--) if (call.notes[i]!.by.kind === 'policy') return call.notes[i]!.text;
  return undefined;
}

export async function createCall(deps: ActionDeps, op: Operator, input: NewCall): Promise<{ id: string; sector: string; call: CallView }> {
  requireRole(op, CAD, 'creating a call');
  const beat = deps.department.beats[input.beat];
  if (!beat) throw new ActionError(400, 'invalid', 'beat', `unknown beat ${input.beat}`);
  const s = deps.sectors.get(beat.sector);
  if (!s) throw new ActionError(400, 'invalid', 'beat', `beat ${input.beat} is in sector ${beat.sector}, not served by precinct ${deps.precinct.id}`);
  const ctx = ctxOf(deps, op);
  if (input.occurredAt !== undefined && input.occurredAt > ctx.at + 60_000) throw new ActionError(400, 'invalid', 'occurredAt', 'is in the future');
  const late = input.late === true || (input.occurredAt !== undefined && ctx.at - input.occurredAt >= deps.dispatch.lateReportMs);
  const cadNumber = input.cadNumber ?? nextCadNumber(ctx.at);
  await write(s.replica, (d) =>
    board.createCall(
      d,
      {
        cadNumber,
        type: input.type,
        priority: input.priority as Priority,
        late,
        address: input.address,
        beat: input.beat,
        ...(input.lat !== undefined && input.lon !== undefined ? { lat: input.lat, lon: input.lon } : {}),
        ...(input.callerNotes ? { callerNotes: input.callerNotes } : {}),
      },
      ctx,
    ),
  );
  // The policy decides before the CAD gets its answer, so the answer carries the decision.
  await deps.dispatch.evaluate();
  const found = findCall(deps, cadNumber);
  return { id: cadNumber, sector: found.sector, call: found.call };
}

export interface CallUpdate {
  type?: string | undefined;
  priority?: 1 | 2 | 3 | 4 | undefined;
  late?: boolean | undefined;
  address?: string | undefined;
  beat?: string | undefined;
  lat?: number | undefined;
  lon?: number | undefined;
  callerNotes?: string | undefined;
  /** Why, in the CAD's words: recorded with the change. */
  reason?: string | undefined;
  /** A supplement for the narrative, added as a note. */
  note?: string | undefined;
}

/**
 * A CAD update. Changed fields are one `updated` entry in the call's history (who, old -> new);
 * the policy then decides again at once, so a held call raised to P1 is dispatched now and a
 * new beat has its own beat officer. A beat of another sector is refused: that is a transfer.
 */
export async function updateCall(deps: ActionDeps, op: Operator, callId: string, input: CallUpdate): Promise<CallView> {
  requireRole(op, CAD, 'updating a call');
  const { sector, replica, call } = findCall(deps, callId);
  if (input.beat !== undefined && input.beat !== call.beat) {
    const beat = deps.department.beats[input.beat];
    if (!beat) throw new ActionError(400, 'invalid', 'beat', `unknown beat ${input.beat}`);
    if (beat.sector !== sector) {
      throw new ActionError(400, 'invalid', 'beat', `beat ${input.beat} is in sector ${beat.sector}, call ${callId} is on sector ${sector}'s board: transfer the call (POST /api/v1/calls/${callId}/transfer) instead`);
    }
  }
  const { note, reason, ...fields } = input;
  const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const ctx = ctxOf(deps, op);
  await write(replica, (d) => {
    const updated = Object.keys(changes).length > 0 ? board.updateCall(d, { callId, ...changes, ...(reason ? { reason } : {}) }, ctx) : d;
    return note ? board.addNote(updated, { callId, text: `CAD update by ${op.id}: ${note}` }, { ...ctx, at: ctx.at + 1 }) : updated;
  });
  await deps.dispatch.evaluate();
  return findCall(deps, callId).call;
}

/**
 * A call handed to another sector of this precinct by an operator (dispatch/transfer.ts): it
 * appears on that sector's board, where the policy decides it (or `unitId` of that sector takes
 * it at once), and shows as transferred on the board it left.
 */
export async function transferCall(deps: ActionDeps, op: Operator, callId: string, input: { toSector: string; reason: string; unitId?: string | undefined }): Promise<{ sector: string; call: CallView }> {
  requireRole(op, OVERRIDERS, 'transferring a call');
  const { sector, replica, call } = findCall(deps, callId);
  const target = deps.sectors.get(input.toSector);
  if (!target) throw new ActionError(400, 'invalid', 'toSector', `sector ${input.toSector} is not served by precinct ${deps.precinct.id}`);
  if (call.state === 'transferred') throw new ActionError(409, 'call_closed', 'callId', `call ${callId} was already transferred to sector ${call.transferredTo?.sector ?? '?'}`);
  const text = clip(`transferred by ${op.id} (${op.role}) to sector ${input.toSector}: ${input.reason}`);
  try {
    await deps.dispatch.dispatcher.transferCall({
      from: { sector, replica },
      to: { sector: input.toSector, replica: target.replica },
      callId,
      reason: text,
      ctx: ctxOf(deps, op),
      ...(input.unitId ? { assign: { unitId: input.unitId, reason: clip(`override by ${op.id} (${op.role}): assigned ${input.unitId} with the transfer: ${input.reason}`) } } : {}),
    });
  } catch (err) {
    throw fromBoardError(err);
  }
  await deps.dispatch.evaluate();
  return { sector: input.toSector, call: target.replica.view().calls[callId]! };
}

export async function cancelCall(deps: ActionDeps, op: Operator, callId: string, input: { reason: string }): Promise<CallView> {
  requireRole(op, CAD, 'cancelling a call');
  const { replica } = findCall(deps, callId);
  await write(replica, (d) => board.cancelCall(d, { callId, reason: clip(`cancelled by ${op.id}: ${input.reason}`) }, ctxOf(deps, op)));
  await deps.dispatch.evaluate();
  return findCall(deps, callId).call;
}

const clip = (s: string): string => (s.length <= 200 ? s : `${s.slice(0, 199)}…`);

/** Override: a unit assigned by hand, with the operator and reason on the assignment itself. */
export async function assignByHand(deps: ActionDeps, op: Operator, callId: string, input: { unitId: string; reason: string }): Promise<CallView> {
  requireRole(op, OVERRIDERS, 'assigning a unit by hand');
  const { replica } = findCall(deps, callId);
  if (!replica.view().units[input.unitId]) throw new ActionError(404, 'not_found', 'unitId', `unit ${input.unitId} is not on the board of call ${callId}`);
  const reason = clip(`override by ${op.id} (${op.role}): assigned ${input.unitId} by hand: ${input.reason}`);
  await write(replica, (d) => board.assignUnit(d, { callId, unitId: input.unitId, reason }, ctxOf(deps, op)));
  await deps.dispatch.evaluate();
  return findCall(deps, callId).call;
}

/** Override: stop waiting for the beat officer; the policy then sends the nearest available unit. */
export async function releaseHold(deps: ActionDeps, op: Operator, callId: string, input: { reason: string }): Promise<CallView> {
  requireRole(op, OVERRIDERS, 'releasing a hold');
  const { replica } = findCall(deps, callId);
  await write(replica, (d) => board.releaseHold(d, { callId, reason: clip(`hold released by ${op.id} (${op.role}): ${input.reason}`) }, ctxOf(deps, op)));
  await deps.dispatch.evaluate();
  return findCall(deps, callId).call;
}

/** Override: wait longer for the beat officer; the new deadline is the old one plus `minutes`. */
export async function extendHold(deps: ActionDeps, op: Operator, callId: string, input: { minutes: number; reason: string }): Promise<CallView> {
  requireRole(op, OVERRIDERS, 'extending a hold');
  const { replica, call } = findCall(deps, callId);
  if (call.state !== 'held' || !call.hold) throw new ActionError(409, 'invalid_transition', 'callId', `call ${callId} is ${call.state}, not held`);
  const hold = call.hold;
  const until = Math.max(hold.deadline, deps.dispatch.clock.now()) + input.minutes * 60_000;
  const ctx = ctxOf(deps, op);
  const reason = clip(`hold extended by ${op.id} (${op.role}) +${formatDuration(input.minutes * 60_000)}: ${input.reason}`);
  await write(replica, (d) => {
    const released = board.releaseHold(d, { callId, reason: 'hold extended' }, ctx);
    return board.holdCall(released, { callId, until, reason, ...(hold.unitId ? { unitId: hold.unitId } : {}) }, { ...ctx, at: ctx.at + 1 });
  });
  return findCall(deps, callId).call;
}

export interface NewReport {
  beat: string;
  callId?: string | undefined;
  title: string;
  body: string;
  incidentAt: number;
}

/**
 * Recipients of a CARE report: every beat officer of the incident's beat that day (each watch owns
 * the beat), and the sector's supervisors and Watch Commander from the schedule. Without a
 * schedule: the units whose home beat it is, and the sector's Watch Commander as `WC-<sector>`.
 */
export function reportRecipients(deps: ActionDeps, sector: string, beat: string, at: number): Recipient[] {
  const schedule = deps.dispatch.schedule;
  const view = deps.sectors.get(sector)?.replica.view();
  const scheduled = schedule && coversSector(schedule, deps.department, sector);
  const units = scheduled ? beatOfficersOfDay(schedule, beat, at) : Object.values(view?.units ?? {}).filter((u) => u.homeBeat === beat).map((u) => u.id).sort();
  const sups = schedule ? supervisorsOf(schedule, sector).map((s) => s.id) : [];
  const out: Recipient[] = [...units.map((id) => ({ kind: 'unit' as const, id })), ...(sups.length > 0 ? sups : [`WC-${sector}`]).map((id) => ({ kind: 'supervisor' as const, id }))];
  return out.slice(0, 20);
}

export async function createReport(deps: ActionDeps, op: Operator, input: NewReport): Promise<{ id: string; sector: string; recipients: Recipient[] }> {
  requireRole(op, CARE, 'entering a CARE report');
  const beat = deps.department.beats[input.beat];
  if (!beat) throw new ActionError(400, 'invalid', 'beat', `unknown beat ${input.beat}`);
  const s = deps.sectors.get(beat.sector);
  if (!s) throw new ActionError(400, 'invalid', 'beat', `beat ${input.beat} is in sector ${beat.sector}, not served by precinct ${deps.precinct.id}`);
  const ctx = ctxOf(deps, op);
  if (input.incidentAt > ctx.at + 60_000) throw new ActionError(400, 'invalid', 'incidentAt', 'is in the future');
  if (input.callId !== undefined && !s.replica.view().calls[input.callId]) throw new ActionError(400, 'invalid', 'callId', `call ${input.callId} is not on the board of sector ${beat.sector}`);
  const recipients = reportRecipients(deps, beat.sector, input.beat, ctx.at);
  const id = `R-${ctx.at.toString(36)}-${randomBytes(3).toString('hex')}`;
  await write(s.replica, (d) =>
    board.deliverReport(d, { id, beat: input.beat, ...(input.callId ? { callId: input.callId } : {}), title: input.title, body: input.body, incidentAt: input.incidentAt, recipients }, ctx),
  );
  return { id, sector: beat.sector, recipients };
}

/** A supervisor reading a report at the precinct: the board records the read receipt. */
export async function markReportRead(deps: ActionDeps, op: Operator, sector: string, reportId: string, input: { readerId: string }): Promise<void> {
  const s = deps.sectors.get(sector);
  if (!s) throw new ActionError(404, 'not_found', 'sector', `sector ${sector} is not served by precinct ${deps.precinct.id}`);
  await write(s.replica, (d) => board.markRead(d, { reportId, readerId: input.readerId }, ctxOf(deps, op)));
}
