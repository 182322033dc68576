// A "lightweight car" for the county bench and the soak: what a vehicle daemon does on the wire,
// without its disk, screen or hardware. It is built from the same modules as daemon/vehicle.ts:
// a SectorReplica (the board, here over an in-memory DocStore: no fsync), the real board
// operations (upsertUnit, signOn, setUnitStatus), MqttTransport (same subscriptions, will and
// birth as the car), and PeerSync with the home precinct (hello on every connect). It publishes
// AVL at 1 Hz (QoS 0, retained, as the car's throttle allows for a moving car) and receives
// its sector's positions, presence and sync. Many of them share one Node process and one event
// loop, so that process's CPU is part of every latency figure (reported beside them).
import * as A from '@automerge/automerge';
import pino from 'pino';
import * as board from '../sync/board.js';
import type { SectorBoard } from '../sync/board.js';
import type { DocStore } from '../sync/doc-store.js';
import { SectorReplica } from '../sync/replica.js';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { PeerSync } from '../sync/peer-sync.js';
import { precinctPeerId } from '../sync/acl.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { OpContext, SectorId, UnitId, VehicleId } from '../sync/schema.js';

/** Boards live in memory only: a lightweight car measures the wire, not its disk. */
export class MemoryDocStore implements DocStore {
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
}

export const silent = pino({ level: 'silent' });

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
}

const now = (): number => performance.timeOrigin + performance.now();

export class LightCar {
  readonly replica: SectorReplica;
  readonly transport: MqttTransport;
  readonly sync: PeerSync<unknown>;
  private avlTimer: NodeJS.Timeout | undefined;
  private avlPhase: NodeJS.Timeout | undefined;
  private seq = 0;
  changes = 0;

  private constructor(readonly opts: LightCarOptions, replica: SectorReplica) {
    this.replica = replica;
    const { sector, vehicleId, unitId } = opts;
    const presence = (state: 'online' | 'offline') => JSON.stringify({ v: 1, unit: unitId, vehicle: vehicleId, state, at: Date.now() });
    this.transport = new MqttTransport({
      brokers: [{ url: opts.brokerUrl }],
      clientId: vehicleId,
      username: vehicleId,
      password: opts.password,
      log: silent,
      subscriptions: [topics.syncInbox(sector, vehicleId), topics.avlAll(sector), topics.presenceAll(sector), topics.alertAll(sector), topics.rosterAll(sector)],
      will: { topic: topics.presence(sector, unitId), payload: presence('offline'), qos: 1, retain: true },
      birth: () => ({ topic: topics.presence(sector, unitId), payload: presence('online'), qos: 1, retain: true }),
      backoff: { minMs: 500, maxMs: 5000 },
    });
    const home = precinctPeerId(opts.precinct);
    this.sync = new PeerSync({ replica, publisher: this.transport, sector, selfPeer: vehicleId, log: silent, allowPeer: (p) => p.startsWith('precinct-') }) as PeerSync<unknown>;
    this.transport.on('connect', () => void this.sync.hello(home));
    this.transport.on('message', (topic, payload) => {
      const t = parseTopic(topic);
      if (!t) return;
      if (t.kind === 'sync') void this.sync.handle(topic, payload);
      else if (t.kind === 'avl' && t.unit !== unitId && opts.onAvl) {
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
    if (opts.onBoardChange) replica.on('change', () => opts.onBoardChange!(this));
  }

  static async create(opts: LightCarOptions): Promise<LightCar> {
    const actor = Buffer.from(opts.vehicleId.padEnd(16, '_').slice(0, 16)).toString('hex');
    const replica = await SectorReplica.open({ store: new MemoryDocStore(), sector: opts.sector as SectorId, epoch: '1', actorId: actor });
    return new LightCar(opts, replica);
  }

  ctx(): OpContext {
    return { by: { kind: 'vehicle', vehicleId: this.opts.vehicleId as VehicleId, unitId: this.opts.unitId as UnitId }, at: Date.now() };
  }

  start(): void {
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
   * One officer action (status toggle between available and out of service): resolves with the
   * hash of the change and when it was made.
   */
  async act(): Promise<{ hash: string; at: number } | undefined> {
    const { unitId } = this.opts;
    const u = this.replica.view().units[unitId];
    if (!u) return undefined;
    this.seq += 1;
    const next = u.status === 'available' ? { status: 'out_of_service' as const, reason: `meal ${this.seq}` } : { status: 'available' as const };
    const doc = await this.replica.update((d) => board.setUnitStatus(d, { unitId, ...next }, this.ctx()));
    const at = now();
    const change = A.getLastLocalChange(doc);
    if (!change) return undefined;
    this.changes += 1;
    return { hash: A.decodeChange(change).hash, at };
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
    this.stopAvl();
    await this.transport.close();
  }
}
