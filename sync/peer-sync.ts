// Automerge sync between this replica and its peers over MQTT (docs/sync-protocol.md).
// A car has one peer, its precinct; the precinct has one peer per car of the sector and fans a
// change from one car out to the others. Sync state is per (doc, peer) and is reset to its
// persisted part (shared heads) on every (re)connect, as automerge-repo does, so messages lost
// with a dead link are re-derived instead of waited for. The shared heads are persisted per
// (doc, peer) (sync-state-store.ts) so a reconnect, or a restart of either side, costs an
// incremental round. On the precinct, every message from a car passes the author guard
// (author-guard.ts) before it is kept.
import * as A from '@automerge/automerge';
import type { Logger } from './logger.js';
import { decodeEnvelope, encodeEnvelope, PayloadRejected } from './envelope.js';
import { parseTopic, topics } from './topics.js';
import { checkAuthorship, type BoundVehicle } from './author-guard.js';
import { MemorySyncStateStore, type SyncStateStore } from './sync-state-store.js';

/** The slice of a replica that sync needs. */
export interface SyncableReplica<T> {
  readonly docId: string;
  readonly doc: A.Doc<T>;
  update(fn: (doc: A.Doc<T>) => A.Doc<T>): Promise<unknown>;
  on(event: 'change', listener: () => void): unknown;
  /** Resolves when no local change is being saved (SectorReplica.whenIdle): sync only sends durable changes. */
  whenIdle?(): Promise<void>;
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
  /**
   * The precinct's author binding: the vehicle a peer id authenticated as, whose changes must name
   * only it; undefined = unknown sender, refused. Absent (a car) = the peer is trusted.
   */
  boundVehicle?: (peerId: string) => BoundVehicle | undefined;
  /** Persisted shared heads per (doc, peer); in memory when absent. */
  stateStore?: SyncStateStore;
  /** Largest sync payload accepted from a peer (bytes). */
  maxPayload?: number;
  /** After changes could not be applied, greet the peer again after this long. Default 30 s. */
  retryAfterMs?: number;
}

export interface PeerSyncStats {
  sentMessages: number;
  sentBytes: number;
  receivedMessages: number;
  receivedBytes: number;
  rejected: number;
  /** Messages refused by the author binding (a change claiming another author). */
  forged: number;
}

export class PeerSync<T> {
  private readonly states = new Map<string, A.SyncState>();
  private flushing = Promise.resolve();
  readonly stats: PeerSyncStats = { sentMessages: 0, sentBytes: 0, receivedMessages: 0, receivedBytes: 0, rejected: 0, forged: 0 };
  private readonly store: SyncStateStore;
  private shadow: A.Doc<T> | undefined;
  private handling: Promise<void> = Promise.resolve();
  /**
   * Peers whose changes were refused, until their next hello. Why: their later messages still
   * advertise heads we refused, so answering them asks for those changes again, which the peer
   * has already sent and will not resend: an endless exchange of empty messages.
   */
  private readonly shutOut = new Set<string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: PeerSyncOptions<T>) {
    this.store = opts.stateStore ?? new MemorySyncStateStore();
    opts.replica.on('change', () => this.flushAll());
  }

  /** The current state for a peer: in memory, else the persisted shared heads, else fresh. */
  private state(peerId: string): A.SyncState {
    let s = this.states.get(peerId);
    if (!s) {
      const saved = this.store.load(this.opts.replica.docId, peerId);
      try {
        s = saved ? A.decodeSyncState(saved) : A.initSyncState();
      } catch {
        s = A.initSyncState();
      }
      this.states.set(peerId, s);
    }
    return s;
  }

  private setState(peerId: string, s: A.SyncState): void {
    this.states.set(peerId, s);
    this.store.save(this.opts.replica.docId, peerId, A.encodeSyncState(s));
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

  /** Starts tracking a peer (e.g. a car whose presence is retained) without sending anything. */
  track(peerId: string): void {
    this.state(peerId);
  }

  /** Called on (re)connect: tell the peer to reset our state, then start a sync round. */
  async hello(peerId: string): Promise<void> {
    this.resetState(peerId);
    await this.send(peerId, encodeEnvelope({ kind: 'hello', docId: this.opts.replica.docId, body: new Uint8Array(0) }));
    await this.flush(peerId);
  }

  /**
   * Handles one MQTT message on a sync topic. Bad input is logged and dropped, never thrown.
   * Messages are processed one at a time, in arrival order (the shadow copy must never be ahead
   * of the replica when the next message is applied).
   */
  handle(topic: string, payload: Buffer): Promise<void> {
    const run = this.handling.then(() => this.handleOne(topic, payload));
    this.handling = run.catch((err: unknown) => this.opts.log.error({ err, topic }, 'sync handler failed'));
    return this.handling;
  }

  private async handleOne(topic: string, payload: Buffer): Promise<void> {
    await this.opts.replica.whenIdle?.();
    const t = parseTopic(topic);
    if (!t || t.kind !== 'sync' || t.to !== this.opts.selfPeer || t.sector !== this.opts.sector) return;
    if (this.opts.allowPeer && !this.opts.allowPeer(t.from)) {
      this.reject(t.from, payload.length, 'peer not allowed');
      return;
    }
    let env;
    try {
      env = decodeEnvelope(payload, this.opts.maxPayload);
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
      this.shutOut.delete(t.from);
      this.resetState(t.from);
      await this.flush(t.from);
      return;
    }
    let bound: BoundVehicle | undefined;
    if (this.opts.boundVehicle) {
      bound = this.opts.boundVehicle(t.from);
      if (!bound) {
        this.reject(t.from, payload.length, 'sender is not a known vehicle');
        return;
      }
    }
    if (this.shutOut.has(t.from)) {
      this.reject(t.from, payload.length, 'changes refused earlier; ignored until the peer reconnects');
      return;
    }
    const state = this.state(t.from);
    // Every message is applied first to a private copy of the board at the same heads (the
    // shadow). Why: receiveSyncMessage marks the doc it is given as outdated even when nothing
    // changes, and SectorReplica.update keeps its old doc when the heads do not move, so acks
    // (most messages) must never touch the replica; and a refused message must leave no trace.
    let shadow: A.Doc<T>;
    let next: A.SyncState;
    const before = A.getHeads(this.syncShadow());
    try {
      [shadow, next] = A.receiveSyncMessage(this.syncShadow(), state, env.body);
    } catch (err) {
      // A garbled message says nothing about the peer's history: drop it, nothing to shut out.
      this.shadow = undefined;
      this.reject(t.from, payload.length, `not a valid sync message: ${(err as Error).message}`);
      return;
    }
    this.shadow = shadow;
    const after = A.getHeads(shadow);
    if (after.length !== before.length || after.some((h, i) => h !== before[i])) {
      const forged = bound ? checkAuthorship(shadow, before, bound) : undefined;
      if (forged) {
        // Every later change of the sender depends on the refused one, so nothing more from it
        // can be taken for this document: shut it out until it reconnects (and is refused again).
        this.stats.forged += 1;
        this.opts.log.error({ from: t.from, bytes: payload.length, reason: forged }, 'sync refused: change not authored by the sending vehicle');
        this.shutOutPeer(t.from);
        return;
      }
      try {
        // Take every change the shadow has and the replica lacks, not just this message's: a
        // change that arrived before its dependency sat in the shadow's queue until now.
        const accepted = shadow;
        await this.opts.replica.update((doc) => A.merge(doc, accepted));
      } catch (err) {
        // Valid changes we could not keep (e.g. the disk is full): shut the peer out so the
        // exchange stops, and greet it again later so it resends them.
        this.reject(t.from, payload.length, `sync message not applied: ${(err as Error).message}`);
        this.shutOutPeer(t.from);
        this.retryLater(t.from);
        return;
      }
    }
    this.setState(t.from, next);
    // Reply to the sender, and (via the replica's change event) fan out to the other peers.
    await this.flush(t.from);
  }

  private syncShadow(): A.Doc<T> {
    const doc = this.opts.replica.doc;
    if (!this.shadow) {
      this.shadow = A.clone(doc);
      return this.shadow;
    }
    const have = A.getHeads(this.shadow);
    const want = A.getHeads(doc);
    if (have.length !== want.length || have.some((h, i) => h !== want[i])) {
      try {
        [this.shadow] = A.applyChanges(this.shadow, A.getChangesSince(doc, have));
      } catch {
        this.shadow = A.clone(doc);
      }
    }
    return this.shadow;
  }

  private retryLater(peerId: string): void {
    if (this.retries.has(peerId)) return;
    const timer = setTimeout(() => {
      this.retries.delete(peerId);
      this.shutOut.delete(peerId);
      void this.hello(peerId);
    }, this.opts.retryAfterMs ?? 30_000);
    timer.unref();
    this.retries.set(peerId, timer);
  }

  private shutOutPeer(peerId: string): void {
    this.shadow = undefined;
    this.shutOut.add(peerId);
  }

  private reject(from: string, bytes: number, reason: string): void {
    this.stats.rejected += 1;
    this.opts.log.warn({ from, bytes, reason }, 'sync payload rejected');
  }

  private resetState(peerId: string): void {
    // encode/decode keeps only sharedHeads: in-flight bookkeeping of a dead link is dropped.
    this.states.set(peerId, A.decodeSyncState(A.encodeSyncState(this.state(peerId))));
  }

  private flushAll(): void {
    for (const peer of this.states.keys()) void this.flush(peer);
  }

  /** Sends every sync message the peer needs now. Serialised so states are not raced. */
  flush(peerId: string): Promise<void> {
    const run = this.flushing.then(async () => {
      if (!this.opts.publisher.isOnline()) return;
      let state = this.state(peerId);
      for (;;) {
        await this.opts.replica.whenIdle?.();
        const [nextState, msg] = A.generateSyncMessage(this.opts.replica.doc, state);
        state = nextState;
        this.setState(peerId, state);
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
