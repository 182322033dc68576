import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import {
  acceptCall,
  addNote,
  assignUnit,
  BoardError,
  cancelCall,
  clearCall,
  createBoard,
  createCall,
  deliverReport,
  holdCall,
  markRead,
  readBoard,
  releaseHold,
  setUnitStatus,
  signOff,
  upsertBeat,
} from '../../../sync/board.js';
import { readActor, storeActor } from '../../../sync/ops/common.js';
import type { Actor, UnitId, VehicleId } from '../../../sync/schema.js';
import { at, car, care, dispatcher, hexActor, policy, SECTOR, staffedBoard } from '../../helpers/board-fixtures.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof BoardError) return err.code;
    throw err;
  }
  return undefined;
}

describe('createBoard', () => {
  it('gives byte-identical genesis for the same sector and epoch, whatever the replica actor', () => {
    const a = createBoard(SECTOR, '2026-11-27', hexActor(1));
    const b = createBoard(SECTOR, '2026-11-27', hexActor(2));
    expect(Automerge.getHeads(a)).toEqual(Automerge.getHeads(b));
    expect(Automerge.getActorId(a)).toBe(hexActor(1));
    const c = createBoard(SECTOR, '2026-11-28', hexActor(1));
    expect(Automerge.getHeads(c)).not.toEqual(Automerge.getHeads(a));
  });

  it('merges boards created independently instead of one clobbering the other', () => {
    let a = createBoard(SECTOR, 'e1', hexActor(1));
    let b = createBoard(SECTOR, 'e1', hexActor(2));
    a = createCall(a, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main St', beat: 'B31' }, at(dispatcher, 0));
    b = createCall(b, { cadNumber: 'C2', type: 'THEFT', priority: 3, address: '2 Main St', beat: 'B32' }, at(dispatcher, 0));
    const m = Automerge.merge(a, b);
    expect(Object.keys(readBoard(m).calls).sort()).toEqual(['C1', 'C2']);
  });
});

describe('call lifecycle', () => {
  it('runs create, assign, accept, on scene, note, clear and frees the unit', () => {
    let d = staffedBoard();
    d = createCall(d, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main St', beat: 'B31', lat: 32.78, lon: -96.8 }, at(dispatcher, 5));
    d = assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(policy, 5));
    let v = readBoard(d);
    expect(v.calls.C1?.state).toBe('dispatched');
    expect(v.units['3A11']).toMatchObject({ status: 'dispatched', callId: 'C1' });
    d = acceptCall(d, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6));
    d = setUnitStatus(d, { unitId: '3A11', status: 'on_scene' }, at(car('3A11'), 12));
    d = addNote(d, { callId: 'C1', text: 'Rear window forced.' }, at(car('3A11'), 14));
    v = readBoard(d);
    expect(v.calls.C1).toMatchObject({ state: 'on_scene', assigned: ['3A11'], dispatchedAt: at(policy, 5).at, enRouteAt: at(car('3A11'), 6).at });
    expect(v.calls.C1?.notes).toEqual([expect.objectContaining({ author: '3A11', text: 'Rear window forced.' })]);
    d = clearCall(d, { callId: 'C1', disposition: 'RPT' }, at(car('3A11'), 40));
    v = readBoard(d);
    expect(v.calls.C1).toMatchObject({ state: 'cleared', disposition: 'RPT', clearedAt: at(car('3A11'), 40).at });
    expect(v.units['3A11']).toMatchObject({ status: 'available', statusReason: 'call C1 cleared' });
    expect(v.units['3A11']?.callId).toBeUndefined();
  });

  it('refuses impossible transitions with a BoardError code', () => {
    let d = staffedBoard();
    d = createCall(d, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main St', beat: 'B31' }, at(dispatcher, 5));
    expect(code(() => createCall(d, { cadNumber: 'C1', type: 'X', priority: 2, address: 'a', beat: 'B31' }, at(dispatcher, 5)))).toBe('exists');
    expect(code(() => createCall(d, { cadNumber: 'C9', type: 'X', priority: 7 as 1, address: 'a', beat: 'B31' }, at(dispatcher, 5)))).toBe('invalid_input');
    expect(code(() => assignUnit(d, { callId: 'NOPE', unitId: '3A11' }, at(dispatcher, 6)))).toBe('not_found');
    expect(code(() => assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 6)))).toBe('forbidden');
    expect(code(() => setUnitStatus(d, { unitId: '3A11', status: 'out_of_service' }, at(car('3A11'), 6)))).toBe('invalid_input');
    expect(code(() => setUnitStatus(d, { unitId: '3A12', status: 'on_scene' }, at(car('3A11'), 6)))).toBe('forbidden');
    expect(code(() => clearCall(d, { callId: 'C1', disposition: 'NOT-A-CODE' }, at(dispatcher, 6)))).toBe('invalid_input');
    expect(code(() => releaseHold(d, { callId: 'C1', reason: 'x' }, at(dispatcher, 6)))).toBe('invalid_transition');
    d = cancelCall(d, { callId: 'C1', reason: 'duplicate' }, at(dispatcher, 7));
    expect(code(() => acceptCall(d, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 8)))).toBe('call_closed');
    expect(code(() => clearCall(d, { callId: 'C1', disposition: 'RPT' }, at(dispatcher, 8)))).toBe('call_closed');
    d = signOff(d, { unitId: '3A12' }, at(car('3A12'), 9));
    expect(code(() => setUnitStatus(d, { unitId: '3A12', status: 'available' }, at(car('3A12'), 10)))).toBe('invalid_transition');
    expect(code(() => signOff(d, { unitId: '3A12' }, at(car('3A12'), 10)))).toBe('invalid_transition');
  });

  it('holds a call for the beat officer and shows it stacked on that unit', () => {
    let d = staffedBoard();
    d = setUnitStatus(d, { unitId: '3A11', status: 'out_of_service', reason: 'booking' }, at(car('3A11'), 2));
    d = createCall(d, { cadNumber: 'C2', type: 'THEFT', priority: 3, late: true, address: '5 Elm St', beat: 'B31' }, at(dispatcher, 3));
    d = holdCall(d, { callId: 'C2', until: at(policy, 33).at, reason: 'beat officer out of service', unitId: '3A11' }, at(policy, 3));
    let v = readBoard(d);
    expect(v.calls.C2).toMatchObject({ state: 'held', late: true, hold: { since: at(policy, 3).at, deadline: at(policy, 33).at, unitId: '3A11' } });
    expect(v.units['3A11']?.stacked).toEqual(['C2']);
    d = acceptCall(d, { callId: 'C2', unitId: '3A11' }, at(car('3A11'), 20));
    v = readBoard(d);
    expect(v.calls.C2?.state).toBe('en_route');
    expect(v.calls.C2?.hold).toBeUndefined();
    expect(v.units['3A11']?.stacked).toEqual([]);
    d = createCall(d, { cadNumber: 'C3', type: 'THEFT', priority: 3, address: '6 Elm St', beat: 'B31' }, at(dispatcher, 21));
    d = holdCall(d, { callId: 'C3', until: at(policy, 51).at, reason: 'beat officer busy' }, at(policy, 21));
    d = releaseHold(d, { callId: 'C3', reason: 'deadline passed' }, at(policy, 51));
    expect(readBoard(d).calls.C3?.state).toBe('pending');
  });
});

describe('inbox and beats', () => {
  it('delivers a CARE report and records read receipts per recipient', () => {
    let d = staffedBoard();
    const report = { id: 'R1', beat: 'B31', title: 'Insurance report: vehicle burglary', body: 'Report text', incidentAt: at(care, -60).at, recipients: [{ kind: 'unit' as const, id: '3A11' }, { kind: 'supervisor' as const, id: 'wc3' }] };
    expect(code(() => deliverReport(d, report, at(car('3A11'), 1)))).toBe('forbidden');
    d = deliverReport(d, report, at(care, 2));
    d = markRead(d, { reportId: 'R1', unitId: '3A11' }, at(car('3A11'), 3));
    const again = markRead(d, { reportId: 'R1', unitId: '3A11' }, at(car('3A11'), 4));
    expect(again).toBe(d);
    d = markRead(d, { reportId: 'R1', readerId: 'wc3' }, at({ kind: 'operator', operatorId: 'wc3', role: 'watch_commander' }, 5));
    expect(code(() => markRead(d, { reportId: 'R1', unitId: '3A12' }, at(car('3A12'), 5)))).toBe('forbidden');
    expect(readBoard(d).inbox.R1?.readBy).toEqual({ '3A11': at(car('3A11'), 3).at, wc3: at(care, 5).at });
  });

  it('keeps beat profile and plans', () => {
    let d = staffedBoard();
    d = upsertBeat(d, { id: 'B31', name: 'Beat 31 (Oak Cliff)', profile: { characteristics: 'Residential, two schools', resources: ['Station 3, 400 Elm St, 555-0100'], crimeProblems: ['vehicle burglary'] }, plans: [{ id: 'P1', problem: 'Car break-ins at the park', analysis: 'Evenings', response: 'Foot patrol', assessment: '' }] }, at(car('3A11'), 10));
    const b = readBoard(d).beats.B31;
    expect(b?.name).toBe('Beat 31 (Oak Cliff)');
    expect(b?.profile.resources).toEqual(['Station 3, 400 Elm St, 555-0100']);
    expect(b?.plans.P1).toMatchObject({ problem: 'Car break-ins at the park', by: car('3A11') });
  });
});

describe('stored authors', () => {
  const I = (s: string) => new Automerge.ImmutableString(s);
  it('store an actor as one string and read it back, ids with dots and colons included', () => {
    const actors = [
      { kind: 'vehicle', vehicleId: 'V-2001.a:b', unitId: 'U:12' },
      { kind: 'vehicle', vehicleId: 'V2002' },
      { kind: 'operator', operatorId: 'op.7', role: 'watch_commander' },
      { kind: 'policy', precinct: 'P:1' },
    ] as const;
    for (const a of actors) {
      const stored = storeActor(a as Actor);
      expect(stored).toBeInstanceOf(Automerge.ImmutableString);
      expect(readActor(stored)).toEqual(a);
    }
    expect(String(storeActor({ kind: 'vehicle', vehicleId: 'V1' as VehicleId, unitId: 'U1' as UnitId }))).toBe('v/V1/U1');
  });

  it('read the map older boards hold, and anything unreadable as an unknown vehicle', () => {
    expect(readActor({ kind: I('vehicle'), id: I('V1'), unit: I('U1') })).toEqual({ kind: 'vehicle', vehicleId: 'V1', unitId: 'U1' });
    expect(readActor({ kind: I('operator'), id: I('d1'), role: I('care') })).toEqual({ kind: 'operator', operatorId: 'd1', role: 'care' });
    expect(readActor({ kind: I('policy'), id: I('P1') })).toEqual({ kind: 'policy', precinct: 'P1' });
    for (const junk of [undefined, I(''), I('x/y'), I('v'), { kind: I('vehicle') }] as never[]) expect(readActor(junk)).toEqual({ kind: 'vehicle', vehicleId: 'unknown' });
  });
});
