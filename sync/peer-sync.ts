// Automerge sync between this replica and its peers over MQTT (docs/sync-protocol.md).
// A car has one peer, its precinct; the precinct has one peer per car of the sector and fans a
// change from one car out to the others. Sync state is per (doc, peer) and is reset to its
// persisted part (shared heads) on every (re)connect, as automerge-repo does, so messages lost
// with a dead link are re-derived instead of waited for.
import * as A from '@automerge/automerge';
import type { Logger } from './logger.js';
import { decodeEnvelope, encodeEnvelope, PayloadRejected } from './envelope.js';
import { parseTopic, topics } from './topics.js';

/** The slice of a replica that sync needs. */
export interface SyncableReplica<T> {
  readonly docId: string;
  readonly doc: A.Doc<T>;
  update(fn: (doc: A.Doc<T>) => A.Doc<T>): Promise<unknown>;
  on(event: 'change', listener: () => void): unknown;
}

export interface SyncPublisher {
  isOnline(): boolean;
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1 }): Promise<void>;
}

export interface PeerSyncOptions<T> {
  replica: SyncableReplica<T>;
  publisher: SyncPublisher;
  sector: string;
  selfPeer: string;
  log: Logger;
  /** Accept sync only from these peers (a car: its precinct); undefined = any authenticated peer. */
  allowPeer?: (peerId: string) => boolean;
}

export interface PeerSyncStats {
  sentMessages: number;
  sentBytes: number;
  receivedMessages: number;
  receivedBytes: number;
  rejected: number;
}

export class PeerSync<T> {
  private readonly states = new Map<string, A.SyncState>();
  private flushing = Promise.resolve();
  readonly stats: PeerSyncStats = { sentMessages: 0, sentBytes: 0, receivedMessages: 0, receivedBytes: 0, rejected: 0 };

  constructor(private readonly opts: PeerSyncOptions<T>) {
    opts.replica.on('change', () => this.flushAll());
  }

  peers(): string[] {
    return [...this.states.keys()];
  }

  /** Whether the peer has every change we have (nothing of ours is waiting to reach it). */
  inSync(peerId: string): boolean {
    const s = this.states.get(peerId);
    if (!s) return false;
    return A.hasOurChanges(this.opts.replica.doc, s);
  }

  /** Called on (re)connect: tell the peer to reset our state, then start a sync round. */
  async hello(peerId: string): Promise<void> {
    this.resetState(peerId);
    await this.send(peerId, encodeEnvelope({ kind: 'hello', docId: this.opts.replica.docId, body: new Uint8Array(0) }));
    await this.flush(peerId);
  }

  /** Handles one MQTT message on a sync topic. Bad input is logged and dropped, never thrown. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'sync' || t.to !== this.opts.selfPeer || t.sector !== this.opts.sector) return;
    if (this.opts.allowPeer && !this.opts.allowPeer(t.from)) {
      this.reject(t.from, payload.length, 'peer not allowed');
      return;
    }
    let env;
    try {
      env = decodeEnvelope(payload);
    } catch (err) {
      this.reject(t.from, payload.length, err instanceof PayloadRejected ? err.reason : String(err));
      return;
    }
    if (env.docId !== this.opts.replica.docId) {
      this.opts.log.info({ from: t.from, docId: env.docId, ours: this.opts.replica.docId }, 'sync for another document ignored');
      return;
    }
    this.stats.receivedMessages += 1;
    this.stats.receivedBytes += payload.length;
    if (env.kind === 'hello') {
      this.resetState(t.from);
      await this.flush(t.from);
      return;
    }
    const state = this.states.get(t.from) ?? A.initSyncState();
    let next = state;
    try {
      await this.opts.replica.update((doc) => {
        const [newDoc, newState] = A.receiveSyncMessage(doc, state, env.body);
        next = newState;
        return newDoc;
      });
    } catch (err) {
      this.reject(t.from, payload.length, `not a valid sync message: ${(err as Error).message}`);
      return;
    }
    this.states.set(t.from, next);
    // Reply to the sender, and (via the replica's change event) fan out to the other peers.
    await this.flush(t.from);
  }

  private reject(from: string, bytes: number, reason: string): void {
    this.stats.rejected += 1;
    this.opts.log.warn({ from, bytes, reason }, 'sync payload rejected');
  }

  private resetState(peerId: string): void {
    const old = this.states.get(peerId);
    // encode/decode keeps only sharedHeads: in-flight bookkeeping of a dead link is dropped.
    this.states.set(peerId, old ? A.decodeSyncState(A.encodeSyncState(old)) : A.initSyncState());
  }

  private flushAll(): void {
    for (const peer of this.states.keys()) void this.flush(peer);
  }

  /** Sends every sync message the peer needs now. Serialised so states are not raced. */
  flush(peerId: string): Promise<void> {
    const run = this.flushing.then(async () => {
      if (!this.opts.publisher.isOnline()) return;
      let state = this.states.get(peerId) ?? A.initSyncState();
      for (;;) {
        const [nextState, msg] = A.generateSyncMessage(this.opts.replica.doc, state);
        state = nextState;
        this.states.set(peerId, state);
        if (!msg) break;
        const sent = await this.send(peerId, encodeEnvelope({ kind: 'sync', docId: this.opts.replica.docId, body: msg }));
        if (!sent) {
          // The link dropped mid-round: forget in-flight bookkeeping; the next hello restarts.
          this.resetState(peerId);
          break;
        }
      }
    });
    this.flushing = run.catch((err: unknown) => this.opts.log.error({ err, peerId }, 'sync flush failed'));
    return this.flushing;
  }

  private async send(peerId: string, payload: Buffer): Promise<boolean> {
    try {
      await this.opts.publisher.publish(topics.sync(this.opts.sector, this.opts.selfPeer, peerId), payload, { qos: 1 });
      this.stats.sentMessages += 1;
      this.stats.sentBytes += payload.length;
      return true;
    } catch (err) {
      this.opts.log.debug({ peerId, err: (err as Error).message }, 'sync send failed');
      return false;
    }
  }
}
