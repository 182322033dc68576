// The four concurrency cases the issue names, each merged in every order: the outcome must be
// the documented one and identical on every replica (docs/sector-board.md, "Concurrent edits").
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import {
  acceptCall,
  addNote,
  assignUnit,
  cancelCall,
  clearCall,
  createCall,
  readBoard,
  setUnitStatus,
  upsertUnit,
  signOn,
  upsertBeat,
  type SectorBoard,
} from '../../../sync/board.js';
import type { BoardView } from '../../../sync/schema.js';
import { at, car, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

function fork(base: SectorBoard, n: number): SectorBoard {
  return Automerge.clone(base, hexActor(n));
}

/** Merges the replicas in every order and checks all orders give one view; returns it. */
function convergedView(replicas: SectorBoard[]): BoardView {
  const orders: number[][] = [];
  const permute = (rest: number[], acc: number[]) => {
    if (rest.length === 0) orders.push(acc);
    for (const i of rest) permute(rest.filter((x) => x !== i), [...acc, i]);
  };
  permute(replicas.map((_, i) => i), []);
  const views = orders.map((order) => {
    let d = Automerge.clone(replicas[order[0] ?? 0] as SectorBoard);
    for (const i of order.slice(1)) d = Automerge.merge(d, replicas[i] as SectorBoard);
    return readBoard(d);
  });
  for (const v of views.slice(1)) expect(v).toEqual(views[0]);
  return views[0] as BoardView;
}

function withCall(): SectorBoard {
  let d = staffedBoard(hexActor(1));
  d = createCall(d, { cadNumber: 'C1', type: 'DISTURBANCE', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 5));
  return d;
}

describe('concurrent edits converge to the documented outcome', () => {
  it('two cars accept the same call at once: both attached, the earlier accept is primary', () => {
    const base = withCall();
    const a = acceptCall(fork(base, 2), { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6.5));
    const b = acceptCall(fork(base, 3), { callId: 'C1', unitId: '3A12' }, at(car('3A12'), 6));
    const v = convergedView([base, a, b]);
    expect(v.calls.C1?.assigned).toEqual(['3A12', '3A11']);
    expect(v.calls.C1?.state).toBe('en_route');
    expect(v.units['3A11']).toMatchObject({ status: 'en_route', callId: 'C1' });
    expect(v.units['3A12']).toMatchObject({ status: 'en_route', callId: 'C1' });
    expect(v.calls.C1?.history.filter((h) => h.event === 'accepted')).toHaveLength(2);
  });

  it('two accepts in the same millisecond still converge (the log key breaks the tie)', () => {
    const base = withCall();
    const a = acceptCall(fork(base, 2), { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6));
    const b = acceptCall(fork(base, 3), { callId: 'C1', unitId: '3A12' }, at(car('3A12'), 6));
    const v = convergedView([a, b]);
    expect(v.calls.C1?.assigned).toHaveLength(2);
  });

  it('dispatcher cancels while the officer goes en route offline: cancelled, unit freed, both in history', () => {
    let base = withCall();
    base = assignUnit(base, { callId: 'C1', unitId: '3A11' }, at(policy, 5.5));
    const precinct = cancelCall(fork(base, 2), { callId: 'C1', reason: 'caller called back: resolved' }, at(dispatcher, 7));
    const carDoc = setUnitStatus(fork(base, 3), { unitId: '3A11', status: 'en_route' }, at(car('3A11'), 8));
    const v = convergedView([precinct, carDoc]);
    expect(v.calls.C1).toMatchObject({ state: 'cancelled', cancelledAt: at(dispatcher, 7).at, cancelReason: 'caller called back: resolved' });
    expect(v.calls.C1?.history.map((h) => h.event)).toEqual(['created', 'assigned', 'cancelled', 'en_route']);
    expect(v.units['3A11']).toMatchObject({ status: 'available', statusReason: 'call C1 cancelled', statusAt: at(car('3A11'), 8).at });
    expect(v.units['3A11']?.callId).toBeUndefined();
    // The car's own en-route status stays in the unit's history: nothing an officer did is lost.
    expect(v.units['3A11']?.history.at(-1)).toMatchObject({ status: 'en_route', callId: 'C1' });
  });

  it('a concurrent clear and cancel: the earlier closing event decides, the other stays in history', () => {
    let base = withCall();
    base = acceptCall(base, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6));
    const a = clearCall(fork(base, 2), { callId: 'C1', disposition: 'GOA' }, at(car('3A11'), 9));
    const b = cancelCall(fork(base, 3), { callId: 'C1', reason: 'duplicate of C0' }, at(dispatcher, 10));
    const v = convergedView([a, b]);
    expect(v.calls.C1).toMatchObject({ state: 'cleared', disposition: 'GOA' });
    expect(v.calls.C1?.cancelledAt).toBeUndefined();
    expect(v.calls.C1?.history.map((h) => h.event).slice(-2)).toEqual(['cleared', 'cancelled']);
  });

  it('two notes added offline on different cars are both kept, in time order', () => {
    let base = withCall();
    base = assignUnit(base, { callId: 'C1', unitId: '3A11' }, at(policy, 5));
    base = assignUnit(base, { callId: 'C1', unitId: '3A12' }, at(policy, 5));
    const a = addNote(addNote(fork(base, 2), { callId: 'C1', text: 'Suspect fled north on foot' }, at(car('3A11'), 9)), { callId: 'C1', text: 'K9 requested' }, at(car('3A11'), 12));
    const b = addNote(fork(base, 3), { callId: 'C1', text: 'Witness at the corner store' }, at(car('3A12'), 10));
    const v = convergedView([base, a, b]);
    expect(v.calls.C1?.notes.map((n) => [n.author, n.text])).toEqual([
      ['3A11', 'Suspect fled north on foot'],
      ['3A12', 'Witness at the corner store'],
      ['3A11', 'K9 requested'],
    ]);
  });

  it('status set on two devices of the same unit: the later one is current, both in history', () => {
    const base = staffedBoard(hexActor(1));
    const mdt = setUnitStatus(fork(base, 2), { unitId: '3A11', status: 'out_of_service', reason: 'fuel' }, at(car('3A11', 'V-MDT'), 20));
    const handheld = setUnitStatus(fork(base, 3), { unitId: '3A11', status: 'on_scene', reason: 'flagged down' }, at(car('3A11', 'V-HANDHELD'), 21));
    const v = convergedView([mdt, handheld]);
    expect(v.units['3A11']).toMatchObject({ status: 'on_scene', statusReason: 'flagged down', statusAt: at(car('3A11'), 21).at });
    expect(v.units['3A11']?.history.map((h) => h.status)).toEqual(['available', 'out_of_service', 'on_scene']);
  });

  it('the same unit created on a car and at the precinct before they met keeps both sides\u2019 events', () => {
    const empty = staffedBoard(hexActor(1));
    let p = upsertUnit(fork(empty, 2), { id: '3B20', callSign: '3-Baker-20', homeBeat: 'B32', mode: 'bicycle' }, at(dispatcher, 30));
    p = signOn(p, { unitId: '3B20', officers: ['Ofc. Park'] }, at(dispatcher, 31));
    let c = upsertUnit(fork(empty, 3), { id: '3B20', callSign: '3-Baker-20', homeBeat: 'B32', mode: 'bicycle' }, at(car('3B20'), 29));
    c = signOn(c, { unitId: '3B20', officers: ['Ofc. Park', 'Ofc. Diaz'], rider: 'R. Moss (ride-along)' }, at(car('3B20'), 32));
    const v = convergedView([p, c]);
    expect(v.units['3B20']?.history).toHaveLength(2);
    expect(v.units['3B20']).toMatchObject({ status: 'available', officers: ['Ofc. Park', 'Ofc. Diaz'], rider: 'R. Moss (ride-along)', mode: 'bicycle' });
  });

  it('two officers editing different passages of one beat plan offline both keep their words', () => {
    const plan = { id: 'P1', problem: 'Car break-ins at Lake Park', analysis: 'Mostly evenings.', response: 'Bicycle patrol.', assessment: '' };
    const base = upsertBeat(staffedBoard(hexActor(1)), { id: 'B31', name: 'Beat 31', plans: [plan] }, at(car('3A11'), 40));
    const a = upsertBeat(fork(base, 2), { id: 'B31', name: 'Beat 31', plans: [{ ...plan, analysis: 'Mostly evenings, near the boat ramp.' }] }, at(car('3A11'), 41));
    const b = upsertBeat(fork(base, 3), { id: 'B31', name: 'Beat 31', plans: [{ ...plan, analysis: 'Since May: mostly evenings.', assessment: 'Two arrests in June.' }] }, at(car('3A12'), 42));
    const v = convergedView([a, b]);
    expect(v.beats.B31?.plans.P1).toMatchObject({ analysis: 'Since May: mostly evenings, near the boat ramp.', assessment: 'Two arrests in June.' });
  });
});
