// Persisted sync states (issue 4): after both sides restart, a reconnect with one new change
// costs an incremental round, not a Bloom filter over the whole history.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUnitStatus, signOn, upsertUnit } from '../../../sync/board.js';
import { FileSyncStateStore, MemorySyncStateStore, type SyncStateStore } from '../../../sync/sync-state-store.js';
import { silentLogger } from '../../../sync/logger.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import { node, PRECINCT, tempDir, Wire } from './sync-pair.js';
import { join } from 'node:path';

const T = Date.UTC(2026, 10, 27, 8);
const asCar = (at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: 'V1' as VehicleId, unitId: 'U1' as UnitId }, at });
const dispatcher = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at });
const STATUSES = ['en_route', 'on_scene', 'available'] as const;

describe('sync state persistence', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(() => tmp.remove());

  /** A shift of history, synced; then both sides "restart" and the car reconnects with one change. */
  async function reconnectBytes(states: () => Promise<{ car: SyncStateStore; precinct: SyncStateStore }>): Promise<number> {
    let wire = new Wire();
    let s = await states();
    let precinct = await node(wire, tmp.dir, PRECINCT, { states: s.precinct });
    let car = await node(wire, tmp.dir, 'V1', { states: s.car });
    await precinct.replica.update((d) => upsertUnit(d, { id: 'U1', callSign: 'U-1', homeBeat: 'B1', mode: 'car' }, dispatcher(T)));
    await car.sync.hello(PRECINCT);
    await wire.settle();
    // A shift of history made offline, then synced in one catch-up.
    wire.online = false;
    await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar(T + 1)));
    // 150 changes (one durable write): a Bloom filter over them is what a fresh state costs.
    await car.replica.update((d) => {
      for (let i = 0; i < 150; i++) d = setUnitStatus(d, { unitId: 'U1', status: STATUSES[i % 3]! }, asCar(T + 10 + i));
      return d;
    });
    wire.online = true;
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(precinct.sync.inSync('V1')).toBe(true);
    // Let the last acks land so the saved shared heads are the final ones.
    for (let i = 0; i < 100 && !(car.sync.inSync(PRECINCT) && precinct.sync.inSync('V1')); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    await wire.settle();
    await s.car.flush();
    await s.precinct.flush();
    await car.store.close();
    await precinct.store.close();

    // Restart both: new replicas from disk, sync states from disk.
    wire = new Wire();
    s = await states();
    precinct = await node(wire, tmp.dir, PRECINCT, { states: s.precinct });
    car = await node(wire, tmp.dir, 'V1', { states: s.car });
    wire.online = false;
    await car.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'en_route' }, asCar(T + 1000)));
    wire.online = true;
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(precinct.replica.view().units.U1?.status).toBe('en_route');
    // Saved states are written behind: let them land before the directory is removed.
    await s.car.flush();
    await s.precinct.flush();
    await car.store.close();
    await precinct.store.close();
    return wire.bytes;
  }

  it('costs a few hundred bytes with saved states, several times more without', async () => {
    const dirStates = async () => ({
      car: await FileSyncStateStore.open(join(tmp.dir, 'car-states'), silentLogger, 10),
      precinct: await FileSyncStateStore.open(join(tmp.dir, 'precinct-states'), silentLogger, 10),
    });
    const saved = await reconnectBytes(dirStates);
    await tmp.remove();
    tmp = await tempDir();
    const fresh = await reconnectBytes(async () => ({ car: new MemorySyncStateStore(), precinct: new MemorySyncStateStore() }));
    console.log(`reconnect after restart, one change: ${saved} B with saved sync states, ${fresh} B without`);
    expect(saved).toBeLessThan(1000);
    expect(fresh).toBeGreaterThan(saved * 1.3);
  }, 60_000);

  it('ignores state files with names that are not ids and survives a corrupt one', async () => {
    const dir = join(tmp.dir, 'states');
    const store = await FileSyncStateStore.open(dir, silentLogger, 10);
    store.save('../evil', 'V1', new Uint8Array([1]));
    store.save('B@1', 'V1', new Uint8Array([0x43, 0x00]));
    await store.flush();
    const again = await FileSyncStateStore.open(dir, silentLogger, 10);
    expect(again.load('../evil', 'V1')).toBeUndefined();
    expect(again.load('B@1', 'V1')).toEqual(new Uint8Array([0x43, 0x00]));
    // A corrupt state is treated as no state: the peer simply gets a full round.
    const wire = new Wire();
    const p = await node(wire, tmp.dir, PRECINCT, { states: again });
    const c = await node(wire, tmp.dir, 'V1');
    await c.sync.hello(PRECINCT);
    await wire.settle();
    expect(p.sync.inSync('V1')).toBe(true);
    await p.store.close();
    await c.store.close();
    await again.flush();
  });
});
