// The sync bench's probe cars (bench/sync.ts): one car per sector in a process of its own, so the
// time to car B is not spent waiting for the other cars of the bench's one event loop (in a fleet
// every car has its own CPU). Started with fork(); its argument is the JSON of ProbeSpec. Each car
// is the real thing the bench cars are (MqttTransport, PeerSync, SectorReplica on disk) and notes
// when each change first sits on its board; the parent asks for a change's time by its hash.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as A from '@automerge/automerge';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { CAR_SETTLE, PeerSync } from '../sync/peer-sync.js';
import { MemorySyncStateStore } from '../sync/sync-state-store.js';
import { FileDocStore } from '../sync/doc-store.js';
import { newActorId, SectorReplica } from '../sync/replica.js';
import { signOn } from '../sync/board.js';
import { silentLogger } from '../sync/logger.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { SectorId, UnitId, VehicleId } from '../sync/schema.js';

export interface ProbeSpec {
  url: string;
  secret: string;
  station: string;
  dir: string;
  /** The epoch of the sector boards (their docId is `{sector}@{epoch}`). */
  epoch: string;
  cars: Array<{ id: string; unit: string; sector: string }>;
}

/** Parent → probe: the time the car of `sector` first held `head`; or stop. */
export type ProbeRequest = { watch: { sector: string; head: string } } | { stop: true };
/** Probe → parent. `at` is performance.timeOrigin + performance.now(): comparable across processes. */
export type ProbeReply = { ready: true } | { seen: string; at: number; rx: number } | { error: string };

const wallNow = () => performance.timeOrigin + performance.now();
const send = (m: ProbeReply) => process.send?.(m);

async function main(spec: ProbeSpec): Promise<void> {
  const cars = new Map<string, { replica: SectorReplica; transport: MqttTransport; store: FileDocStore; seen: Map<string, number> }>();
  /** Per sector, when its car's last sync message arrived (the trace's "message at car B"). */
  const lastRx = new Map<string, number>();
  const waiting = new Map<string, string>(); // head -> sector
  for (const c of spec.cars) {
    const store = new FileDocStore(join(spec.dir, c.id));
    const replica = await SectorReplica.open({ store, sector: c.sector as SectorId, epoch: spec.epoch, actorId: newActorId() });
    const transport = new MqttTransport({ brokers: [{ url: spec.url }], clientId: c.id, username: c.id, password: spec.secret, log: silentLogger, subscriptions: [topics.syncInbox(c.sector, c.id), topics.avlAll(c.sector)] });
    const sync = new PeerSync({ replica, publisher: transport, sector: c.sector, selfPeer: c.id, log: silentLogger, stateStore: new MemorySyncStateStore(), settle: CAR_SETTLE });
    const seen = new Map<string, number>();
    replica.on('applied', () => {
      const at = wallNow();
      for (const h of A.getHeads(replica.doc)) {
        if (seen.has(h)) continue;
        seen.set(h, at);
        if (waiting.get(h) === c.sector) {
          waiting.delete(h);
          send({ seen: h, at, rx: lastRx.get(c.sector) ?? NaN });
        }
      }
      if (seen.size > 10_000) seen.clear();
    });
    transport.on('message', (topic, payload) => {
      if (parseTopic(topic)?.kind !== 'sync') return;
      lastRx.set(c.sector, wallNow());
      void sync.handle(topic, payload);
    });
    transport.on('connect', () => void sync.hello(spec.station));
    transport.start();
    cars.set(c.sector, { replica, transport, store, seen });
  }
  const deadline = Date.now() + 60_000;
  // Online, and holding the precinct's board (its own unit on it) before signing on.
  const synced = () => spec.cars.every((c) => cars.get(c.sector)!.transport.isOnline() && cars.get(c.sector)!.replica.view().units[c.unit] !== undefined);
  while (!synced()) {
    if (Date.now() > deadline) throw new Error('probe cars did not come online and sync within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const c of spec.cars) {
    const car = cars.get(c.sector)!;
    await car.replica.update((d) => signOn(d, { unitId: c.unit, officers: [`Ofc ${c.unit}`] }, { by: { kind: 'vehicle', vehicleId: c.id as VehicleId, unitId: c.unit as UnitId }, at: Date.now() }));
  }
  process.on('message', (m: ProbeRequest) => {
    if ('stop' in m) {
      void (async () => {
        for (const c of cars.values()) {
          await c.transport.close();
          await c.store.close();
        }
        process.exit(0);
      })();
      return;
    }
    const car = cars.get(m.watch.sector);
    const at = car?.seen.get(m.watch.head);
    if (at !== undefined) send({ seen: m.watch.head, at, rx: NaN });
    else waiting.set(m.watch.head, m.watch.sector);
  });
  send({ ready: true });
}

// Only as the forked child: bench/run.ts imports every module of this folder.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  main(JSON.parse(process.argv[2] ?? '{}') as ProbeSpec).catch((err: unknown) => {
    send({ error: String(err) });
    process.exit(1);
  });
}
