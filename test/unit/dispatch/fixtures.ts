// Builders for dispatch tests: real sector boards (built with the board's own operations) on the
// sample department's sector B (beats B1-B3) and its neighbour J, at simulated times.
import * as board from '../../../sync/board.js';
import type { Actor, BoardView, OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { SectorSnapshot, Position } from '../../../dispatch/policy.js';
import { loadDepartment, type Department } from '../../../daemon/department.js';
import { SAMPLE_DEPARTMENT } from '../../../daemon/config.js';

let departmentCache: Promise<Department> | undefined;
export function sampleDepartment(): Promise<Department> {
  departmentCache ??= loadDepartment(SAMPLE_DEPARTMENT);
  return departmentCache;
}

/** 2026-03-02 10:00 Pacific (a Monday, first watch). */
export const T0 = Date.UTC(2026, 2, 2, 18, 0, 0);
export const MIN = 60_000;
export const HOLD = 30 * MIN;

export const operator: Actor = { kind: 'operator', operatorId: 'disp1', role: 'dispatcher' };
export const policy: Actor = { kind: 'policy', precinct: 'N' };
export const car = (unit: string): Actor => ({ kind: 'vehicle', vehicleId: `V-${unit}` as VehicleId, unitId: unit as UnitId });
export const at = (by: Actor, t: number): OpContext => ({ by, at: t });

export interface UnitSpec {
  id: string;
  beat: string;
  /** available (default), off_duty (signed off), unsigned (never signed on), out_of_service, or 'call:<callId>'. */
  state?: string;
}

/** A board with units signed on (or not) and optionally busy on calls of their own. */
export function buildBoard(sector: string, units: UnitSpec[], t = T0 - 60 * MIN): board.SectorBoard {
  let d = board.createBoard(sector, 'e1', '0a'.repeat(16));
  for (const u of units) {
    d = board.upsertUnit(d, { id: u.id, callSign: u.id, homeBeat: u.beat, mode: 'car' }, at(operator, t));
    const state = u.state ?? 'available';
    if (state === 'unsigned') continue;
    d = board.signOn(d, { unitId: u.id, officers: [`Ofc. ${u.id}`] }, at(car(u.id), t + 1));
    if (state === 'off_duty') d = board.signOff(d, { unitId: u.id }, at(car(u.id), t + 2));
    if (state === 'out_of_service') d = board.setUnitStatus(d, { unitId: u.id, status: 'out_of_service', reason: 'meal break' }, at(car(u.id), t + 2));
    if (state.startsWith('call:')) {
      const callId = state.slice(5);
      d = board.createCall(d, { cadNumber: callId, type: 'Earlier call', priority: 3, address: '1 Earlier St', beat: u.beat }, at(operator, t + 3));
      d = board.assignUnit(d, { callId, unitId: u.id }, at(policy, t + 4));
    }
  }
  return d;
}

export function addCall(d: board.SectorBoard, c: { id: string; beat: string; priority: 1 | 2 | 3 | 4; late?: boolean; lat?: number; lon?: number }, t = T0): board.SectorBoard {
  return board.createCall(
    d,
    { cadNumber: c.id, type: 'Test call', priority: c.priority, address: `beat ${c.beat}`, beat: c.beat, ...(c.late ? { late: true } : {}), ...(c.lat !== undefined ? { lat: c.lat, lon: c.lon! } : {}) },
    at(operator, t),
  );
}

export function snap(sector: string, d: board.SectorBoard, positions: Record<string, Position> = {}): SectorSnapshot {
  return { sector, board: board.readBoard(d), positions };
}

export const view = (d: board.SectorBoard): BoardView => board.readBoard(d);
