// Shared builders for sector-board tests: actors, contexts and a small staffed board.
import {
  createBoard,
  signOn,
  upsertBeat,
  upsertUnit,
  type SectorBoard,
} from '../../sync/board.js';
import type { Actor, OpContext, SectorId, UnitId, VehicleId } from '../../sync/schema.js';

export const SECTOR = 'S3' as SectorId;
export const T0 = Date.UTC(2026, 10, 27, 7, 0, 0);

export const dispatcher: Actor = { kind: 'operator', operatorId: 'disp1', role: 'dispatcher' };
export const care: Actor = { kind: 'operator', operatorId: 'care1', role: 'care' };
export const policy: Actor = { kind: 'policy', precinct: 'P1' };
export const car = (unit: string, vehicle = `V-${unit}`): Actor => ({ kind: 'vehicle', vehicleId: vehicle as VehicleId, unitId: unit as UnitId });

export const at = (by: Actor, minutes: number): OpContext => ({ by, at: T0 + Math.round(minutes * 60_000) });

export const hexActor = (n: number): string => n.toString(16).padStart(32, '0');

/** Board with beats B31/B32 and units 3A11 (beat B31) and 3A12 (beat B32), both signed on. */
export function staffedBoard(actor = hexActor(1), epoch = '2026-11-27'): SectorBoard {
  let d = createBoard(SECTOR, epoch, actor);
  d = upsertBeat(d, { id: 'B31', name: 'Beat 31' }, at(dispatcher, 0));
  d = upsertBeat(d, { id: 'B32', name: 'Beat 32' }, at(dispatcher, 0));
  d = upsertUnit(d, { id: '3A11', callSign: '3-Adam-11', homeBeat: 'B31', mode: 'car' }, at(dispatcher, 0));
  d = upsertUnit(d, { id: '3A12', callSign: '3-Adam-12', homeBeat: 'B32', mode: 'car' }, at(dispatcher, 0));
  d = signOn(d, { unitId: '3A11', officers: ['Ofc. Reyes'] }, at(car('3A11'), 1));
  d = signOn(d, { unitId: '3A12', officers: ['Ofc. Chen'] }, at(car('3A12'), 1));
  return d;
}
