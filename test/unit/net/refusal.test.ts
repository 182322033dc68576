// Changes a station cannot take must not start an endless exchange of empty sync messages, and
// must still arrive once it can; a change whose write fails (received, or made here) stays on the
// board, goes on to the peers and is written when the disk takes it; shared heads are never
// persisted ahead of the board's own disk.
import { join } from 'node:path';
import * as A from '@automerge/automerge';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readBoard, signOn, upsertUnit } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { MemorySyncStateStore } from '../../../sync/sync-state-store.js';
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

it('goes quiet after changes it could not take and takes them when it greets the car again', async () => {
  const replica = precinct.replica;
  const receive = replica.receive.bind(replica);
  let failures = 0;
  replica.receive = (fn) => {
    if (failures++ === 0) return Promise.reject(new Error('board unavailable'));
    return receive(fn);
  };
  await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 1000)));
  await wire.settle();
  expect(precinct.sync.stats.rejected).toBe(1);
  expect(precinct.replica.view().units.U1?.status).toBe('off_duty');
  const quietFrom = wire.messages;
  await new Promise((r) => setTimeout(r, 100));
  expect(wire.messages).toBe(quietFrom);
  // The station greets the car again after retryAfterMs; the car resends; this time it is taken.
  for (let i = 0; i < 100 && precinct.replica.view().units.U1?.status !== 'available'; i++) await new Promise((r) => setTimeout(r, 20));
  expect(precinct.replica.view().units.U1?.status).toBe('available');
});

it('keeps a received change whose write fails, sends it on, and writes it once the disk takes it', async () => {
  const other = await node(wire, tmp.dir, 'V2');
  await other.sync.hello(PRECINCT);
  await wire.settle();
  const store = precinct.store;
  const save = store.save.bind(store);
  let failures = 0;
  store.save = async (docId, doc) => {
    if (failures++ === 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    return save(docId, doc);
  };
  await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 1000)));
  await wire.settle();
  // On the station's board and at the other car at once, not refused, not yet on the station's disk.
  expect(precinct.replica.view().units.U1?.status).toBe('available');
  expect(other.replica.view().units.U1?.status).toBe('available');
  expect(precinct.sync.stats.rejected).toBe(0);
  expect(precinct.replica.unsaved).toBe(true);
  // Written by the retry a second later.
  for (let i = 0; i < 150 && precinct.replica.unsaved; i++) await new Promise((r) => setTimeout(r, 20));
  expect(precinct.replica.unsaved).toBe(false);
  const reopened = new FileDocStore(join(tmp.dir, PRECINCT));
  const onDisk = await reopened.load(precinct.replica.docId);
  expect(onDisk && readBoard(onDisk).units.U1?.status).toBe('available');
  await other.store.close();
});

it("persists a peer's shared heads only once the changes they name are on disk", async () => {
  const states = new MemorySyncStateStore();
  const station = await node(wire, tmp.dir, 'precinct-S', { states });
  const store = station.store;
  const save = store.save.bind(store);
  let release!: () => void;
  const disk = new Promise<void>((r) => (release = r));
  const carS = await node(wire, tmp.dir, 'V3');
  await carS.sync.hello('precinct-S');
  await wire.settle();
  store.save = async (docId, doc) => {
    await disk; // a slow disk
    return save(docId, doc);
  };
  await carS.replica.update((d) => upsertUnit(d, { id: 'U3', callSign: 'U-3', homeBeat: 'B1', mode: 'car' }, dispatcher));
  // The change goes as it is (the pair is live); shared heads move in the round of a greeting.
  await carS.sync.hello('precinct-S');
  await wire.settle();
  const head = A.getHeads(carS.replica.doc);
  expect(A.hasHeads(station.replica.doc, head)).toBe(true);
  const before = states.load(station.replica.docId, 'V3');
  expect(before ? A.decodeSyncState(before).sharedHeads : []).not.toEqual(head);
  release();
  for (let i = 0; i < 100 && station.replica.unsaved; i++) await new Promise((r) => setTimeout(r, 10));
  const after = states.load(station.replica.docId, 'V3');
  expect(after && A.decodeSyncState(after).sharedHeads).toEqual(head);
  await station.store.close();
  await carS.store.close();
});

it('keeps and sends a local change whose save fails, writes it once the disk takes it, and the next change still reaches the station', async () => {
  const store = car.store;
  const save = store.save.bind(store);
  let failNext = true;
  store.save = async (docId, doc) => {
    if (!failNext) return save(docId, doc);
    failNext = false;
    await new Promise((r) => setTimeout(r, 50)); // a slow disk, then full
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  };
  const refused = car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Full-Disk'] }, asCar(T + 1000)));
  // A sync round while that change is being saved (the station greets the car).
  await precinct.sync.hello('V1');
  void car.sync.flush(PRECINCT);
  // The caller learns that it is not on the car's disk...
  await expect(refused).rejects.toThrow(/ENOSPC/);
  await wire.settle();
  // ...but it was sent while being written, and stays on the car's board.
  expect(precinct.replica.view().units.U1?.officers).toEqual(['Ofc. Full-Disk']);
  expect(car.replica.view().units.U1?.officers).toEqual(['Ofc. Full-Disk']);
  expect(car.replica.unsaved).toBe(true);

  await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 2000)));
  await wire.settle();
  expect(precinct.replica.view().units.U1?.officers).toEqual(['Ofc. Reyes']);
  expect(precinct.sync.stats.rejected).toBe(0);
  // That write took both: a fresh process finds both sign-ons on the car's disk.
  expect(car.replica.unsaved).toBe(false);
  const onDisk = await new FileDocStore(join(tmp.dir, 'V1')).load(car.replica.docId);
  const heads = A.getHeads(car.replica.doc);
  expect(onDisk && A.hasHeads(onDisk, heads)).toBe(true);
});
