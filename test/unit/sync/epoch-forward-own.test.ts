// A car forwards only its own late edits into the new epoch: anything else would be refused by
// the precinct's author guard, which would shut the car out of the new epoch's sync.
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { acceptCall, addNote, assignUnit, clearCall, createCall, readBoard, sendMessage, setUnitStatus } from '../../../sync/board.js';
import { checkAuthorship } from '../../../sync/author-guard.js';
import { forwardLateEdits, rolloverEpoch } from '../../../sync/epoch.js';
import { at, car, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

describe('forwardLateEdits from a car (only its own edits)', () => {
  it('passes the author guard and leaves calls the precinct closed meanwhile in the archive', () => {
    let precinct = staffedBoard(hexActor(0xa), '2026-11-27');
    precinct = createCall(precinct, { cadNumber: 'C1', type: 'DIST', priority: 3, address: '1 Elm St', beat: 'B31' }, at(dispatcher, 5));
    precinct = createCall(precinct, { cadNumber: 'C2', type: 'THEFT', priority: 3, address: '2 Elm St', beat: 'B31' }, at(dispatcher, 6));
    precinct = assignUnit(precinct, { callId: 'C2', unitId: '3A11' }, at(policy, 6));
    // The car goes offline holding what the precinct had.
    let carDoc = Automerge.clone(precinct, hexActor(0xc));
    carDoc = acceptCall(carDoc, { callId: 'C2', unitId: '3A11' }, at(car('3A11'), 10));
    carDoc = addNote(carDoc, { callId: 'C2', text: 'car: on the way' }, at(car('3A11'), 11));
    carDoc = addNote(carDoc, { callId: 'C1', text: 'car: seen the caller' }, at(car('3A11'), 12));
    carDoc = setUnitStatus(carDoc, { unitId: '3A11', status: 'on_scene' }, at(car('3A11'), 13));
    // Meanwhile the precinct closes C1 and cuts.
    precinct = clearCall(precinct, { callId: 'C1', disposition: 'RPT' }, at(dispatcher, 20));
    const { next } = rolloverEpoch(precinct, '2026-11-28', at(policy, 60), hexActor(0xb));

    // The car's copy of the new epoch, as its sync delivered it.
    const carNext = () => Automerge.merge(Automerge.init<never>({ actor: hexActor(0xd) }) as never, next);
    const before = Automerge.getHeads(next);
    const self = { vehicleId: 'V-3A11', unitId: '3A11' };
    const forwarded = forwardLateEdits(carDoc, carNext(), at(car('3A11'), 61), self);
    expect(checkAuthorship(forwarded, before, self)).toBeUndefined();
    const view = readBoard(forwarded);
    expect(view.calls.C1).toBeUndefined();
    expect(view.calls.C2?.notes.map((n) => n.text)).toEqual(['car: on the way']);
    expect(view.units['3A11']?.status).toBe('on_scene');

    // Forwarding everything instead would write the dispatcher's entries in the car's name.
    const all = forwardLateEdits(carDoc, carNext(), at(car('3A11'), 61));
    expect(checkAuthorship(all, before, self)).toMatch(/author/);
  });

  it("carries a message written offline after the cut: the car its own, the precinct everyone's", () => {
    const precinct = staffedBoard(hexActor(0xa), '2026-11-27');
    let carDoc = Automerge.clone(precinct, hexActor(0xc));
    const { next } = rolloverEpoch(precinct, '2026-11-28', at(policy, 60), hexActor(0xb));
    // Offline on the old epoch, after the cut: the car writes to dispatch; another unit's message
    // reached it through a neighbour (and is not the car's to forward).
    carDoc = sendMessage(carDoc, { id: 'M1', to: [{ kind: 'dispatch' }], text: 'Back in service, radio out' }, at(car('3A11'), 70));
    carDoc = sendMessage(carDoc, { id: 'M2', to: [{ kind: 'dispatch' }], text: 'from 3A12' }, at(car('3A12'), 71));
    const self = { vehicleId: 'V-3A11', unitId: '3A11' };
    const before = Automerge.getHeads(next);
    const fromCar = forwardLateEdits(carDoc, Automerge.clone(next, hexActor(0xd)), at(car('3A11'), 72), self);
    expect(checkAuthorship(fromCar, before, self)).toBeUndefined();
    expect(Object.keys(readBoard(fromCar).messages)).toEqual(['M1']);
    const fromPrecinct = forwardLateEdits(carDoc, Automerge.clone(next, hexActor(0xe)), at(policy, 72));
    expect(Object.keys(readBoard(fromPrecinct).messages).sort()).toEqual(['M1', 'M2']);
  });
});
