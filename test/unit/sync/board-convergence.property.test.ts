// Property: any sequence of operations on 3+ replicas (a precinct and cars), with arbitrary
// partial merges in between, converges to identical readBoard output on every replica once all
// changes are exchanged, whatever the final merge order. Refused operations (BoardError) are part
// of the game: they must refuse cleanly and never corrupt a replica.
import * as Automerge from '@automerge/automerge';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acceptCall,
  addNote,
  assignUnit,
  BoardError,
  cancelCall,
  clearCall,
  createCall,
  deliverReport,
  holdCall,
  markRead,
  readBoard,
  releaseHold,
  setUnitStatus,
  signOff,
  signOn,
  type SectorBoard,
} from '../../../sync/board.js';
import { UNIT_STATUSES, type OpContext, type UnitStatus } from '../../../sync/schema.js';
import { car, dispatcher, hexActor, policy, staffedBoard, T0 } from '../../helpers/board-fixtures.js';

// BOARD_PROPERTY_RUNS=500 for a deep search; the default keeps npm test quick on 2 cores.
const RUNS = Number(process.env.BOARD_PROPERTY_RUNS ?? 50);
const UNITS = ['3A11', '3A12'] as const;
const CALLS = ['C1', 'C2', 'C3', 'C4'] as const;
const DISPOSITIONS = ['RPT', 'GOA', 'ARR'] as const;

type Step =
  | { kind: 'op'; replica: number; op: number; a: number; b: number; dt: number }
  | { kind: 'merge'; from: number; to: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('op' as const), replica: fc.nat(3), op: fc.nat(11), a: fc.nat(7), b: fc.nat(7), dt: fc.nat(90_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const), from: fc.nat(3), to: fc.nat(3) }) },
);

/** Replica 0 is the precinct; replicas 1..3 are cars; car k acts for unit UNITS[(k-1) % 2], so two devices share a unit. */
function apply(doc: SectorBoard, s: Extract<Step, { kind: 'op' }>, clock: number): SectorBoard {
  const unit = UNITS[(s.replica + 1) % 2] as string;
  const callId = CALLS[s.a % CALLS.length] as string;
  const ctx: OpContext = s.replica === 0 ? { by: s.b % 2 ? dispatcher : policy, at: clock } : { by: car(unit, `V${s.replica}`), at: clock };
  if (s.replica === 0) {
    switch (s.op % 8) {
      case 0:
        return createCall(doc, { cadNumber: callId, type: 'THEFT', priority: ((s.b % 4) + 1) as 1, address: `${s.b} Elm St`, beat: 'B31' }, ctx);
      case 1:
        return assignUnit(doc, { callId, unitId: UNITS[s.b % 2] as string }, ctx);
      case 2:
        return holdCall(doc, { callId, until: clock + 30 * 60_000, reason: 'beat officer busy', unitId: UNITS[s.b % 2] as string }, ctx);
      case 3:
        return releaseHold(doc, { callId, reason: 'deadline' }, ctx);
      case 4:
        return cancelCall(doc, { callId, reason: 'duplicate' }, ctx);
      case 5:
        return addNote(doc, { callId, text: `dispatch note ${s.b}` }, ctx);
      case 6:
        return deliverReport(doc, { id: `R${s.a}`, beat: 'B31', title: 'CARE report', body: 'text', incidentAt: T0, recipients: [{ kind: 'unit', id: UNITS[s.b % 2] as string }] }, ctx);
      default:
        return clearCall(doc, { callId, disposition: DISPOSITIONS[s.b % 3] as string }, ctx);
    }
  }
  switch (s.op % 8) {
    case 0:
    case 1:
      return setUnitStatus(doc, { unitId: unit, status: UNIT_STATUSES[s.b % UNIT_STATUSES.length] as UnitStatus, reason: 'r' }, ctx);
    case 2:
      return acceptCall(doc, { callId, unitId: unit }, ctx);
    case 3:
      return addNote(doc, { callId, text: `car ${s.replica} note ${s.b}` }, ctx);
    case 4:
      return clearCall(doc, { callId, disposition: DISPOSITIONS[s.b % 3] as string }, ctx);
    case 5:
      return markRead(doc, { reportId: `R${s.a}`, unitId: unit }, ctx);
    case 6:
      return signOff(doc, { unitId: unit }, ctx);
    default:
      return signOn(doc, { unitId: unit, officers: [`Ofc ${s.b}`] }, ctx);
  }
}

// Counts guard against a vacuous property where every generated operation is refused.
const tally = { applied: 0, refused: 0 };

function run(steps: Step[]): SectorBoard[] {
  const base = staffedBoard(hexActor(100));
  const replicas = [0, 1, 2, 3].map((i) => Automerge.clone(base, hexActor(i + 1)));
  // Clocks are per device and may tie: ties are where a wrong tiebreak would diverge.
  const clocks = [0, 1, 2, 3].map(() => T0 + 10 * 60_000);
  for (const s of steps) {
    if (s.kind === 'merge') {
      if (s.from !== s.to) replicas[s.to] = Automerge.merge(replicas[s.to] as SectorBoard, replicas[s.from] as SectorBoard);
      continue;
    }
    clocks[s.replica] = (clocks[s.replica] as number) + (s.dt % 7 === 0 ? 0 : s.dt);
    try {
      replicas[s.replica] = apply(replicas[s.replica] as SectorBoard, s, clocks[s.replica] as number);
      tally.applied++;
    } catch (err) {
      if (!(err instanceof BoardError)) throw err;
      tally.refused++;
    }
  }
  return replicas;
}

describe('sector board convergence (property)', () => {
  afterAll(() => {
    expect(tally.applied).toBeGreaterThan((tally.applied + tally.refused) / 4);
  });

  it('random operations on 4 replicas, merged in random orders, give identical views', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: 'large' }), fc.array(fc.nat(3), { minLength: 8, maxLength: 8 }), (steps, orderSeed) => {
        const replicas = run(steps);
        const views = [0, 1, 2, 3].map((target) => {
          // Each replica receives the others in its own pseudo-random order.
          const order = [0, 1, 2, 3].filter((i) => i !== target).sort((x, y) => ((orderSeed[x + target] ?? 0) - (orderSeed[y + target] ?? 0)) || x - y);
          let d = Automerge.clone(replicas[target] as SectorBoard);
          for (const i of order) d = Automerge.merge(d, replicas[i] as SectorBoard);
          return readBoard(d);
        });
        for (const v of views.slice(1)) expect(v).toEqual(views[0]);
        // Derived invariants every merged view keeps.
        const v = views[0];
        if (!v) return;
        for (const c of Object.values(v.calls)) {
          const times = c.notes.map((n) => n.at);
          expect(times).toEqual([...times].sort((x, y) => x - y));
          if (c.state === 'cleared' || c.state === 'cancelled' || c.state === 'pending' || c.state === 'held') {
            if (c.state !== 'cleared' && c.state !== 'cancelled') expect(c.assigned).toEqual([]);
          }
          if (c.hold) expect(c.state).toBe('held');
        }
        for (const u of Object.values(v.units)) {
          if (u.callId) expect(['cleared', 'cancelled']).not.toContain(v.calls[u.callId]?.state);
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('pairwise gossip (sync-like partial exchanges) reaches the same fixpoint as a full merge', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 50, size: 'large' }), fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 12, maxLength: 30 }), (steps, gossip) => {
        const replicas = run(steps);
        const full = [...replicas];
        for (const [a, b] of gossip) if (a !== b) full[b] = Automerge.merge(Automerge.clone(full[b] as SectorBoard), full[a] as SectorBoard);
        // Finish with a ring so every replica has everything.
        for (let round = 0; round < 2; round++) for (let i = 0; i < 4; i++) full[(i + 1) % 4] = Automerge.merge(Automerge.clone(full[(i + 1) % 4] as SectorBoard), full[i] as SectorBoard);
        const heads = full.map((d) => Automerge.getHeads(d).sort().join());
        expect(new Set(heads).size).toBe(1);
        const views = full.map((d) => readBoard(d));
        for (const v of views.slice(1)) expect(v).toEqual(views[0]);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  }, 120_000);
});
