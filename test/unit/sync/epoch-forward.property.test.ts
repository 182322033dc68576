// Property: whatever a car does offline on the old epoch, and whatever the precinct does on the
// new one meanwhile, forwarding late edits on either side (or both, repeatedly, in any order)
// converges, loses no offline note on a carried call, and never duplicates an entry.
import * as Automerge from '@automerge/automerge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptCall, addNote, assignUnit, BoardError, clearCall, createCall, readBoard, setUnitStatus, type SectorBoard } from '../../../sync/board.js';
import { forwardLateEdits, rolloverEpoch } from '../../../sync/epoch.js';
import { at, car, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

const RUNS = Math.ceil(Number(process.env.BOARD_PROPERTY_RUNS ?? 50) / 2);

function day1(): SectorBoard {
  let d = staffedBoard(hexActor(0xa), 'd1');
  d = createCall(d, { cadNumber: 'C1', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 10));
  d = assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(policy, 11));
  d = createCall(d, { cadNumber: 'C2', type: 'THEFT', priority: 3, address: '11 Oak St', beat: 'B32' }, at(dispatcher, 12));
  return d;
}

const carOp = fc.record({ op: fc.nat(4), call: fc.nat(2), n: fc.nat(1000) });
const precinctOp = fc.record({ op: fc.nat(2), call: fc.nat(1), n: fc.nat(1000) });

function tryOp(d: SectorBoard, f: (d: SectorBoard) => SectorBoard): SectorBoard {
  try {
    return f(d);
  } catch (err) {
    if (err instanceof BoardError) return d;
    throw err;
  }
}

describe('forwarding late edits across an epoch cut (property)', () => {
  it('converges with no lost offline note and no duplicate, whoever forwards, however often', () => {
    fc.assert(
      fc.property(fc.array(carOp, { maxLength: 12 }), fc.array(precinctOp, { maxLength: 8 }), fc.array(fc.nat(5), { minLength: 3, maxLength: 10 }), (carOps, pOps, schedule) => {
        const base = day1();
        let carPrev = Automerge.clone(base, hexActor(0xc));
        const notes: Array<{ text: string; callId: string }> = [];
        carOps.forEach((o, i) => {
          const cid = `C${o.call + 1}`;
          const ctx = at(car('3A11'), 60 + i);
          if (o.op === 0) {
            const text = `offline note ${i}`;
            const next = tryOp(carPrev, (d) => addNote(d, { callId: cid, text }, ctx));
            if (next !== carPrev) notes.push({ text, callId: cid });
            carPrev = next;
          } else if (o.op === 1) carPrev = tryOp(carPrev, (d) => acceptCall(d, { callId: cid, unitId: '3A11' }, ctx));
          else if (o.op === 2) carPrev = tryOp(carPrev, (d) => setUnitStatus(d, { unitId: '3A11', status: o.n % 2 ? 'on_scene' : 'available' }, ctx));
          else if (o.op === 3) carPrev = tryOp(carPrev, (d) => createCall(d, { cadNumber: `OV${i}`, type: '23', priority: 4, address: 'x', beat: 'B31' }, ctx));
          else carPrev = tryOp(carPrev, (d) => clearCall(d, { callId: cid, disposition: 'ADV' }, ctx));
        });
        const cut = rolloverEpoch(base, 'd2', at(policy, 50), hexActor(0xa));
        let pPrev = cut.closed;
        let pNext = cut.next;
        pOps.forEach((o, i) => {
          const ctx = at(dispatcher, 55 + i);
          if (o.op === 0) pNext = tryOp(pNext, (d) => addNote(d, { callId: `C${o.call + 1}`, text: `precinct note ${i}` }, ctx));
          else if (o.op === 1) pNext = tryOp(pNext, (d) => assignUnit(d, { callId: `C${o.call + 1}`, unitId: '3A12' }, ctx));
          else pNext = tryOp(pNext, (d) => clearCall(d, { callId: `C${o.call + 1}`, disposition: 'RPT' }, ctx));
        });
        let carNext = Automerge.clone(cut.next, hexActor(0xc));
        // Reconnection in an arbitrary order of syncs and forwards on both sides.
        for (const step of schedule) {
          if (step === 0) pPrev = Automerge.merge(pPrev, carPrev);
          if (step === 1) carPrev = Automerge.merge(carPrev, pPrev);
          if (step === 2) pNext = forwardLateEdits(pPrev, pNext, at(policy, 90));
          if (step === 3) carNext = forwardLateEdits(carPrev, carNext, at(car('3A11'), 90));
          if (step === 4) carNext = Automerge.merge(carNext, pNext);
          if (step === 5) pNext = Automerge.merge(pNext, carNext);
        }
        // Finish: everything exchanged, both forward once more, exchange again.
        pPrev = Automerge.merge(pPrev, carPrev);
        carPrev = Automerge.merge(carPrev, pPrev);
        pNext = forwardLateEdits(pPrev, pNext, at(policy, 95));
        carNext = forwardLateEdits(carPrev, carNext, at(car('3A11'), 95));
        pNext = Automerge.merge(pNext, carNext);
        carNext = Automerge.merge(carNext, pNext);
        const v = readBoard(pNext);
        expect(readBoard(carNext)).toEqual(v);
        // Every offline note on a call the new epoch holds is there, exactly once. (A call that
        // was closed before the cut stays in the archive with its notes.)
        for (const { text, callId } of notes) {
          const call = v.calls[callId];
          if (call) expect(call.notes.filter((n) => n.text === text)).toHaveLength(1);
        }
        // Every note text is unique by construction, so any duplicate would be a forwarding bug.
        for (const c of Object.values(v.calls)) expect(new Set(c.notes.map((n) => n.text)).size).toBe(c.notes.length);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
