// Two or more sector replicas on disk joined by PeerSync over an in-process publisher that
// delivers like a QoS 1 broker (in order, asynchronously). Unit-level: no sockets, real Automerge,
// real durable board and sync-state store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDocStore } from '../../../sync/doc-store.js';
import { SectorReplica } from '../../../sync/replica.js';
import { PeerSync, type PeerSyncOptions, type SyncPublisher } from '../../../sync/peer-sync.js';
import { MemorySyncStateStore, type SyncStateStore } from '../../../sync/sync-state-store.js';
import type { BoundVehicle } from '../../../sync/author-guard.js';
import { parseTopic } from '../../../sync/topics.js';
import { silentLogger, type Logger } from '../../../sync/logger.js';
import type { SectorId } from '../../../sync/schema.js';

export const SECTOR = 'B' as SectorId;
export const PRECINCT = 'precinct-N';

export class Wire {
  online = true;
  bytes = 0;
  messages = 0;
  /** The biggest payload published so far. */
  largest = 0;
  /** Every delivery, in order: who to whom, the envelope kind (byte 1) and the MQTT QoS asked for. */
  readonly log: Array<{ from: string; to: string; kind: number; bytes: number; qos: 0 | 1 }> = [];
  /** Returns true to lose a message in transit (the publisher still sees success). */
  drop: ((from: string, to: string, payload: Buffer) => boolean) | undefined;
  readonly nodes = new Map<string, PeerSync<unknown>>();
  private chain: Promise<void> = Promise.resolve();

  publisher(): SyncPublisher {
    return {
      isOnline: () => this.online,
      publish: async (topic, payload, opts) => {
        if (!this.online) throw new Error('offline');
        const t = parseTopic(topic);
        if (!t || t.kind !== 'sync') throw new Error(`not a sync topic: ${topic}`);
        this.bytes += payload.length;
        this.messages += 1;
        this.largest = Math.max(this.largest, payload.length);
        if (this.drop?.(t.from, t.to, payload)) return;
        this.log.push({ from: t.from, to: t.to, kind: payload[1] ?? 0, bytes: payload.length, qos: opts.qos });
        const to = this.nodes.get(t.to);
        // One delivery per macrotask, as from a socket: a sync loop then fails by timeout
        // instead of starving the event loop (and the test runner's timers) forever.
        this.chain = this.chain
          .then(() => new Promise<void>((r) => setImmediate(r)))
          .then(() => (this.online && to ? to.handle(topic, payload) : undefined));
      },
    };
  }

  /** Resolves when no message is in flight any more. */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const c = this.chain;
      await c;
      await new Promise((r) => setTimeout(r, 5));
      if (c === this.chain) return;
    }
  }
}

export interface Node {
  id: string;
  replica: SectorReplica;
  sync: PeerSync<unknown>;
  store: FileDocStore;
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-net-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

export async function node(
  wire: Wire,
  dir: string,
  id: string,
  opts: {
    states?: SyncStateStore;
    bound?: (peer: string) => BoundVehicle | undefined;
    actor?: string;
    retryAfterMs?: number;
    log?: Logger;
    sync?: Pick<PeerSyncOptions<unknown>, 'maxPayload' | 'chunkBytes' | 'maxBoardBytes' | 'settle'>;
  } = {},
): Promise<Node> {
  const store = new FileDocStore(join(dir, id));
  const replica = await SectorReplica.open({ store, sector: SECTOR, epoch: '1', actorId: opts.actor ?? Buffer.from(id.padEnd(16, '0').slice(0, 16)).toString('hex') });
  const sync = new PeerSync({
    replica,
    publisher: wire.publisher(),
    sector: SECTOR,
    selfPeer: id,
    log: opts.log ?? (process.env.NET_DEBUG ? { ...silentLogger, warn: (o: object, m?: string) => console.log(m, o), error: (o: object, m?: string) => console.log(m, o) } : silentLogger),
    stateStore: opts.states ?? new MemorySyncStateStore(),
    ...opts.sync,
    ...(opts.bound ? { boundVehicle: opts.bound } : {}),
    ...(opts.retryAfterMs ? { retryAfterMs: opts.retryAfterMs } : {}),
  });
  wire.nodes.set(id, sync as PeerSync<unknown>);
  return { id, replica, sync: sync as PeerSync<unknown>, store };
}
