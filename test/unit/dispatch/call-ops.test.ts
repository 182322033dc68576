// The call operations dispatch relies on: updateCall, transferCall / receiveTransfer and
// assignUnit with its reason. Each is checked for its validation (the field is named), its
// refusals, the history it writes, and the outcome of its concurrent edits after a merge, in
// every merge order (docs/sector-board.md, "Concurrent edits").
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { BoardError, type BoardView, type StoredBoard } from '../../../sync/schema.js';
import { checkAuthorship } from '../../../sync/author-guard.js';
import { at, car, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

const fork = (d: board.SectorBoard, n: number): board.SectorBoard => Automerge.clone(d, hexActor(n));

/** Merges the replicas in every order; all orders must give one view, which is returned. */
function converged(replicas: board.SectorBoard[]): BoardView {
  const orders: number[][] = [];
  const permute = (rest: number[], acc: number[]) => {
    if (rest.length === 0) orders.push(acc);
    for (const i of rest) permute(rest.filter((x) => x !== i), [...acc, i]);
  };
  permute(replicas.map((_, i) => i), []);
  const views = orders.map((order) => {
    let d = Automerge.clone(replicas[order[0]!]!);
    for (const i of order.slice(1)) d = Automerge.merge(d, replicas[i]!);
    return board.readBoard(d);
  });
  for (const v of views.slice(1)) expect(v).toEqual(views[0]);
  return views[0]!;
}

function withCall(priority: 1 | 2 | 3 | 4 = 3): board.SectorBoard {
  return board.createCall(staffedBoard(hexActor(1)), { cadNumber: 'C1', type: 'DISTURBANCE', priority, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 5));
}

function refusal(fn: () => unknown): BoardError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BoardError) return err;
    throw err;
  }
  throw new Error('expected a BoardError');
}

describe('updateCall', () => {
  it('changes the fields and writes one history entry with who and old -> new', () => {
    const d = board.updateCall(withCall(), { callId: 'C1', priority: 1, beat: 'B32', address: '12 Oak St', late: true, reason: 'caller saw a knife' }, at(dispatcher, 6));
    const c = board.readBoard(d).calls.C1!;
    expect(c).toMatchObject({ priority: 1, beat: 'B32', address: '12 Oak St', late: true, type: 'DISTURBANCE' });
    const e = c.history.at(-1)!;
    expect(e).toMatchObject({ event: 'updated', by: dispatcher });
    expect(e.changes).toEqual([
      { field: 'priority', from: 3, to: 1 },
      { field: 'late', from: false, to: true },
      { field: 'address', from: '10 Oak St', to: '12 Oak St' },
      { field: 'beat', from: 'B31', to: 'B32' },
    ]);
    expect(e.reason).toBe('updated: priority 3 -> 1; marked late-reported; address "10 Oak St" -> "12 Oak St"; beat "B31" -> "B32": caller saw a knife');
  });

  it('writes only what differs, and refuses an update that changes nothing', () => {
    const d = board.updateCall(withCall(), { callId: 'C1', priority: 3, type: 'ASSAULT' }, at(dispatcher, 6));
    expect(board.readBoard(d).calls.C1!.history.at(-1)!.changes).toEqual([{ field: 'type', from: 'DISTURBANCE', to: 'ASSAULT' }]);
    expect(refusal(() => board.updateCall(d, { callId: 'C1', priority: 3, type: 'ASSAULT' }, at(dispatcher, 7)))).toMatchObject({ code: 'invalid_input', field: '(update)' });
  });

  it('sets a location (lat and lon together) and the caller notes', () => {
    const d = board.updateCall(withCall(), { callId: 'C1', lat: 47.66, lon: -122.38, callerNotes: 'second caller: two men' }, at(dispatcher, 6));
    const c = board.readBoard(d).calls.C1!;
    expect(c).toMatchObject({ lat: 47.66, lon: -122.38, callerNotes: 'second caller: two men' });
    expect(c.history.at(-1)!.changes).toEqual([
      { field: 'lat', from: null, to: 47.66 },
      { field: 'lon', from: null, to: -122.38 },
      { field: 'callerNotes', from: '', to: 'second caller: two men' },
    ]);
  });

  it('names the field at fault', () => {
    const d = withCall();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ priority: 5 }, 'priority'],
      [{ priority: '1' }, 'priority'],
      [{ type: '' }, 'type'],
      [{ address: 'x'.repeat(201) }, 'address'],
      [{ beat: 'B 31' }, 'beat'],
      [{ late: 'yes' }, 'late'],
      [{ lat: 47.6 }, 'lon'],
      [{ lat: 95, lon: 0 }, 'lat'],
      [{ callerNotes: 'x'.repeat(2001) }, 'callerNotes'],
      [{ callId: 'no such call', priority: 1 }, 'callId'],
    ];
    for (const [input, field] of cases) {
      const err = refusal(() => board.updateCall(d, { callId: 'C1', ...input } as board.UpdateCallInput, at(dispatcher, 6)));
      expect(err.field, JSON.stringify(input)).toBe(field);
    }
    expect(refusal(() => board.updateCall(d, { callId: 'C9', priority: 1 }, at(dispatcher, 6)))).toMatchObject({ code: 'not_found', field: 'callId' });
  });

  it('is refused on a cleared, cancelled or transferred call, and to a car', () => {
    // A changed Automerge document is outdated: each branch starts from its own copy.
    const d = withCall();
    const cleared = board.clearCall(fork(d, 2), { callId: 'C1', disposition: 'RPT' }, at(dispatcher, 6));
    const cancelled = board.cancelCall(fork(d, 3), { callId: 'C1', reason: 'duplicate' }, at(dispatcher, 6));
    const transferred = board.transferCall(fork(d, 4), { callId: 'C1', toSector: 'S4', reason: 'caller moved' }, at(dispatcher, 6));
    for (const [doc, state] of [[cleared, 'cleared'], [cancelled, 'cancelled'], [transferred, 'transferred to sector S4']] as const) {
      const err = refusal(() => board.updateCall(doc, { callId: 'C1', priority: 1 }, at(dispatcher, 7)));
      expect(err).toMatchObject({ code: 'call_closed', field: 'callId' });
      expect(err.message).toContain(`already ${state}`);
    }
    expect(refusal(() => board.updateCall(d, { callId: 'C1', priority: 1 }, at(car('3A11'), 6)))).toMatchObject({ code: 'forbidden' });
  });

  it('concurrent with a clear: an update after the clear in log order stays in history and changes nothing', () => {
    const base = withCall();
    const upd = board.updateCall(fork(base, 2), { callId: 'C1', priority: 1 }, at(dispatcher, 7));
    const clr = board.clearCall(fork(base, 3), { callId: 'C1', disposition: 'RPT' }, at(car('3A11'), 6));
    const c = converged([base, upd, clr]).calls.C1!;
    expect(c.state).toBe('cleared');
    expect(c.priority).toBe(3);
    expect(c.history.map((h) => h.event)).toEqual(['created', 'cleared', 'updated']);
  });

  it('concurrent with a clear: an update before the clear in log order takes effect', () => {
    const base = withCall();
    const upd = board.updateCall(fork(base, 2), { callId: 'C1', priority: 1 }, at(dispatcher, 6));
    const clr = board.clearCall(fork(base, 3), { callId: 'C1', disposition: 'RPT' }, at(car('3A11'), 7));
    const c = converged([base, upd, clr]).calls.C1!;
    expect(c).toMatchObject({ state: 'cleared', priority: 1 });
  });

  it('two concurrent updates: different fields both take effect; the same field goes to the later one', () => {
    const base = withCall();
    const a = board.updateCall(fork(base, 2), { callId: 'C1', priority: 2, address: '11 Oak St' }, at(dispatcher, 6));
    const b = board.updateCall(fork(base, 3), { callId: 'C1', priority: 1, beat: 'B32' }, at(policy, 7));
    const c = converged([base, a, b]).calls.C1!;
    expect(c).toMatchObject({ priority: 1, address: '11 Oak St', beat: 'B32' });
    // Each entry says what its writer saw: both saw priority 3.
    expect(c.history.filter((h) => h.event === 'updated').map((h) => h.changes![0])).toEqual([
      { field: 'priority', from: 3, to: 2 },
      { field: 'priority', from: 3, to: 1 },
    ]);
  });
});

describe('assignUnit with its reason', () => {
  it('writes the assignment and the reason as one history entry, and ends a hold', () => {
    let d = board.holdCall(withCall(), { callId: 'C1', until: at(policy, 35).at, reason: 'held: beat officer busy', unitId: '3A11' }, at(policy, 5.5));
    d = board.assignUnit(d, { callId: 'C1', unitId: '3A12', reason: 'dispatched to 3A12 after 30:00 hold' }, at(policy, 36));
    const c = board.readBoard(d).calls.C1!;
    expect(c.state).toBe('dispatched');
    expect(c.history.map((h) => h.event)).toEqual(['created', 'held', 'assigned']);
    expect(c.history.at(-1)).toMatchObject({ unitId: '3A12', reason: 'dispatched to 3A12 after 30:00 hold', by: policy });
    expect(refusal(() => board.assignUnit(withCall(), { callId: 'C1', unitId: '3A12', reason: 'x'.repeat(201) }, at(policy, 6)))).toMatchObject({ field: 'reason' });
  });

  it('a unit that leaves a formerly held call leaves it pending, not held again', () => {
    let d = board.createCall(withCall(), { cadNumber: 'C2', type: 'THEFT', priority: 4, address: '1 Elm St', beat: 'B31' }, at(dispatcher, 5));
    d = board.holdCall(d, { callId: 'C1', until: at(policy, 35).at, reason: 'held', unitId: '3A11' }, at(policy, 5.5));
    d = board.assignUnit(d, { callId: 'C1', unitId: '3A12', reason: 'r' }, at(policy, 6));
    d = board.assignUnit(d, { callId: 'C2', unitId: '3A12', reason: 'r' }, at(policy, 7)); // moved to C2
    expect(board.readBoard(d).calls.C1).toMatchObject({ state: 'pending', assigned: [] });
  });
});

describe('transfer between sector boards', () => {
  const receiving = () => board.createBoard('S4', '2026-11-27', hexActor(9));

  it('marks the call transferred on the board it leaves, with the reference, not cancelled', () => {
    const d = board.transferCall(withCall(), { callId: 'C1', toSector: 'S4', reason: 'caller is across the boundary' }, at(dispatcher, 6));
    const c = board.readBoard(d).calls.C1!;
    expect(c.state).toBe('transferred');
    expect(c.transferredTo).toEqual({ sector: 'S4', at: at(dispatcher, 6).at, by: dispatcher, reason: 'caller is across the boundary' });
    expect(c.cancelledAt).toBeUndefined();
    expect(c.history.at(-1)).toMatchObject({ event: 'transferred', sector: 'S4' });
  });

  it('a held call loses its hold when it leaves, so no unit waits for it', () => {
    let d = board.holdCall(withCall(), { callId: 'C1', until: at(policy, 35).at, reason: 'held', unitId: '3A11' }, at(policy, 5.5));
    d = board.transferCall(d, { callId: 'C1', toSector: 'S4', reason: 'r' }, at(policy, 6));
    const v = board.readBoard(d);
    expect(v.calls.C1!.hold).toBeUndefined();
    expect(v.units['3A11']!.stacked).toEqual([]);
  });

  it('the receiving board gets the call with a reference to where it came from, once', () => {
    const call = board.readBoard(board.updateCall(withCall(1), { callId: 'C1', address: '14 Oak St' }, at(dispatcher, 5.5))).calls.C1!;
    const input = { call: { id: 'C1', cadNumber: call.cadNumber, type: call.type, priority: call.priority, address: call.address, beat: call.beat, receivedAt: call.receivedAt }, from: { sector: 'S3' }, reason: 'P1, S3 all busy' };
    const d = board.receiveTransfer(receiving(), input, at(policy, 6));
    const there = board.readBoard(d).calls.C1!;
    expect(there).toMatchObject({ state: 'pending', priority: 1, address: '14 Oak St', beat: 'B31', receivedAt: call.receivedAt, transferredFrom: { sector: 'S3', callId: 'C1', at: at(policy, 6).at } });
    expect(there.history).toEqual([{ event: 'created', at: at(policy, 6).at, by: policy, reason: 'transferred from sector S3: P1, S3 all busy' }]);
    // A retry after a restart changes nothing; a different call under the same id is refused.
    expect(Automerge.getHeads(board.receiveTransfer(d, input, at(policy, 7)))).toEqual(Automerge.getHeads(d));
    expect(refusal(() => board.receiveTransfer(d, { ...input, from: { sector: 'S5' } }, at(policy, 7)))).toMatchObject({ code: 'exists', field: 'callId' });
  });

  it('is refused for a worked, closed or already transferred call, to its own sector, and to a car', () => {
    const d = withCall();
    const worked = board.assignUnit(fork(d, 2), { callId: 'C1', unitId: '3A11', reason: 'r' }, at(policy, 6));
    expect(refusal(() => board.transferCall(worked, { callId: 'C1', toSector: 'S4', reason: 'r' }, at(dispatcher, 7)))).toMatchObject({ code: 'invalid_transition', field: 'callId' });
    const gone = board.transferCall(fork(d, 3), { callId: 'C1', toSector: 'S4', reason: 'r' }, at(dispatcher, 6));
    expect(refusal(() => board.transferCall(gone, { callId: 'C1', toSector: 'S5', reason: 'r' }, at(dispatcher, 7)))).toMatchObject({ code: 'call_closed' });
    expect(refusal(() => board.transferCall(d, { callId: 'C1', toSector: 'S3', reason: 'r' }, at(dispatcher, 7)))).toMatchObject({ field: 'toSector' });
    expect(refusal(() => board.transferCall(d, { callId: 'C1', toSector: 'S4', reason: '' }, at(dispatcher, 7)))).toMatchObject({ field: 'reason' });
    expect(refusal(() => board.transferCall(d, { callId: 'C1', toSector: 'S4', reason: 'r' }, at(car('3A11'), 7)))).toMatchObject({ code: 'forbidden' });
    const call = { id: 'C1', cadNumber: 'C1', type: 'T', priority: 1 as const, address: 'a', beat: 'B31' };
    expect(refusal(() => board.receiveTransfer(receiving(), { call, from: { sector: 'S4' }, reason: 'r' }, at(policy, 6)))).toMatchObject({ field: 'from.sector' });
  });

  it('concurrent with a car accepting the call at home: the car keeps it, and the board shows the transfer too', () => {
    const base = withCall(1);
    const moved = board.transferCall(fork(base, 2), { callId: 'C1', toSector: 'S4', reason: 'P1, all busy' }, at(policy, 6));
    const accepted = board.acceptCall(fork(base, 3), { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6.5));
    const v = converged([base, moved, accepted]);
    // Whatever the order, the unit of this board working the call keeps it open here: a transfer
    // never silently takes a call away from a car that is driving to it.
    expect(v.calls.C1).toMatchObject({ state: 'en_route', assigned: ['3A11'], transferredTo: { sector: 'S4' } });
    expect(v.units['3A11']).toMatchObject({ status: 'en_route', callId: 'C1' });
    // Accepted first in log order: the same outcome.
    const early = board.acceptCall(fork(base, 4), { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 5.5));
    expect(converged([base, moved, early]).calls.C1).toMatchObject({ state: 'en_route', transferredTo: { sector: 'S4' } });
  });

  it('concurrent with a cancel at home: the cancel wins, the transfer stays in history', () => {
    const base = withCall(1);
    const moved = board.transferCall(fork(base, 2), { callId: 'C1', toSector: 'S4', reason: 'r' }, at(policy, 6));
    const cancelled = board.cancelCall(fork(base, 3), { callId: 'C1', reason: 'duplicate of C0' }, at(dispatcher, 6.5));
    const c = converged([base, moved, cancelled]).calls.C1!;
    expect(c.state).toBe('cancelled');
    expect(c.history.map((h) => h.event)).toEqual(['created', 'transferred', 'cancelled']);
  });
});

describe('author binding of the new events', () => {
  const who = { vehicleId: 'V-3A11', unitId: '3A11' };
  /** A compromised car writing raw changes under its own name, past the operations' role checks. */
  function forged(write: (d: StoredBoard) => void): string | undefined {
    const base = withCall();
    const before = Automerge.getHeads(base);
    const after = Automerge.change(fork(base, 5), write);
    return checkAuthorship(after, before, who);
  }
  const byCar = { kind: new Automerge.ImmutableString('vehicle'), id: new Automerge.ImmutableString('V-3A11'), unit: new Automerge.ImmutableString('3A11') };

  it('refuses a car writing an update or a transfer, or a call created as transferred', () => {
    expect(forged((d) => void (d.callLog['C1~zz'] = { event: new Automerge.ImmutableString('updated'), at: 1, by: byCar, set: { priority: 4 } }))).toMatch(/updated is the precinct's to write/);
    expect(forged((d) => void (d.callLog['C1~zz'] = { event: new Automerge.ImmutableString('transferred'), at: 1, by: byCar, sector: new Automerge.ImmutableString('S9') }))).toMatch(/transferred is the precinct's/);
    expect(
      forged((d) => {
        d.calls.C9 = { ...structuredClone(Automerge.toJS(d).calls.C1!), transferredFrom: { sector: new Automerge.ImmutableString('S9'), callId: new Automerge.ImmutableString('C9'), at: 1 } };
      }),
    ).toMatch(/written as transferred/);
    // A note by the car itself is still fine.
    expect(forged((d) => void (d.callLog['C1~zz'] = { event: new Automerge.ImmutableString('note'), at: 1, by: byCar, text: new Automerge.ImmutableString('on my way') }))).toBeUndefined();
  });
});
