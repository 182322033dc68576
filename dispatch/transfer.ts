// A call handed from one sector's board to another's (one Automerge document per sector): used by
// the dispatcher when an emergency is answered from an adjacent sector, and by operators by hand.
//
// Two documents cannot change in one atomic write, so the order is chosen to make a restart
// between the writes harmless:
//   1. the receiving board gets the call, with a reference to where it came from (and, when a unit
//      is sent with it, the assignment and its reason in the same durable write);
//   2. the sending board marks its call transferred, with a reference to the receiving sector.
// A precinct stopped between 1 and 2 finds, at its next dispatch pass, a received call whose home
// copy is still open: completeTransfers writes step 2 then. The reverse order could lose the
// call: marked transferred at home, never arrived at the other board. Until step 2 is written the
// dispatcher leaves the home copy alone (it is not decided again), so no second unit is sent.
import * as board from '../sync/board.js';
import { BoardError, isClosedCallState, type CallView, type Logger, type OpContext } from '../sync/schema.js';
import type { SectorReplica } from '../sync/replica.js';

export interface BoardEnd {
  sector: string;
  replica: SectorReplica;
}

export interface TransferRequest {
  from: BoardEnd;
  to: BoardEnd;
  callId: string;
  reason: string;
  ctx: OpContext;
  /** A unit of the receiving sector sent with the call; it must be available there. */
  assign?: { unitId: string; reason: string };
}

const clip = (s: string): string => (s.length <= 200 ? s : `${s.slice(0, 199)}…`);
const later = (ctx: OpContext): OpContext => ({ ...ctx, at: ctx.at + 1 });

/** Why a call cannot leave its board now, or undefined when it can. */
function refusal(call: CallView | undefined, from: string, to: string, callId: string): BoardError | undefined {
  if (!call) return new BoardError('not_found', `call ${callId} is not on the board of sector ${from}`, 'callId');
  if (from === to) return new BoardError('invalid_input', `toSector: call ${callId} is already on the board of sector ${to}`, 'toSector');
  if (isClosedCallState(call.state)) return new BoardError('call_closed', `transfer: call ${callId} is already ${call.state}`, 'callId');
  if (call.assigned.length > 0) return new BoardError('invalid_transition', `transfer: call ${callId} is being worked by ${call.assigned.join(', ')}; only a call without a unit is transferred`, 'callId');
  return undefined;
}

/** Both writes of a transfer, receiving board first. Returns the call as the receiving board has it. */
export async function transferBetweenBoards(req: TransferRequest): Promise<CallView> {
  const { from, to, callId, ctx } = req;
  const call = from.replica.view().calls[callId];
  const refused = refusal(call, from.sector, to.sector, callId);
  if (refused || !call) throw refused;
  await to.replica.update((doc) => {
    if (req.assign) {
      const unit = to.replica.view().units[req.assign.unitId];
      if (unit?.status !== 'available') {
        throw new BoardError('unit_unavailable', `transfer: unit ${req.assign.unitId} of sector ${to.sector} is ${unit ? unit.status.replace(/_/g, ' ') : 'not on its board'}`, 'unitId');
      }
    }
    const received = board.receiveTransfer(doc, { call: copyOf(call), from: { sector: from.sector, callId }, reason: clip(req.reason) }, ctx);
    return req.assign ? board.assignUnit(received, { callId, unitId: req.assign.unitId, reason: clip(req.assign.reason) }, later(ctx)) : received;
  });
  await from.replica.update((doc) => {
    // Written already (a completion raced this writer): nothing more to do.
    if (from.replica.view().calls[callId]?.transferredTo?.sector === to.sector) return doc;
    return board.transferCall(doc, { callId, toSector: to.sector, reason: clip(req.reason) }, later(later(ctx)));
  });
  return to.replica.view().calls[callId]!;
}

/** The call's report as it stands (updates included), for the receiving board. */
function copyOf(call: CallView): board.ReceiveTransferInput['call'] {
  return {
    id: call.id,
    cadNumber: call.cadNumber,
    type: call.type,
    priority: call.priority,
    late: call.late,
    address: call.address,
    beat: call.beat,
    ...(call.lat !== undefined && call.lon !== undefined ? { lat: call.lat, lon: call.lon } : {}),
    ...(call.callerNotes ? { callerNotes: call.callerNotes } : {}),
    receivedAt: call.receivedAt,
  };
}

/** Whether a transfer of (sending sector, call id) is being written right now by this process. */
export type InFlight = (fromSector: string, callId: string) => boolean;

/**
 * A received call whose home copy is still open on a board of `sectors` and not yet marked
 * transferred, and whose transfer is not being written right now: the second write of a transfer
 * that a restart cut off.
 */
function unfinishedTransfers(sectors: ReadonlyMap<string, { replica: SectorReplica }>, inFlight: InFlight): Array<{ to: string; from: string; call: CallView; home: CallView }> {
  const out: Array<{ to: string; from: string; call: CallView; home: CallView }> = [];
  for (const [to, s] of sectors) {
    for (const call of Object.values(s.replica.view().calls)) {
      const ref = call.transferredFrom;
      if (!ref || inFlight(ref.sector, ref.callId)) continue;
      const home = sectors.get(ref.sector)?.replica.view().calls[ref.callId];
      if (home && !home.transferredTo && !isClosedCallState(home.state)) out.push({ to, from: ref.sector, call, home });
    }
  }
  return out;
}

/** Whether a call is the home copy of an unfinished transfer: the dispatcher must not decide it. */
export function isLeavingBoard(sectors: ReadonlyMap<string, { replica: SectorReplica }>, sector: string, callId: string): boolean {
  for (const [to, s] of sectors) {
    if (to === sector) continue;
    const ref = s.replica.view().calls[callId]?.transferredFrom;
    if (ref?.sector === sector && ref.callId === callId) return true;
  }
  return false;
}

/**
 * Writes the missing second half of every unfinished transfer. A home copy that a unit of its own
 * board took in the meantime cannot be marked transferred (the unit is working it): both boards
 * then have the call and a note on each says so, once, for the Watch Commander to settle.
 */
export async function completeTransfers(sectors: ReadonlyMap<string, { replica: SectorReplica }>, inFlight: InFlight, ctx: () => OpContext, log: Logger): Promise<number> {
  let done = 0;
  for (const { to, from, call, home } of unfinishedTransfers(sectors, inFlight)) {
    const fromReplica = sectors.get(from)!.replica;
    if (home.assigned.length > 0) {
      const text = `transfer to sector ${to} not completed: ${home.assigned.join(', ')} of sector ${from} took the call; sector ${to}'s board has it too`;
      for (const [s, id] of [[from, home.id], [to, call.id]] as const) {
        const replica = sectors.get(s)!.replica;
        if (replica.view().calls[id]?.notes.some((n) => n.text === text)) continue;
        await replica.update((d) => board.addNote(d, { callId: id, text }, ctx()));
      }
      log.warn({ callId: home.id, from, to, units: home.assigned }, 'transfer cut by a restart could not be completed: the call was taken at home');
      continue;
    }
    const received = call.history.find((h) => h.event === 'created')?.reason ?? `transferred from sector ${from}`;
    const why = received.replace(/^transferred from sector [^:]+: /, '');
    await fromReplica.update((d) => board.transferCall(d, { callId: home.id, toSector: to, reason: clip(`${why} (completed after a restart)`) }, ctx()));
    log.warn({ callId: home.id, from, to }, 'transfer cut by a restart completed on the sending board');
    done += 1;
  }
  return done;
}
