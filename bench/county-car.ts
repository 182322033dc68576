// A "lightweight car" for the county bench and the soak: what a vehicle daemon does on the wire,
// without its disk, screen or hardware. It is built from the same modules as daemon/vehicle.ts:
// CarEpochs (the board across epoch cuts, here over an in-memory DocStore: no fsync; it follows
// the precinct's announced epoch and drops a closed epoch once the precinct holds all of it, as a
// car does), the real board operations (upsertUnit, signOn, setUnitStatus, acceptCall, clearCall,
// addNote), MqttTransport (same subscriptions, will and birth as the car), and PeerSync with the
// home precinct (hello on every connect). It publishes
// AVL at 1 Hz (QoS 0, retained, as the car's throttle allows for a moving car) and receives
// its sector's positions, presence and sync. Many of them share one Node process and one event
// loop, so that process's CPU is part of every latency figure (reported beside them).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as A from '@automerge/automerge';
import pino from 'pino';
import * as board from '../sync/board.js';
import type { SectorBoard } from '../sync/board.js';
import { CarEpochs, type EpochDocStore } from '../sync/car-epochs.js';
import { parseEpochAnnouncement } from '../sync/epoch-announce.js';
import type { SectorReplica } from '../sync/replica.js';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { CAR_SETTLE, PeerSync, type SyncPublisher } from '../sync/peer-sync.js';
import { precinctPeerId } from '../sync/acl.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { OpContext, UnitId, VehicleId } from '../sync/schema.js';

/** Boards live in memory only: a lightweight car measures the wire, not its disk. */
export class MemoryDocStore implements EpochDocStore {
  private readonly docs = new Set<string>();
  /** A lightweight car never reloads: every start is a fresh board, caught up from the precinct. */
  async load(): Promise<SectorBoard | undefined> {
    return undefined;
  }
  async save(docId: string): Promise<void> {
    this.docs.add(docId);
  }
  async list(): Promise<string[]> {
    return [...this.docs.keys()];
  }
  async remove(docId: string): Promise<void> {
    this.docs.delete(docId);
  }
}

export const silent = pino({ level: 'silent' });

/**
 * COUNTY_CAR_DIRECT=1: every received sync message goes to the board at once, queued inside
 * PeerSync, and nothing is dropped at stop (this module's behaviour before the inbox below), to
 * compare the two (COUNTY_STOP_TEST=1 in bench/county.ts).
 */
const DIRECT_ROUTE = process.env.COUNTY_CAR_DIRECT === '1';
/** Received sync messages a car handles between two yields to the event loop. */
const YIELD_EVERY = 4;

/** The transport as PeerSync's publisher, timing each publish until the broker acknowledged it. */
function timedPublisher(t: MqttTransport, acks: () => LightCar['acks'] | undefined): SyncPublisher {
  return {
    isOnline: () => t.isOnline(),
    publish: async (topic, payload, opts) => {
      const t0 = performance.now();
      const a = acks();
      if (a && t.isOnline()) a.started += 1;
      await t.publish(topic, payload, opts);
      if (!a) return;
      const ms = performance.now() - t0;
      a.n += 1;
      a.sumMs += ms;
      if (ms > a.maxMs) a.maxMs = ms;
    },
  };
}

export interface LightCarOptions {
  vehicleId: string;
  unitId: string;
  sector: string;
  precinct: string;
  brokerUrl: string;
  password: string;
  /** Called for every position received from a sector peer: latency = receivedAt - pos.at. */
  onAvl?: (fromUnit: string, sentAt: number, receivedAt: number) => void;
  onBoardChange?: (car: LightCar) => void;
  /** A position around this point (lon, lat). */
  center: [number, number];
  /** Where the car records its live epoch (`<vehicleId>.epoch.json`). */
  stateDir: string;
}

const now = (): number => performance.timeOrigin + performance.now();

/** A change a car made: its hash, when (epoch ms, sub-ms) and the epoch document it is in. */
export interface CarChange {
  hash: string;
  at: number;
  docId: string;
}

export class LightCar {
  readonly replica: SectorReplica;
  readonly transport: MqttTransport;
  readonly epochs: CarEpochs;
  private avlTimer: NodeJS.Timeout | undefined;
  private avlPhase: NodeJS.Timeout | undefined;
  private seq = 0;
  changes = 0;
  /** Sync messages that arrived on the wire, and those whose handling (route) has finished. */
  syncIn = 0;
  syncDone = 0;
  /** Received sync messages still queued when the car stopped (never handled: as a car that goes off). */
  syncDropped = 0;
  /** Every message the transport delivered (AVL, presence, sync...). */
  wireIn = 0;
  /** Sync publishes issued, those the broker acknowledged (QoS 1 PUBACK) and their ack times, ms. */
  readonly acks = { started: 0, n: 0, sumMs: 0, maxMs: 0 };
  /** Connects of the transport (the first and every reconnect). */
  connects = 0;
  /**
   * Changes of ours that went into an epoch document the car no longer held when the write
   * resolved (neither live nor announced nor trailing): queued on the old epoch before a switch
   * and applied after the car dropped it, so nothing sends them to the precinct (the soak counts them).
   */
  readonly onDropped: CarChange[] = [];
  /**
   * Received sync messages, handed to the board one at a time. PeerSync queues them itself, but
   * a message it handles while the link is down never waits for I/O (its reply is not sent), so
   * a stopped car would work through its whole queue in one run of microtasks, starving the
   * event loop of every car in this process (no timer, no socket). A car that stops drops what
   * it had not handled yet, as a real one going off does; the next connect's hello re-derives it.
   * Every few messages the car yields to the event loop: a message that needs no reply is
   * handled without any I/O, so 30 cars working through the same burst ran back to back for up to
   * 39 s at N = 500 (no socket read, no keep-alive, no timer for any car in this process), where
   * real cars, each in its own process, would not hold up one another. (Yielding after every
   * message cost a loop turn per message: at N = 500 a turn took 1-3 s, and the cars of a sector
   * drained a burst at under one message a second each.)
   */
  private readonly inbox: Array<[string, Buffer]> = [];
  private draining = false;
  private stopped = false;

  private constructor(readonly opts: LightCarOptions, transport: MqttTransport, epochs: CarEpochs) {
    this.transport = transport;
    this.epochs = epochs;
    this.replica = epochs.live;
    const { sector, unitId, precinct } = opts;
    this.transport.on('connect', () => {
      this.connects += 1;
      void this.epochs.hello();
    });
    this.transport.on('message', (topic, payload) => {
      this.wireIn += 1;
      const t = parseTopic(topic);
      if (!t) return;
      if (t.kind === 'sync') {
        this.syncIn += 1;
        if (DIRECT_ROUTE) {
          void this.epochs.route(topic, payload).finally(() => (this.syncDone += 1));
          return;
        }
        this.inbox.push([topic, payload]);
        if (!this.draining) void this.drain();
        return;
      }
      if (t.kind === 'epoch' && t.precinct === precinct) {
        try {
          const a = parseEpochAnnouncement(payload);
          if (a.sector === sector) void this.epochs.announce(a.epoch);
        } catch {
          /* the real car logs and drops it */
        }
      } else if (t.kind === 'avl' && t.unit !== unitId && opts.onAvl) {
        // The real car parses with zod (sync/avl.ts parseAvl); JSON.parse here keeps the same
        // per-message allocation without the schema's cost dominating a 500-car process.
        try {
          const p = JSON.parse(payload.toString()) as { at?: number };
          if (typeof p.at === 'number') opts.onAvl(t.unit, p.at, now());
        } catch {
          /* not ours */
        }
      }
    });
    if (opts.onBoardChange) this.replica.on('change', () => opts.onBoardChange!(this));
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let m = this.inbox.shift(); m && !this.stopped; m = this.inbox.shift()) {
        try {
          await this.epochs.route(m[0], m[1]);
        } finally {
          this.syncDone += 1;
        }
        if (this.syncDone % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.draining = false;
    }
  }

  static async create(opts: LightCarOptions): Promise<LightCar> {
    const { sector, vehicleId, unitId } = opts;
    const presence = (state: 'online' | 'offline') => JSON.stringify({ v: 1, unit: unitId, vehicle: vehicleId, state, at: Date.now() });
    const transport = new MqttTransport({
      brokers: [{ url: opts.brokerUrl }],
      clientId: vehicleId,
      username: vehicleId,
      password: opts.password,
      log: silent,
      subscriptions: [topics.syncInbox(sector, vehicleId), topics.avlAll(sector), topics.presenceAll(sector), topics.alertAll(sector), topics.rosterAll(sector), topics.epochAll(sector)],
      will: { topic: topics.presence(sector, unitId), payload: presence('offline'), qos: 1, retain: true },
      birth: () => ({ topic: topics.presence(sector, unitId), payload: presence('online'), qos: 1, retain: true }),
      backoff: { minMs: 500, maxMs: 5000 },
    });
    await mkdir(opts.stateDir, { recursive: true });
    // Forwarded late edits are the car's own: their context is the car's (a drill may skew its clock).
    const self: { car?: LightCar } = {};
    const epochs = await CarEpochs.open({
      sector,
      store: new MemoryDocStore(),
      stateFile: join(opts.stateDir, `${vehicleId}.epoch.json`),
      initialEpoch: '1',
      home: precinctPeerId(opts.precinct),
      makeSync: (replica) =>
        new PeerSync({ replica, publisher: timedPublisher(transport, () => self.car?.acks), sector, selfPeer: vehicleId, log: silent, allowPeer: (p) => p.startsWith('precinct-'), settle: CAR_SETTLE }) as PeerSync<unknown>,
      forgetSyncStates: async () => undefined, // sync states live in memory, with their PeerSync
      ctx: () => self.car!.ctx(),
      self: { vehicleId, unitId },
      log: silent,
    });
    self.car = new LightCar(opts, transport, epochs);
    return self.car;
  }

  /** The live epoch's sync with the home precinct. */
  get sync(): PeerSync<unknown> {
    return this.epochs.sync;
  }

  ctx(): OpContext {
    return { by: { kind: 'vehicle', vehicleId: this.opts.vehicleId as VehicleId, unitId: this.opts.unitId as UnitId }, at: Date.now() };
  }

  start(): void {
    this.stopped = false;
    this.transport.start();
  }

  /** Once online and in sync: the unit on the board, signed on (the car's first actions). */
  async signOn(): Promise<void> {
    const { unitId } = this.opts;
    if (!this.replica.view().units[unitId]) {
      await this.replica.update((d) => board.upsertUnit(d, { id: unitId, callSign: unitId, homeBeat: 'X', mode: 'car' }, this.ctx()));
    }
    const u = this.replica.view().units[unitId];
    if (u?.status === 'off_duty') await this.replica.update((d) => board.signOn(d, { unitId, officers: [`B${unitId}`] }, this.ctx()));
  }

  /**
   * One officer action: a status toggle between available and out of service, or, on a call, a
   * note on it (toggling would leave the call). Resolves with the change's hash, when it was made
   * and the epoch document it went into.
   */
  act(): Promise<CarChange | undefined> {
    const { unitId } = this.opts;
    const u = this.replica.view().units[unitId];
    if (!u) return Promise.resolve(undefined);
    this.seq += 1;
    if (u.callId) {
      const callId = u.callId;
      return this.write((d) => board.addNote(d, { callId, text: `update ${this.seq}` }, this.ctx()));
    }
    const next = u.status === 'available' ? { status: 'out_of_service' as const, reason: `meal ${this.seq}` } : { status: 'available' as const };
    return this.write((d) => board.setUnitStatus(d, { unitId, ...next }, this.ctx()));
  }

  /** The call this car's unit is on, and where it stands (dispatched, en_route, on_scene). */
  assignment(): { callId: string; status: string } | undefined {
    const u = this.replica.view().units[this.opts.unitId];
    return u?.callId ? { callId: u.callId, status: u.status } : undefined;
  }

  /** The officer takes the call the unit was dispatched to (en route). */
  accept(callId: string): Promise<CarChange | undefined> {
    return this.write((d) => board.acceptCall(d, { callId, unitId: this.opts.unitId }, this.ctx()));
  }

  /** The officer clears the call (report taken); the unit is available again. */
  clear(callId: string): Promise<CarChange | undefined> {
    return this.write((d) => board.clearCall(d, { callId, disposition: 'RPT' }, this.ctx()));
  }

  private async write(fn: (d: SectorBoard) => SectorBoard): Promise<CarChange | undefined> {
    const docId = this.replica.docId;
    const doc = await this.replica.update(fn);
    const at = now();
    const change = A.getLastLocalChange(doc);
    if (!change) return undefined;
    this.changes += 1;
    const made = { hash: A.decodeChange(change).hash, at, docId };
    if (docId !== this.replica.docId && !this.epochs.pendingDocIds().includes(docId)) this.onDropped.push(made);
    return made;
  }

  /** On every document it syncs (live, announced, trailing): what a reconnect does. */
  hello(): Promise<void> {
    return this.epochs.hello();
  }

  has(hash: string): boolean {
    try {
      return A.hasHeads(this.replica.doc, [hash]);
    } catch {
      return false;
    }
  }

  startAvl(phaseMs: number, hz = 1): void {
    const { sector, unitId, center } = this.opts;
    let k = 0;
    const tick = () => {
      if (!this.transport.isOnline()) return;
      k += 1;
      const pos = { v: 1, unit: unitId, lat: center[1] + Math.sin(k / 60) * 0.002, lon: center[0] + Math.cos(k / 60) * 0.002, speed: 11, track: (k * 6) % 360, mode: '3d', at: now() };
      this.transport.publish(topics.avl(sector, unitId), JSON.stringify(pos), { qos: 0, retain: true }).catch(() => undefined);
    };
    this.avlPhase = setTimeout(() => {
      tick();
      this.avlTimer = setInterval(tick, 1000 / hz);
    }, phaseMs);
  }

  stopAvl(): void {
    if (this.avlPhase) clearTimeout(this.avlPhase);
    if (this.avlTimer) clearInterval(this.avlTimer);
    this.avlTimer = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.syncDropped += this.inbox.length;
    this.syncDone += this.inbox.length;
    this.inbox.length = 0;
    this.stopAvl();
    await this.transport.close();
  }
}
