// The sync bench's probe cars (bench/sync.ts): two cars per sector, A and B, in a process of
// their own, so that neither the change's start on A nor its arrival on B waits for the other
// cars of the bench's one event loop (in a fleet every car has its own CPU). Started with fork();
// its argument is the JSON of ProbeSpec. Each car is the real thing the bench cars are
// (MqttTransport, PeerSync, SectorReplica on disk). On request, car A of a sector changes its
// status and the probe answers when car B holds the change, with the times of each step.
import { join } from 'node:path';
import * as A from '@automerge/automerge';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { CAR_SETTLE, PeerSync } from '../sync/peer-sync.js';
import { MemorySyncStateStore } from '../sync/sync-state-store.js';
import { FileDocStore } from '../sync/doc-store.js';
import { newActorId, SectorReplica } from '../sync/replica.js';
import { setUnitStatus, signOn } from '../sync/board.js';
import { silentLogger } from '../sync/logger.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { SectorId, UnitId, VehicleId } from '../sync/schema.js';
import { runAsChild, serveCalls } from './child-rpc.js';

export interface ProbeSpec {
  url: string;
  secret: string;
  station: string;
  dir: string;
  /** The epoch of the sector boards (their docId is `{sector}@{epoch}`). */
  epoch: string;
  /** Per sector, car A (who changes) and car B (who receives). */
  pairs: Array<{ sector: string; a: ProbeCar; b: ProbeCar }>;
}
export interface ProbeCar {
  id: string;
  unit: string;
}

/** Wall times (performance.timeOrigin + performance.now(), comparable across processes) of one sample. */
export interface Sampled {
  /** Car A starts its change. */
  t0: number;
  /** Car A has handed the change to its MQTT client (its 'applied' fan-out ran). */
  sent: number;
  /** The change is durable on car A (update() resolved; it goes out while being written). */
  durable: number;
  /** Its message reached car B. */
  rx: number;
  /** It is on car B's board. */
  at: number;
}

export interface ProbeCalls {
  /** Car A of `sector` changes its status; answers when car B holds the change. */
  sample(sector: string): Promise<Sampled>;
}

const wallNow = () => performance.timeOrigin + performance.now();

interface Car {
  id: string;
  unit: string;
  sector: string;
  replica: SectorReplica;
  transport: MqttTransport;
  store: FileDocStore;
  /** When the last sync message arrived. */
  lastRx: number;
  /** When each change was first on the board, by hash (the latest few hundred). */
  seen: Map<string, number>;
}

async function openCar(spec: ProbeSpec, c: ProbeCar, sector: string): Promise<Car> {
  const store = new FileDocStore(join(spec.dir, c.id));
  const replica = await SectorReplica.open({ store, sector: sector as SectorId, epoch: spec.epoch, actorId: newActorId() });
  const transport = new MqttTransport({ brokers: [{ url: spec.url }], clientId: c.id, username: c.id, password: spec.secret, log: silentLogger, subscriptions: [topics.syncInbox(sector, c.id), topics.avlAll(sector)] });
  const sync = new PeerSync({ replica, publisher: transport, sector, selfPeer: c.id, log: silentLogger, stateStore: new MemorySyncStateStore(), settle: CAR_SETTLE });
  const car: Car = { ...c, sector, replica, transport, store, lastRx: NaN, seen: new Map() };
  replica.on('applied', () => {
    const at = wallNow();
    for (const h of A.getHeads(replica.doc)) if (!car.seen.has(h)) car.seen.set(h, at);
    for (const h of car.seen.keys()) {
      if (car.seen.size <= 500) break;
      car.seen.delete(h);
    }
  });
  transport.on('message', (topic, payload) => {
    if (parseTopic(topic)?.kind !== 'sync') return;
    car.lastRx = wallNow();
    void sync.handle(topic, payload);
  });
  transport.on('connect', () => void sync.hello(spec.station));
  transport.start();
  return car;
}

const ctxOf = (c: Car) => ({ by: { kind: 'vehicle' as const, vehicleId: c.id as VehicleId, unitId: c.unit as UnitId }, at: Date.now() });

const STATUSES = ['en_route', 'on_scene', 'available'] as const;
let samples = 0;

/** Car A changes its status (always a real change); resolves when car B holds it (10 s at most). */
async function sample(a: Car, b: Car): Promise<Sampled> {
  const current = a.replica.view().units[a.unit]?.status;
  const status = STATUSES.filter((x) => x !== current)[samples++ % 2]!;
  let sent = NaN;
  // After the car's own PeerSync listener (registered when the car was opened): the publish is issued.
  a.replica.once('applied', () => (sent = wallNow()));
  const t0 = wallNow();
  const doc = await a.replica.update((d) => setUnitStatus(d, { unitId: a.unit, status }, ctxOf(a)));
  const durable = wallNow();
  const head = A.getHeads(doc)[0]!;
  for (const end = Date.now() + 10_000; !b.seen.has(head); ) {
    if (Date.now() > end) throw new Error(`car B of ${b.sector} never held the change`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        b.replica.off('applied', wake);
        resolve();
      };
      const timer = setTimeout(wake, 100);
      b.replica.once('applied', wake);
    });
  }
  // The next sample starts once B's write behind is done (one disk for the whole bench).
  for (const end = Date.now() + 10_000; b.replica.unsaved && Date.now() < end; ) await new Promise((r) => setTimeout(r, 1));
  return { t0, sent, durable, rx: b.lastRx, at: b.seen.get(head)! };
}

async function main(spec: ProbeSpec): Promise<void> {
  const pairs = new Map<string, { a: Car; b: Car }>();
  for (const p of spec.pairs) pairs.set(p.sector, { a: await openCar(spec, p.a, p.sector), b: await openCar(spec, p.b, p.sector) });
  const all = [...pairs.values()].flatMap((p) => [p.a, p.b]);
  const deadline = Date.now() + 60_000;
  // Online, and holding the precinct's board (their own unit on it) before signing on.
  while (!all.every((c) => c.transport.isOnline() && c.replica.view().units[c.unit] !== undefined)) {
    if (Date.now() > deadline) throw new Error('probe cars did not come online and sync within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const c of all) await c.replica.update((d) => signOn(d, { unitId: c.unit, officers: [`Ofc ${c.unit}`] }, ctxOf(c)));
  const calls: ProbeCalls = {
    sample(sector) {
      const p = pairs.get(sector);
      if (!p) throw new Error(`no probe cars in ${sector}`);
      return sample(p.a, p.b);
    },
  };
  serveCalls(calls, true, async () => {
    for (const c of all) {
      await c.transport.close();
      await c.store.close();
    }
  });
}

runAsChild(import.meta.url, main);
