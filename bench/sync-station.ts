// The sync bench's precinct station (bench/sync.ts) in a process of its own, as in a deployment:
// the aedes broker (sync/broker.ts, the production ACL hooks and limits) and the station's sync
// path (MqttTransport + PeerSync + SectorReplica on FileDocStore per sector, author binding on).
// Authentication is a table lookup (scrypt would only measure scrypt). Started with fork(); its
// argument is the JSON of StationSpec. The parent asks questions over IPC (StationRequest); the
// station notes, per sector, when the last sync message from each car arrived and when its board
// last took a change (the bench's trace).
import { join } from 'node:path';
import * as A from '@automerge/automerge';
import { startBroker } from '../sync/broker.js';
import { precinctPeerId, type Identity } from '../sync/acl.js';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { PeerSync, STATION_SETTLE } from '../sync/peer-sync.js';
import { FileDocStore } from '../sync/doc-store.js';
import { newActorId, SectorReplica } from '../sync/replica.js';
import { addNote, createCall, upsertUnit, type SectorBoard } from '../sync/board.js';
import { silentLogger } from '../sync/logger.js';
import { parseTopic, topics } from '../sync/topics.js';
import type { OpContext, SectorId } from '../sync/schema.js';
import { runAsChild, serveCalls } from './child-rpc.js';

export interface StationSpec {
  precinct: string;
  secret: string;
  dir: string;
  /** The epoch of the sector boards (their docId is `{sector}@{epoch}`). */
  epoch: string;
  sectors: string[];
  cars: Array<{ id: string; unit: string; sector: string }>;
  /** Extra MQTT users with no sync rights (the bench's raw-MQTT floor clients). */
  links: string[];
}

/** What the parent may ask, by name; each answer comes back with the request's id. */
export interface StationCalls {
  /** The sector board's heads. */
  heads(sector: string): string[];
  /** Whether the board holds every one of these changes. */
  hasHeads(sector: string, heads: string[]): boolean;
  /** Whether every car's unit is on duty ('available') on its sector's board. */
  allSignedOn(): boolean;
  /** Whether a received change is on the board but not yet on disk. */
  unsaved(sector: string): boolean;
  /** Wall times (performance.timeOrigin + now): the last sync message from `from`, the board's last change. */
  trace(sector: string, from: string): { rx: number; applied: number };
  /** The sector's sync counters (for a bench failure's message). */
  stats(sector: string): unknown;
  /** A dispatcher creates a call with two notes on the sector's board (catch-up traffic). */
  createCall(sector: string, id: string, minute: number): Promise<void>;
}
/** What the station says when it is ready: its broker's port. */
export interface StationReady {
  port: number;
}

const wallNow = () => performance.timeOrigin + performance.now();
const dispatcher = (): OpContext => ({ by: { kind: 'operator', operatorId: 'bench', role: 'dispatcher' }, at: Date.now() });

async function main(spec: StationSpec): Promise<void> {
  const peerId = precinctPeerId(spec.precinct);
  const identities = new Map<string, Identity>();
  identities.set(peerId, { kind: 'precinct', precinct: spec.precinct, peerId, sectors: spec.sectors });
  for (const c of spec.cars) identities.set(c.id, { kind: 'vehicle', vehicleId: c.id, unitId: c.unit, sector: c.sector, precinct: spec.precinct });
  for (const name of spec.links) identities.set(name, { kind: 'link', name });
  const broker = await startBroker({
    log: silentLogger,
    auth: { authenticate: async (u, p) => (p === spec.secret && identities.get(u)) || { refused: 'unknown' } },
  });
  const transport = new MqttTransport({
    brokers: [{ url: `mqtt://127.0.0.1:${broker.port}` }],
    clientId: peerId,
    username: peerId,
    password: spec.secret,
    log: silentLogger,
    subscriptions: spec.sectors.map((s) => topics.syncInbox(s, peerId)),
  });
  const store = new FileDocStore(join(spec.dir, 'precinct'));
  const hubs = new Map<string, { replica: SectorReplica; sync: PeerSync<unknown>; rx: Map<string, number>; applied: number }>();
  for (const s of spec.sectors) {
    const replica = await SectorReplica.open({ store, sector: s as SectorId, epoch: spec.epoch, actorId: newActorId() });
    // Units on the board from the roster, as the precinct would have them.
    await replica.update((d) => {
      let x: SectorBoard = d;
      for (const c of spec.cars.filter((c) => c.sector === s)) x = upsertUnit(x, { id: c.unit, callSign: c.unit, homeBeat: `${s}1`, mode: 'car' }, dispatcher());
      return x;
    });
    const sync = new PeerSync({
      replica,
      publisher: transport,
      sector: s,
      selfPeer: peerId,
      log: silentLogger,
      boundVehicle: (p) => {
        const id = identities.get(p);
        return id?.kind === 'vehicle' ? { vehicleId: id.vehicleId, unitId: id.unitId } : undefined;
      },
      settle: STATION_SETTLE,
    });
    const hub = { replica, sync: sync as PeerSync<unknown>, rx: new Map<string, number>(), applied: NaN };
    // After PeerSync's own listener: the time includes the fan-out to the sector's cars.
    replica.on('applied', () => (hub.applied = wallNow()));
    hubs.set(s, hub);
  }
  transport.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    if (t?.kind !== 'sync') return;
    const hub = hubs.get(t.sector);
    hub?.rx.set(t.from, wallNow());
    void hub?.sync.handle(topic, payload);
  });
  transport.start();
  const deadline = Date.now() + 10_000;
  while (!transport.isOnline()) {
    if (Date.now() > deadline) throw new Error('the station did not come online within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }

  const hub = (s: string) => {
    const h = hubs.get(s);
    if (!h) throw new Error(`no sector ${s}`);
    return h;
  };
  const calls: StationCalls = {
    heads: (s) => A.getHeads(hub(s).replica.doc),
    hasHeads: (s, heads) => A.hasHeads(hub(s).replica.doc, heads),
    allSignedOn: () => spec.cars.every((c) => hub(c.sector).replica.view().units[c.unit]?.status === 'available'),
    unsaved: (s) => hub(s).replica.unsaved,
    trace: (s, from) => ({ rx: hub(s).rx.get(from) ?? NaN, applied: hub(s).applied }),
    stats: (s) => hub(s).sync.stats,
    async createCall(s, id, minute) {
      const r = hub(s).replica;
      await r.update((d) => createCall(d, { cadNumber: id, type: 'Disturbance', priority: 3, address: `${minute} Main St`, beat: `${s}1` }, dispatcher()));
      await r.update((d) => addNote(d, { callId: id, text: 'caller reports shouting next door' }, dispatcher()));
      await r.update((d) => addNote(d, { callId: id, text: 'second caller, same address' }, dispatcher()));
    },
  };
  serveCalls(calls, { port: broker.port } satisfies StationReady, async () => {
    await transport.close();
    await broker.close();
    await store.close();
  });
}

runAsChild(import.meta.url, main);
