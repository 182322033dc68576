// Automerge sync between this replica and its peers over MQTT (docs/sync-protocol.md).
// A car has one peer, its precinct; the precinct has one peer per car of the sector and fans a
// change from one car out to the others. Sync state is per (doc, peer) and is reset to its
// persisted part (shared heads) on every (re)connect, as automerge-repo does, so messages lost
// with a dead link are re-derived instead of waited for. The shared heads are persisted per
// (doc, peer) (sync-state-store.ts) so a reconnect, or a restart of either side, costs an
// incremental round. On the precinct, every message from a car passes the author guard
// (author-guard.ts) and the board size cap before it is kept.
import * as A from '@automerge/automerge';
import type { Logger } from './logger.js';
import { decodeEnvelope, encodeEnvelope, PayloadRejected } from './envelope.js';
import { parseTopic, topics } from './topics.js';
import { checkAuthorship, type BoundVehicle } from './author-guard.js';
import { MemorySyncStateStore, type SyncStateStore } from './sync-state-store.js';
import { splitSyncMessage, SYNC_CHUNK_BYTES } from './sync-chunks.js';

/** The slice of a replica that sync needs. */
export interface SyncableReplica<T> {
  readonly docId: string;
  readonly doc: A.Doc<T>;
  /** Applies received changes: on the board (and 'applied') at once, written behind. */
  receive(fn: (doc: A.Doc<T>) => A.Doc<T>): Promise<unknown>;
  /** 'applied': a change may go to peers. 'durable': everything on the board is on disk. */
  on(event: 'applied' | 'durable', listener: () => void): unknown;
  /**
   * Whether a local change is being saved, and a promise for when none is (SectorReplica). While
   * a save is in flight the document already holds the change, and a failed save rolls it back:
   * sync must not send it before then.
   */
  readonly busy?: boolean;
  whenIdle?(): Promise<void>;
  /** Received changes not yet on disk: shared heads are not persisted meanwhile. */
  readonly unsaved?: boolean;
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
  /** After a peer's changes could not be saved, greet it again after this long. Default 30 s. */
  retryAfterMs?: number;
  /** Largest sync message we send; bigger rounds go out in several messages (sync-chunks.ts). */
  chunkBytes?: number;
  /**
   * Cap on the board's size (bytes, see boardBytes) that peers' changes may grow it to: a message
   * that would cross it is refused. Absent = no cap (a car trusts its precinct).
   */
  maxBoardBytes?: number;
}

export interface PeerSyncStats {
  sentMessages: number;
  sentBytes: number;
  receivedMessages: number;
  receivedBytes: number;
  rejected: number;
  /** Messages refused by the author binding (a change claiming another author). */
  forged: number;
  /** Messages refused because the board would outgrow maxBoardBytes. */
  oversize: number;
}

/** Why a received message was not kept; thrown inside the replica update so it leaves no trace. */
class Refusal extends Error {
  constructor(
    readonly kind: 'forged' | 'oversize' | 'invalid',
    readonly reason: string,
  ) {
    super(reason);
  }
}

const sameHeads = (a: A.Heads, b: A.Heads) => a.length === b.length && a.every((h, i) => h === b[i]);

export class PeerSync<T> {
  private readonly states = new Map<string, A.SyncState>();
  /** Shared heads last written to the store per peer, so unchanged states are not re-encoded. */
  private readonly persisted = new Map<string, string>();
  readonly stats: PeerSyncStats = { sentMessages: 0, sentBytes: 0, receivedMessages: 0, receivedBytes: 0, rejected: 0, forged: 0, oversize: 0 };
  private readonly store: SyncStateStore;
  private handling: Promise<void> = Promise.resolve();
  /** The board's size as the cap counts it: its saved size when first needed, plus what peers added. */
  private boardBytes: number | undefined;
  /**
   * Peers whose changes were refused, until their next hello. Why: their later messages still
   * advertise heads we refused, so answering them asks for those changes again, which the peer
   * has already sent and will not resend: an endless exchange of empty messages.
   */
  private readonly shutOut = new Set<string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: PeerSyncOptions<T>) {
    this.store = opts.stateStore ?? new MemorySyncStateStore();
    opts.replica.on('applied', () => this.flushAll());
    opts.replica.on('durable', () => {
      for (const peer of this.states.keys()) this.persist(peer);
    });
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
      this.persisted.set(peerId, s.sharedHeads.join());
    }
    return s;
  }

  /**
   * Writes the peer's shared heads to the store when they moved (the rest is in-flight state),
   * once the board holding them is on disk (else the 'durable' event does it).
   */
  private persist(peerId: string): void {
    const s = this.states.get(peerId);
    if (!s || this.opts.replica.unsaved) return;
    const key = s.sharedHeads.join();
    if (this.persisted.get(peerId) === key) return;
    this.persisted.set(peerId, key);
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
  hello(peerId: string): Promise<void> {
    this.resetState(peerId);
    // Both publishes are issued in this tick, in order: the broker keeps their order (MQTT 3.1.1 §4.6).
    const greeting = this.send(peerId, encodeEnvelope({ kind: 'hello', docId: this.opts.replica.docId, body: new Uint8Array(0) }));
    return Promise.all([greeting, this.flush(peerId)]).then(() => undefined);
  }

  /**
   * Handles one MQTT message on a sync topic. Bad input is logged and dropped, never thrown.
   * Messages are processed one at a time, in arrival order.
   */
  handle(topic: string, payload: Buffer): Promise<void> {
    const run = this.handling.then(() => this.handleOne(topic, payload));
    this.handling = run.catch((err: unknown) => this.opts.log.error({ err, topic }, 'sync handler failed'));
    return this.handling;
  }

  private async handleOne(topic: string, payload: Buffer): Promise<void> {
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
    const from = t.from;
    const body = env.body;
    let prior: A.SyncState | undefined;
    try {
      // Received straight into the board: an ack (no new change) only swaps the document object,
      // a change is on the board and sent on at once (written behind: the sender holds it
      // durably), and a refusal thrown here puts the board back exactly as it was.
      await this.opts.replica.receive((doc) => {
        const before = A.getHeads(doc);
        const state = this.state(from);
        let after: A.Doc<T>;
        let next: A.SyncState;
        try {
          [after, next] = A.receiveSyncMessage(doc, state, body);
        } catch (err) {
          throw new Refusal('invalid', `not a valid sync message: ${(err as Error).message}`);
        }
        if (!sameHeads(before, A.getHeads(after))) {
          const forged = bound ? checkAuthorship(after, before, bound) : undefined;
          if (forged) throw new Refusal('forged', forged);
          this.admitGrowth(doc, body.length);
        }
        // Committed before 'applied' fires, so the fan-out it starts already knows the sender
        // has these changes (else it would echo them back).
        prior = state;
        this.states.set(from, next);
        return after;
      });
    } catch (err) {
      if (prior) this.states.set(from, prior);
      this.refused(from, payload.length, err);
      return;
    }
    this.persist(from);
    // Reply to the sender (the fan-out to the other peers ran on the 'applied' event).
    await this.flush(from);
  }

  /** Counts a message's changes against the board cap, or throws the refusal. */
  private admitGrowth(doc: A.Doc<T>, bytes: number): void {
    const cap = this.opts.maxBoardBytes;
    if (cap === undefined) return;
    // Measured once (save() is linear in the board); then every accepted message adds its body,
    // an upper bound of what its changes add (a saved board is compressed, a message is not).
    this.boardBytes ??= A.save(doc).length;
    if (this.boardBytes + bytes > cap) {
      throw new Refusal('oversize', `the board would grow to ${this.boardBytes + bytes} B, over its cap of ${cap} B`);
    }
    this.boardBytes += bytes;
  }

  private refused(from: string, bytes: number, err: unknown): void {
    if (err instanceof Refusal && err.kind === 'invalid') {
      // Nothing was taken and no state moved: the peer's real messages still count. (Shutting it
      // out would let one injected bad message cut a car off from its precinct.)
      this.reject(from, bytes, err.reason);
      return;
    }
    // Every later change of the sender depends on the refused one, so nothing more from it can be
    // taken for this document: shut it out until it reconnects (and is refused again).
    this.shutOut.add(from);
    if (!(err instanceof Refusal)) {
      // Changes we could not take for a reason of ours (the board failed to apply them): greet
      // the peer again later so it sends them once more.
      this.reject(from, bytes, `sync message not applied: ${(err as Error).message}`);
      this.retryLater(from);
      return;
    }
    if (err.kind === 'forged') {
      this.stats.forged += 1;
      this.opts.log.error({ from, bytes, reason: err.reason }, 'sync refused: change not authored by the sending vehicle');
    } else {
      this.stats.oversize += 1;
      this.stats.rejected += 1;
      this.opts.log.error({ from, bytes, reason: err.reason, cap: this.opts.maxBoardBytes }, 'sync refused: the sector board would exceed its size cap');
    }
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

  /**
   * Sends the sync message the peer needs now, if any. Generation is synchronous (no state can be
   * raced), the publishes are issued at once and in order; the returned promise settles when the
   * broker has acknowledged them. So a fan-out to N cars is N publishes in one tick, not N
   * round trips one after the other.
   */
  async flush(peerId: string): Promise<void> {
    const replica = this.opts.replica;
    while (replica.busy) await replica.whenIdle?.();
    if (!this.opts.publisher.isOnline()) return;
    const sends: Array<Promise<boolean>> = [];
    // One call: Automerge gives at most one message per round and then waits for the peer's
    // answer (the state is in flight), so asking again at once only returns null. Each call
    // converts the whole sync state into and out of wasm: at a station fanning every change out
    // to a sector of cars, that second call was a sizeable share of its CPU.
    const doc = replica.doc;
    const before = this.state(peerId);
    const [state, msg] = A.generateSyncMessage(doc, before);
    if (msg) {
      for (const part of splitSyncMessage(doc, msg, this.opts.chunkBytes ?? SYNC_CHUNK_BYTES, before)) {
        sends.push(this.send(peerId, encodeEnvelope({ kind: 'sync', docId: replica.docId, body: part })));
      }
    }
    this.states.set(peerId, state);
    this.persist(peerId);
    // The link dropped mid-round: forget in-flight bookkeeping; the next hello restarts.
    if ((await Promise.all(sends)).includes(false)) this.resetState(peerId);
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
