// Sync over MQTT (issue 4), on loopback, in three processes as in a deployment where every car
// and the precinct have their own CPU (here the machine's 2 cores are shared by all three):
//
//   - the precinct station (bench/sync-station.ts): a real aedes broker (sync/broker.ts: the
//     production ACL hooks, drainTimeout, limits) and the station's real sync path
//     (MqttTransport + PeerSync per sector + SectorReplica on FileDocStore, author binding on);
//   - N lightweight cars in the bench process: each one MQTT.js client (MqttTransport), a PeerSync
//     and a SectorReplica on its own FileDocStore; no GPS/modem/UI. ~17 cars per sector; every car
//     publishes a position every 5 s (QoS 0, retained) as background load;
//   - two cars of each sector, A and B, in a process of their own (bench/sync-probe.ts), the same
//     code: a change is measured both between two cars of the bench process (where B waits for
//     the sector's other receivers on one thread) and between the probe cars A and B (their own
//     event loop, as cars of a fleet have; the rest of the fleet's load still runs beside them).
//
// Figures: car A status change (clock starts before A makes the change) until car B of the same
// sector has it on its board (received changes are written behind), through the precinct; the raw MQTT QoS 1 publish ->
// delivery floor through the same broker during the same run; bytes on the car's radio link per
// status change (MQTT framing included); catch-up after 30 simulated minutes offline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as A from '@automerge/automerge';
import mqtt from 'mqtt';
import { precinctPeerId } from '../sync/acl.js';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { CAR_SETTLE, PeerSync } from '../sync/peer-sync.js';
import { MemorySyncStateStore } from '../sync/sync-state-store.js';
import { FileDocStore } from '../sync/doc-store.js';
import { newActorId, SectorReplica } from '../sync/replica.js';
import { setUnitStatus, signOn } from '../sync/board.js';
import { silentLogger } from '../sync/logger.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { OpContext, SectorId, UnitId, VehicleId } from '../sync/schema.js';
import type { BenchTable } from './table.js';
import { startChild, type Child } from './child-rpc.js';
import type { ProbeCalls, ProbeCar, ProbeSpec } from './sync-probe.js';
import type { StationCalls, StationReady, StationSpec } from './sync-station.js';

const PRECINCT = 'P';
const STATION = precinctPeerId(PRECINCT);
/** A service day's epoch id, as the daemons name it: every sync message carries it in its docId. */
const BENCH_EPOCH = '2026-11-27';
const PER_SECTOR = 17;

interface Car {
  id: string;
  unit: string;
  sector: string;
  replica: SectorReplica;
  sync: PeerSync<unknown>;
  transport: MqttTransport;
  store: FileDocStore;
  /** Messages and bytes on this car's link, MQTT framing included. */
  wire: { up: number; down: number; upMsgs: number; downMsgs: number };
}

/** Bytes of an MQTT 3.1.1 PUBLISH (§3.3); at QoS 1 with its packet id and 4-byte PUBACK (§3.4). */
function publishBytes(topic: string, payload: number, qos: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + payload;
  const lenBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : 3;
  return 1 + lenBytes + remaining + (qos > 0 ? 4 : 0);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

const carCtx = (c: Car): OpContext => ({ by: { kind: 'vehicle', vehicleId: c.id as VehicleId, unitId: c.unit as UnitId }, at: Date.now() });

interface World {
  dir: string;
  /** The precinct station and its broker, in a process of their own (bench/sync-station.ts). */
  station: Child<StationCalls, StationReady>;
  cars: Car[];
  stores: FileDocStore[];
  avlTimer: NodeJS.Timeout;
  /** Cars A and B of each sector in a process of their own (bench/sync-probe.ts). */
  probe: Child<ProbeCalls, true>;
  /** The probe cars of each sector. */
  pairs: Map<string, { a: ProbeCar; b: ProbeCar }>;
  close(): Promise<void>;
}

const childPath = (name: string) => join(dirname(fileURLToPath(import.meta.url)), name);

async function buildWorld(nCars: number): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-bench-sync-'));
  const nSectors = Math.max(1, Math.round(nCars / PER_SECTOR));
  const sectors = Array.from({ length: nSectors }, (_, i) => `S${String(i).padStart(2, '0')}`);
  const secret = 'bench-secret';
  const specs = Array.from({ length: nCars }, (_, i) => ({ id: `V${String(i).padStart(4, '0')}`, unit: `U${String(i).padStart(4, '0')}`, sector: sectors[i % nSectors]! }));
  const stationSpec: StationSpec = { precinct: PRECINCT, secret, dir, epoch: BENCH_EPOCH, sectors, cars: specs, links: ['floor'] };
  const station = await startChild<StationCalls, StationReady>(childPath('sync-station.js'), stationSpec);
  const url = `mqtt://127.0.0.1:${station.ready.port}`;
  const stores: FileDocStore[] = [];

  // The cars: the first two of each sector are the probe cars A and B, in a process of their own.
  const pairs = new Map(sectors.map((sec) => {
    const [a, b] = specs.filter((c) => c.sector === sec);
    return [sec, { a: a!, b: b! }];
  }));
  const probed = new Set([...pairs.values()].flatMap((p) => [p.a.id, p.b.id]));
  const cars: Car[] = [];
  for (const s of specs.filter((c) => !probed.has(c.id))) {
    const store = new FileDocStore(join(dir, s.id));
    stores.push(store);
    const replica = await SectorReplica.open({ store, sector: s.sector as SectorId, epoch: BENCH_EPOCH, actorId: newActorId() });
    const transport = new MqttTransport({
      brokers: [{ url }],
      clientId: s.id,
      username: s.id,
      password: secret,
      log: silentLogger,
      subscriptions: [topics.syncInbox(s.sector, s.id), topics.avlAll(s.sector)],
    });
    const car: Car = { ...s, replica, transport, store, sync: undefined as unknown as PeerSync<unknown>, wire: { up: 0, down: 0, upMsgs: 0, downMsgs: 0 } };
    const counted = {
      isOnline: () => transport.isOnline(),
      publish: async (topic: string, payload: Buffer, o: { qos: 0 | 1 }) => {
        await transport.publish(topic, payload, o);
        car.wire.up += publishBytes(topic, payload.length, o.qos);
        car.wire.upMsgs += 1;
      },
    };
    car.sync = new PeerSync({ replica, publisher: counted, sector: s.sector, selfPeer: s.id, log: silentLogger, stateStore: new MemorySyncStateStore(), settle: CAR_SETTLE }) as PeerSync<unknown>;
    transport.on('message', (topic, payload, _retain, qos) => {
      const t = parseTopic(topic);
      if (t?.kind !== 'sync') return;
      car.wire.down += publishBytes(topic, payload.length, qos);
      car.wire.downMsgs += 1;
      void car.sync.handle(topic, payload);
    });
    transport.on('connect', () => void car.sync.hello(STATION));
    cars.push(car);
  }
  // Connect in waves, as a fleet does after a precinct restart (jitter), then sign everyone on.
  for (let i = 0; i < cars.length; i += 50) {
    for (const c of cars.slice(i, i + 50)) c.transport.start();
    await until(() => cars.slice(i, i + 50).every((c) => c.transport.isOnline()), 60_000, 'cars online');
  }
  for (const s of sectors) {
    const heads = await station.ask('heads', s);
    await until(() => cars.filter((c) => c.sector === s).every((c) => A.hasHeads(c.replica.doc, heads)), 60_000, `initial sync of ${s}`);
  }
  for (const c of cars) await c.replica.update((d) => signOn(d, { unitId: c.unit, officers: [`Ofc ${c.unit}`] }, carCtx(c)));
  const probeSpec: ProbeSpec = { url, secret, station: STATION, dir: join(dir, 'probe'), epoch: BENCH_EPOCH, pairs: [...pairs].map(([sector, p]) => ({ sector, ...p })) };
  const probe = await startChild<ProbeCalls, true>(childPath('sync-probe.js'), probeSpec);
  await until(() => station.ask('allSignedOn'), 60_000, 'sign-ons at the precinct');

  // Background: every car sends a position every 5 s, spread over the interval.
  let tick = 0;
  const avlTimer = setInterval(() => {
    const batch = Math.ceil(cars.length / 50);
    for (let k = 0; k < batch; k++) {
      const c = cars[(tick * batch + k) % cars.length]!;
      const pos = { v: 1, unit: c.unit, lat: 47.6 + Math.random() / 100, lon: -122.3, mode: '3d', at: Date.now() };
      c.transport.publish(topics.avl(c.sector, c.unit), JSON.stringify(pos), { qos: 0, retain: true }).catch(() => undefined);
    }
    tick += 1;
  }, 100);

  return {
    dir,
    station,
    cars,
    stores,
    avlTimer,
    probe,
    pairs,
    async close() {
      clearInterval(avlTimer);
      await probe.stop();
      for (const c of cars) await c.transport.close();
      await station.stop();
      for (const s of stores) await s.close?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const STATUSES = ['en_route', 'on_scene', 'available'] as const;

/**
 * Waits until the sector's changes are on every disk: the receivers write a change behind; in a
 * fleet each car has its own disk, here all share one, so the next change waits for those writes
 * rather than queue its fsync behind 16.
 */
async function writtenBehind(w: World, sector: string, cars: Car[]): Promise<void> {
  await until(async () => !cars.some((c) => c.replica.unsaved) && !(await w.station.ask('unsaved', sector)), 10_000, 'writes behind');
}

/** Car A of the bench process changes its status; the clock stops when car B (same sector, same process) holds the change. */
async function carToCarInBench(w: World, samples: number): Promise<number[]> {
  const out: number[] = [];
  const bySector = new Map<string, Car[]>();
  for (const c of w.cars) bySector.set(c.sector, [...(bySector.get(c.sector) ?? []), c]);
  const groups = [...bySector.values()];
  for (let i = 0; i < samples; i++) {
    const g = groups[i % groups.length]!;
    const a = g[Math.floor(Math.random() * g.length)]!;
    const b = g.filter((x) => x !== a)[Math.floor(Math.random() * (g.length - 1))]!;
    // Always a real change: a status equal to the current one writes nothing.
    const current = a.replica.view().units[a.unit]?.status;
    const status = STATUSES.filter((x) => x !== current)[i % 2]!;
    const t0 = performance.now();
    const doc = await a.replica.update((d) => setUnitStatus(d, { unitId: a.unit, status }, carCtx(a)));
    const head = A.getHeads(doc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void Promise.all([w.station.ask('hasHeads', a.sector, head), w.station.ask('stats', a.sector)]).then(([held, stats]) =>
          reject(new Error(`bench: change never reached car B (precinct has it: ${held}; precinct ${JSON.stringify(stats)}; A ${JSON.stringify(a.sync.stats)} online ${a.transport.isOnline()}; B ${JSON.stringify(b.sync.stats)} online ${b.transport.isOnline()})`)),
        );
      }, 10_000);
      const check = () => {
        if (!A.hasHeads(b.replica.doc, head)) return;
        clearTimeout(timer);
        b.replica.off('change', check);
        resolve();
      };
      b.replica.on('change', check);
      check();
    });
    out.push(performance.now() - t0);
    await writtenBehind(w, a.sector, g);
    await sleep(2 + Math.random() * 8);
  }
  return out;
}

/**
 * The probe cars: car A changes its status, the clock stops when car B holds it, both in the
 * probe process. `steps` gets each sample's times since A started: sent by A, message at the
 * station, applied there, message at B, on B's board.
 */
async function carToCarProbed(w: World, samples: number, steps: number[][]): Promise<number[]> {
  const out: number[] = [];
  const sectors = [...w.pairs.keys()];
  for (let i = 0; i < samples; i++) {
    const sector = sectors[i % sectors.length]!;
    const t = await w.probe.ask('sample', sector);
    const at = await w.station.ask('trace', sector, w.pairs.get(sector)!.a.id);
    out.push(t.at - t.t0);
    steps.push([t.sent, at.rx, at.applied, t.rx, t.at, t.durable].map((x) => x - t.t0));
    await writtenBehind(w, sector, w.cars.filter((c) => c.sector === sector));
    await sleep(2 + Math.random() * 8);
  }
  return out;
}

/** Raw MQTT QoS 1 publish -> delivery through the same broker, same load: the floor. */
async function floor(w: World, samples: number): Promise<number[]> {
  const url = `mqtt://127.0.0.1:${w.station.ready.port}`;
  const opts = { username: 'floor', password: 'bench-secret', protocolVersion: 4 as const, reconnectPeriod: 0 };
  const sub = await mqtt.connectAsync(url, { ...opts, clientId: 'floor-sub' });
  const pub = await mqtt.connectAsync(url, { ...opts, clientId: 'floor-pub' });
  await sub.subscribeAsync('mdt/v1/alert/FLOOR/+', { qos: 1 });
  const out: number[] = [];
  const payload = Buffer.alloc(200, 7);
  for (let i = 0; i < samples; i++) {
    const got = new Promise<void>((r) => sub.once('message', () => r()));
    const t0 = performance.now();
    pub.publish('mdt/v1/alert/FLOOR/x', payload, { qos: 1 });
    await got;
    out.push(performance.now() - t0);
    await sleep(2 + Math.random() * 8);
  }
  await sub.endAsync();
  await pub.endAsync();
  return out;
}

/** One status change at rest: bytes on the changing car's link, and on one other car's link. */
async function wireBytes(w: World): Promise<{ own: number; ownMsgs: number; ownUp: number; peer: number; peerMsgs: number }> {
  const s = w.cars[0]!.sector;
  const g = w.cars.filter((c) => c.sector === s);
  const [a, b] = [g[0]!, g[1]!];
  const settle = async () => {
    await until(async () => {
      const heads = await w.station.ask('heads', s);
      for (const c of g) if (!A.hasHeads(c.replica.doc, heads) || !(await w.station.ask('hasHeads', s, A.getHeads(c.replica.doc)))) return false;
      return true;
    }, 10_000, 'sector settled');
    await sleep(300);
  };
  await settle();
  const before = { a: { ...a.wire }, b: { ...b.wire } };
  const next = a.replica.view().units[a.unit]?.status === 'on_scene' ? 'available' : 'on_scene';
  await a.replica.update((d) => setUnitStatus(d, { unitId: a.unit, status: next }, carCtx(a)));
  await settle();
  return {
    own: a.wire.up + a.wire.down - before.a.up - before.a.down,
    ownMsgs: a.wire.upMsgs + a.wire.downMsgs - before.a.upMsgs - before.a.downMsgs,
    ownUp: a.wire.up - before.a.up,
    peer: b.wire.up + b.wire.down - before.b.up - before.b.down,
    peerMsgs: b.wire.upMsgs + b.wire.downMsgs - before.b.upMsgs - before.b.downMsgs,
  };
}

/**
 * A car drops out; its sector lives 30 minutes meanwhile (each other car changes status every
 * 2 min, a call every 3 min with two notes), generated as fast as the cars can act; then it
 * reconnects. Clock: transport start -> the car holds the precinct's heads.
 */
async function catchUp(w: World): Promise<{ ms: number; changes: number; bytes: number }> {
  const s = w.cars[0]!.sector;
  const g = w.cars.filter((c) => c.sector === s);
  const off = g[g.length - 1]!;
  await off.transport.close();
  // The other cars act on their own boards offline, then reconnect and sync with the precinct
  // before the absent car comes back: its catch-up does not compete with 16-way live fan-out.
  const others = g.filter((c) => c !== off);
  for (const c of others) await c.transport.close();
  let changes = 0;
  for (let minute = 0; minute < 30; minute++) {
    if (minute % 2 === 0) {
      for (const c of others) {
        const current = c.replica.view().units[c.unit]?.status;
        await c.replica.update((d) => setUnitStatus(d, { unitId: c.unit, status: STATUSES.filter((x) => x !== current)[minute % 2]! }, carCtx(c)));
        changes += 1;
      }
    }
    if (minute % 3 === 0) {
      await w.station.ask('createCall', s, `C${minute}`, minute);
      changes += 3;
    }
  }
  for (const c of others) c.transport.start();
  await until(async () => {
    for (const c of others) if (!(await w.station.ask('hasHeads', s, A.getHeads(c.replica.doc)))) return false;
    return true;
  }, 30_000, 'the other cars synced');
  const target = await w.station.ask('heads', s);
  const bytes0 = off.wire.up + off.wire.down;
  const t0 = performance.now();
  off.transport.start();
  await until(() => A.hasHeads(off.replica.doc, target), 30_000, 'catch-up');
  const ms = performance.now() - t0;
  return { ms, changes, bytes: off.wire.up + off.wire.down - bytes0 };
}

export async function benchSync(): Promise<BenchTable[]> {
  const rows: Array<Array<string | number>> = [];
  const extra: Array<Array<string | number>> = [];
  const steps: Array<Array<string | number>> = [];
  for (const n of (process.env.BENCH_SYNC_CARS ?? '50,500').split(',').map(Number)) {
    const w = await buildWorld(n);
    try {
      const samples = n >= 500 ? 300 : 200;
      const lat = await carToCarInBench(w, samples);
      const phases: number[][] = [];
      const own = await carToCarProbed(w, samples, phases);
      steps.push([`${n} cars`, ...[0, 1, 2, 3, 4, 5].map((i) => pct(phases.map((p) => p[i]!), 50))]);
      const fl = await floor(w, samples);
      rows.push([`${n} cars, ${w.pairs.size} sectors`, 'car A -> precinct -> car B (A and B in the bench process)', pct(lat, 50), pct(lat, 99), samples]);
      rows.push([`${n} cars, ${w.pairs.size} sectors`, 'car A -> precinct -> car B (A and B in a process of their own)', pct(own, 50), pct(own, 99), samples]);
      rows.push([`${n} cars, ${w.pairs.size} sectors`, 'raw MQTT QoS 1 floor', pct(fl, 50), pct(fl, 99), samples]);
      if (n === 50 || extra.length === 0) {
        const b = await wireBytes(w);
        const c = await catchUp(w);
        extra.push(
          [`${n} cars`, 'bytes on the changing car\'s link per status change', b.own, `${b.ownMsgs} PUBLISH at QoS 0 (${b.ownUp} B up: the change; ${b.own - b.ownUp} B down: the ack)`],
          [`${n} cars`, 'bytes on another car\'s link per status change', b.peer, `${b.peerMsgs} PUBLISH at QoS 0`],
          [`${n} cars`, `catch-up after 30 simulated min offline (${c.changes} changes)`, Math.round(c.ms), `ms, ${c.bytes} B on its link`],
        );
      }
    } finally {
      await w.close();
    }
  }
  return [
    {
      title: 'Sync over MQTT: car -> precinct -> car latency (ms), loopback, station / cars / probe cars in three processes',
      columns: ['fleet', 'path', 'median', 'p99', 'samples'],
      rows,
      notes: [
        'Targets (issue 4): car->car median < 5 ms, p99 < 25 ms at 500 cars.',
        'The precinct station (aedes broker + the sync path of every sector, boards on disk) runs in a process of its own (bench/sync-station.ts), as in a deployment; the bench process holds every other car (MQTT.js client + PeerSync + replica on disk; no GPS/modem/UI per car); the machine\'s 2 cores are shared by all three processes.',
        'Clock: car A starts the change -> car B\'s board (its screen) holds the change. A sends the change while its durable append (O_DSYNC) runs, and received changes are written behind (station and B), so no disk write is on the path; all cars share this machine\'s one disk, so each sample starts once the previous change\'s writes behind are done. Background: one position per car per 5 s.',
        'Floor: plain MQTT.js QoS 1 publish -> delivery of 200 B through the same broker, same load, same run.',
        'A and B in a process of their own: the sector\'s two probe cars (bench/sync-probe.ts, same code as the others) in a child process; the station\'s times (trace table) are wall clocks (performance.timeOrigin + now), comparable across processes.',
        "The cars have no screen, so none derives a board view; each car's fsync runs on its own libuv thread (64 in this process).",
        'Authentication is a table lookup here (scrypt would only measure scrypt: ~30 ms per connect, once).',
      ],
    },
    {
      title: 'Sync over MQTT: where a change\'s time goes, cars A and B in a process of their own (median ms since the clock started)',
      columns: ['fleet', 'sent by car A', 'message at the station', 'applied and checked at the station', 'message at car B', 'on car B\'s board', 'durable on car A (off the path)'],
      rows: steps,
      notes: [
        'Each column is the median over the samples of that step\'s time; the station in its process, cars A and B in the probe process (wall clocks: performance.timeOrigin + now).',
        'The station fans the change out to the sector\'s 16 other cars once it is applied, each fan-out starting one car further on in its list (sync/peer-sync.ts), so car B\'s place among them moves from sample to sample (before 2026-11-28 it was always last: the probe cars connect after the fleet).',
      ],
    },
    {
      title: 'Sync over MQTT: bytes on the wire and catch-up',
      columns: ['fleet', 'measure', 'value', 'unit / detail'],
      rows: extra,
      notes: [
        'Targets (issue 4): < 300 B on the wire per status change; catch-up < 0.5 s.',
        'Bytes: MQTT 3.1.1 PUBLISH frames of the sync messages as sent, with the 4-byte PUBACK of those at QoS 1 (rounds; a change to a live peer and an ack go at QoS 0), bodies deflated when smaller, persisted sync states (no TCP/IP headers).',
        'Catch-up: the sector\'s 30 minutes are generated as fast as the cars and precinct can act; the clock runs from reconnect to holding the precinct\'s heads.',
      ],
    },
  ];
}
