// The policy rule by rule, on real boards, at simulated times (no clock is read).
import { beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { decide, callOrder, rankAvailable, type PolicyInput } from '../../../dispatch/policy.js';
import { beatCenterOf } from '../../../dispatch/geography.js';
import type { Department } from '../../../daemon/department.js';
import { addCall, at, buildBoard, car, HOLD, MIN, operator, policy, sampleDepartment, snap, T0 } from './fixtures.js';

let dept: Department;
beforeAll(async () => {
  dept = await sampleDepartment();
});

function input(d: board.SectorBoard, callId: string, over: Partial<PolicyInput> = {}): PolicyInput {
  const home = over.home ?? snap('B', d);
  return {
    call: home.board.calls[callId]!,
    home,
    adjacent: [],
    beatOfficers: ['NB11'],
    beatCenter: beatCenterOf(dept),
    now: T0,
    holdMs: HOLD,
    ...over,
  };
}

describe('emergency (P1) calls', () => {
  it('go at once to the beat officer when available', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1' }, { id: 'NB21', beat: 'B2' }]), { id: 'E1', beat: 'B1', priority: 1 });
    expect(decide(input(d, 'E1'))).toMatchObject({ kind: 'dispatch', unitId: 'NB11', rule: 'beat_officer', reason: 'dispatched to NB11: P1 emergency, beat officer of beat B1 available' });
  });

  it('go to the nearest available unit of the sector by AVL when the beat officer is busy', () => {
    const d = addCall(
      buildBoard('B', [{ id: 'NB11', beat: 'B1', state: 'call:C-0' }, { id: 'NB21', beat: 'B2' }, { id: 'NB31', beat: 'B3' }]),
      { id: 'E1', beat: 'B1', priority: 1, lat: 47.668, lon: -122.39 },
    );
    // NB31 is parked next to the call; NB21 is far away: AVL, not the home beat, decides.
    const positions = { NB21: { lat: 47.70, lon: -122.30, at: T0 }, NB31: { lat: 47.6685, lon: -122.3905, at: T0 } };
    const dec = decide(input(d, 'E1', { home: snap('B', d, positions) }));
    expect(dec).toMatchObject({ kind: 'dispatch', unitId: 'NB31', rule: 'emergency_nearest' });
    expect(dec.reason).toMatch(/^dispatched to NB31: P1 emergency, beat officer NB11 on call C-0; nearest available unit of sector B \(0\.\d km by AVL\)$/);
  });

  it('go to the nearest unit of an adjacent sector when every unit of the sector is busy', () => {
    const home = buildBoard('B', [{ id: 'NB11', beat: 'B1', state: 'call:C-0' }, { id: 'NB21', beat: 'B2', state: 'out_of_service' }]);
    const d = addCall(home, { id: 'E1', beat: 'B1', priority: 1 });
    const j = buildBoard('J', [{ id: 'NJ11', beat: 'J1' }, { id: 'NJ21', beat: 'J2', state: 'call:C-9' }]);
    const l = buildBoard('L', [{ id: 'NL11', beat: 'L1' }]);
    const dec = decide(input(d, 'E1', { adjacent: [snap('J', j), snap('L', l)] }));
    expect(dec).toMatchObject({ kind: 'dispatch', sector: expect.stringMatching(/^[JL]$/), rule: 'emergency_adjacent' });
    expect(dec.reason).toContain('every unit of sector B busy');
  });

  it('wait for the first unit to come free when nobody is available anywhere', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1', state: 'call:C-0' }]), { id: 'E1', beat: 'B1', priority: 1 });
    const j = buildBoard('J', [{ id: 'NJ11', beat: 'J1', state: 'unsigned' }]);
    expect(decide(input(d, 'E1', { adjacent: [snap('J', j)] }))).toEqual({
      kind: 'wait',
      reason: 'waiting: P1 emergency, no unit available in sector B nor adjacent sectors J; goes to the first unit to come free',
    });
  });

  it('a late-reported P1 follows the non-emergency rule (held for the beat officer)', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1', state: 'call:C-0' }, { id: 'NB21', beat: 'B2' }]), { id: 'E1', beat: 'B1', priority: 1, late: true });
    expect(decide(input(d, 'E1'))).toMatchObject({ kind: 'hold', unitId: 'NB11', until: T0 + HOLD, reason: 'held: beat officer NB11 on call C-0' });
  });
});

describe('non-emergency calls', () => {
  it('go at once to the beat officer when available', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1' }]), { id: 'C1', beat: 'B1', priority: 3 });
    expect(decide(input(d, 'C1'))).toMatchObject({ kind: 'dispatch', unitId: 'NB11', reason: 'dispatched to NB11: beat officer of beat B1 available' });
  });

  it.each([
    ['call:2026-004512', 'held: beat officer NB11 on call 2026-004512'],
    ['out_of_service', 'held: beat officer NB11 out of service (meal break)'],
    ['off_duty', 'held: beat officer NB11 off duty'],
    ['unsigned', 'held: beat officer NB11 not signed on'],
  ])('are held up to 30 minutes while the beat officer is %s', (state, reason) => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1', state }, { id: 'NB21', beat: 'B2' }]), { id: 'C1', beat: 'B1', priority: 3 });
    expect(decide(input(d, 'C1'))).toEqual({ kind: 'hold', unitId: 'NB11', until: T0 + HOLD, reason });
  });

  function held(beatOfficerState: string) {
    let d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1', state: beatOfficerState }, { id: 'NB21', beat: 'B2' }]), { id: 'C1', beat: 'B1', priority: 3 });
    d = board.holdCall(d, { callId: 'C1', until: T0 + HOLD, reason: 'held: beat officer NB11 on call C-0', unitId: 'NB11' }, at(policy, T0));
    return d;
  }

  it('go to the beat officer who comes back at 29:59', () => {
    let d = held('call:C-0');
    d = board.clearCall(d, { callId: 'C-0', disposition: 'RPT' }, at(car('NB11'), T0 + HOLD - 1000));
    expect(decide(input(d, 'C1', { now: T0 + HOLD - 1000 }))).toMatchObject({ kind: 'dispatch', unitId: 'NB11', rule: 'beat_officer', reason: 'dispatched to NB11 after 29:59 hold: beat officer of beat B1 available' });
  });

  it('stay held before the deadline while the beat officer is busy', () => {
    expect(decide(input(held('call:C-0'), 'C1', { now: T0 + HOLD - 1000 }))).toEqual({ kind: 'none', reason: 'held for the beat officer' });
  });

  it('go to another available unit of the sector at the deadline', () => {
    const dec = decide(input(held('call:C-0'), 'C1', { now: T0 + HOLD }));
    expect(dec).toMatchObject({ kind: 'dispatch', unitId: 'NB21', rule: 'after_deadline' });
    expect(dec.reason).toMatch(/^dispatched to NB21 after 30:00 hold: beat officer NB11 on call C-0; nearest available unit of sector B/);
  });

  it('wait past the deadline when no other unit of the sector is free', () => {
    let d = held('call:C-0');
    d = board.setUnitStatus(d, { unitId: 'NB21', status: 'out_of_service', reason: 'fuel' }, at(car('NB21'), T0 + 5 * MIN));
    expect(decide(input(d, 'C1', { now: T0 + HOLD + 5000 }))).toMatchObject({ kind: 'wait' });
  });

  it('are re-held for the incoming beat officer at a shift change, keeping the deadline', () => {
    const d = held('call:C-0');
    const dec = decide(input(d, 'C1', { now: T0 + 10 * MIN, beatOfficers: ['NB12'] }));
    expect(dec).toEqual({ kind: 'hold', unitId: 'NB12', until: T0 + HOLD, reason: 'held: NB11 is no longer the beat officer (on call C-0); beat officer NB12 not signed on' });
  });

  it('go to the nearest available unit once an operator released the hold', () => {
    let d = held('call:C-0');
    d = board.releaseHold(d, { callId: 'C1', reason: 'released by disp1: caller waiting' }, at(operator, T0 + 5 * MIN));
    expect(decide(input(d, 'C1', { now: T0 + 5 * MIN }))).toMatchObject({ kind: 'dispatch', unitId: 'NB21', rule: 'hold_released' });
  });

  it('go to the nearest unit when the schedule names no beat officer for the beat', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB21', beat: 'B2' }]), { id: 'C1', beat: 'B1', priority: 4 });
    expect(decide(input(d, 'C1', { beatOfficers: [] }))).toMatchObject({ kind: 'dispatch', unitId: 'NB21', rule: 'no_beat_officer' });
  });
});

describe('determinism and ordering', () => {
  it('gives the same decision for the same input', () => {
    const d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1', state: 'call:C-0' }, { id: 'NB21', beat: 'B2' }, { id: 'NB31', beat: 'B3' }]), { id: 'E1', beat: 'B1', priority: 1 });
    expect(decide(input(d, 'E1'))).toEqual(decide(input(d, 'E1')));
  });

  it('ranks units without AVL after equally distant units with AVL, then by id', () => {
    const d = buildBoard('B', [{ id: 'NB31', beat: 'B1' }, { id: 'NB21', beat: 'B1' }]);
    const ranked = rankAvailable([snap('B', d)], undefined, beatCenterOf(dept));
    expect(ranked.map((c) => c.unit.id)).toEqual(['NB21', 'NB31']);
  });

  it('decides emergencies first, then by priority and age', () => {
    let d = buildBoard('B', []);
    d = addCall(d, { id: 'A', beat: 'B1', priority: 3 }, T0);
    d = addCall(d, { id: 'B', beat: 'B1', priority: 1, late: true }, T0 + 1);
    d = addCall(d, { id: 'C', beat: 'B1', priority: 1 }, T0 + 2);
    d = addCall(d, { id: 'D', beat: 'B1', priority: 3 }, T0 - 1);
    const calls = Object.values(board.readBoard(d).calls).sort(callOrder);
    expect(calls.map((c) => c.id)).toEqual(['C', 'B', 'D', 'A']);
  });

  it('decides nothing for closed or staffed calls', () => {
    let d = addCall(buildBoard('B', [{ id: 'NB11', beat: 'B1' }]), { id: 'C1', beat: 'B1', priority: 3 });
    d = board.assignUnit(d, { callId: 'C1', unitId: 'NB11' }, at(operator, T0));
    expect(decide(input(d, 'C1')).kind).toBe('none');
  });
});
