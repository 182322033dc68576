// What one status change costs a replica as the service day's log grows: the car that makes it
// (Automerge.change through setUnitStatus), and every replica that receives it (applyChanges on
// a board whose JS document is materialised, as on a running station or screen). Each hop of a
// change car A -> station -> car B pays one of these, so they bound the sync bench's latency.
//
// Run: `node dist/bench/run.js benchApply` (a few seconds).
import * as A from '@automerge/automerge';
import { createBoard, setUnitStatus, signOn, upsertUnit, type SectorBoard } from '../sync/board.js';
import { keysOf, txt } from '../sync/ops/common.js';
import type { OpContext, UnitId, VehicleId } from '../sync/schema.js';
import type { BenchTable } from './table.js';

const UNITS = 17;
const SAMPLES = 60;
const STATUSES = ['en_route', 'on_scene', 'available'] as const;
const dispatcher = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'bench', role: 'dispatcher' }, at });
const asCar = (i: number, at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: `V${i}` as VehicleId, unitId: `U${i}` as UnitId }, at });

/** A sector board of UNITS signed-on units whose log holds about `events` unit events. */
function boardWith(events: number): SectorBoard {
  let d = createBoard('S00', '2026-11-27', 'aa00aa00aa00aa00');
  const t = Date.UTC(2026, 10, 27, 8);
  for (let i = 0; i < UNITS; i++) d = upsertUnit(d, { id: `U${i}`, callSign: `U${i}`, homeBeat: 'S001', mode: 'car' }, dispatcher(t));
  for (let i = 0; i < UNITS; i++) d = signOn(d, { unitId: `U${i}`, officers: [`Ofc ${i}`] }, asCar(i, t + 1));
  for (let k = UNITS; k < events; k++) d = setUnitStatus(d, { unitId: `U${k % UNITS}`, status: STATUSES[Math.floor(k / UNITS) % 2]! }, asCar(k % UNITS, t + 2 + k));
  return d;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function benchApply(): Promise<BenchTable> {
  const rows: Array<Array<string | number>> = [];
  for (const events of [100, 500, 1000, 2000, 4000]) {
    let station = boardWith(events);
    void station.unitLog; // materialised, as on a running replica
    let car = A.clone(station, 'bb00bb00bb00bb00');
    const made: number[] = [];
    const applied: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const current = txt(car.unitLog[keysOf(car.unitLog, 'U3').at(-1)!]?.status);
      const status = STATUSES.filter((x) => x !== current)[i % 2]!;
      const t0 = performance.now();
      car = setUnitStatus(car, { unitId: 'U3', status }, asCar(3, Date.now()));
      made.push(performance.now() - t0);
      const change = A.getLastLocalChange(car)!;
      const t1 = performance.now();
      station = A.applyChanges(station, [change])[0];
      applied.push(performance.now() - t1);
    }
    rows.push([events, median(made).toFixed(2), median(applied).toFixed(2)]);
    await new Promise((r) => setImmediate(r));
  }
  return {
    title: 'One status change vs the size of the day\'s log (Automerge 3, materialised JS document)',
    columns: ['unit events on the board (before the samples)', 'make it on the car, median ms', 'apply it on a receiver, median ms'],
    rows,
    notes: [
      `${SAMPLES} status changes per row on a board of ${UNITS} units; one thread, nothing else running in it.`,
      'Automerge 3 keeps the JS document in step by copying each object a change touches; the log is one flat map, so every hop of a change costs time linear in the day\'s events.',
    ],
  };
}
