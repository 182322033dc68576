// Changes a station cannot keep (here: its disk write fails) must not start an endless exchange
// of empty sync messages, and must still arrive once the station can write again.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { signOn, upsertUnit } from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import { node, PRECINCT, tempDir, Wire, type Node } from './sync-pair.js';

const T = Date.UTC(2026, 10, 27, 8);
const dispatcher: OpContext = { by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at: T };
const asCar = (at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: 'V1' as VehicleId, unitId: 'U1' as UnitId }, at });

let tmp: Awaited<ReturnType<typeof tempDir>>;
let wire: Wire;
let precinct: Node;
let car: Node;

beforeEach(async () => {
  tmp = await tempDir();
  wire = new Wire();
  precinct = await node(wire, tmp.dir, PRECINCT, { retryAfterMs: 300 });
  car = await node(wire, tmp.dir, 'V1');
  await precinct.replica.update((d) => upsertUnit(d, { id: 'U1', callSign: 'U-1', homeBeat: 'B1', mode: 'car' }, dispatcher));
  await car.sync.hello(PRECINCT);
  await wire.settle();
});
afterEach(async () => {
  await precinct.store.close();
  await car.store.close();
  await tmp.remove();
});

it('goes quiet after a failed write and takes the change when it greets the car again', async () => {
  const replica = precinct.replica;
  const update = replica.update.bind(replica);
  let failures = 0;
  replica.update = (fn) => {
    if (failures++ === 0) return Promise.reject(new Error('ENOSPC: no space left on device'));
    return update(fn);
  };
  await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 1000)));
  await wire.settle();
  expect(precinct.sync.stats.rejected).toBe(1);
  expect(precinct.replica.view().units.U1?.status).toBe('off_duty');
  const quietFrom = wire.messages;
  await new Promise((r) => setTimeout(r, 100));
  expect(wire.messages).toBe(quietFrom);
  // The station greets the car again after retryAfterMs; the car resends; the write succeeds.
  for (let i = 0; i < 100 && precinct.replica.view().units.U1?.status !== 'available'; i++) await new Promise((r) => setTimeout(r, 20));
  expect(precinct.replica.view().units.U1?.status).toBe('available');
});

it('never sends a change whose save then fails, so the next change still reaches the station', async () => {
  const store = car.store;
  const save = store.save.bind(store);
  let failNext = true;
  store.save = async (docId, doc) => {
    if (!failNext) return save(docId, doc);
    failNext = false;
    await new Promise((r) => setTimeout(r, 50)); // a slow disk, then full
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  };
  const refused = car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Never saved'] }, asCar(T + 1000)));
  // A sync round while that change is being saved (the station greets the car).
  await precinct.sync.hello('V1');
  void car.sync.flush(PRECINCT);
  await expect(refused).rejects.toThrow(/ENOSPC/);
  await wire.settle();
  expect(precinct.replica.view().units.U1?.officers ?? []).not.toContain('Never saved');

  await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 2000)));
  await wire.settle();
  expect(precinct.replica.view().units.U1?.officers).toEqual(['Ofc. Reyes']);
  expect(precinct.sync.stats.rejected).toBe(0);
});
