// Automerge sync between this replica and its peers over MQTT (docs/sync-protocol.md).
// A car has one peer, its precinct; the precinct has one peer per car of the sector and fans a
// change from one car out to the others. Once a round with a peer has ended in agreement the peer
// is "live": each new change then goes to it as it is (envelope kind 'change', no Automerge sync
// round, no per-peer state work), the precinct acknowledges a car's change with a short 'ack', and
// rounds run only on (re)connect, when a change arrives before one it depends on, and to settle
// (docs/sync-protocol.md §4). Sync state is per (doc, peer) and is reset to its
// persisted part (shared heads) on every (re)connect, as automerge-repo does, so messages lost
// with a dead link are re-derived instead of waited for. The shared heads are persisted per
// (doc, peer) (sync-state-store.ts) so a reconnect, or a restart of either side, costs an
// incremental round. On the precinct, every message from a car passes the author guard
// (author-guard.ts) and the board size cap before it is kept.
import * as A from '@automerge/automerge';
import type { Logger } from './logger.js';
import { ACK_HASH_BYTES, decodeEnvelope, encodeEnvelope, PayloadRejected, type Envelope } from './envelope.js';
import { parseTopic, topics } from './topics.js';
import { checkAuthorship, type BoundVehicle } from './author-guard.js';
import { MemorySyncStateStore, type SyncStateStore } from './sync-state-store.js';
import { splitSyncMessage, SYNC_CHUNK_BYTES } from './sync-chunks.js';
import { compactChange, DEP_PREFIX_BYTES, expandChange } from './compact-change.js';

/** The slice of a replica that sync needs. */
export interface SyncableReplica<T> {
  readonly docId: string;
  readonly doc: A.Doc<T>;
  /** Applies received changes: on the board (and 'applied') at once, written behind. */
  receive(fn: (doc: A.Doc<T>) => A.Doc<T>): Promise<unknown>;
  /** 'applied': a change may go to peers. 'durable': everything on the board is on disk. */
  on(event: 'applied' | 'durable', listener: () => void): unknown;
  off(event: 'applied' | 'durable', listener: () => void): unknown;
  /** Changes on the board not yet on disk (received, or local being written): shared heads are not persisted meanwhile. */
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
  /**
   * Re-greets a peer (hello: both sides drop in-flight state and run a round) when sync with it
   * looks stuck: a round unfinished for stalledMs, a change of ours unacknowledged for stalledMs,
   * or (with behindMs) shared heads behind ours while no round has run for behindMs, which keeps
   * the persisted state fresh. A stalled re-greeting backs off (doubling, up to 5 min). Absent =
   * never (tests that count messages).
   */
  settle?: { stalledMs: number; behindMs?: number };
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
    readonly kind: 'forged' | 'oversize' | 'invalid' | 'gap',
    readonly reason: string,
  ) {
    super(reason);
  }
}

const sameHeads = (a: A.Heads, b: A.Heads) => a.length === b.length && a.every((h, i) => h === b[i]);
/** The key an ack carries for a change: the first ACK_HASH_BYTES bytes of its hash, in hex. */
const ackKey = (hash: string) => hash.slice(0, 2 * ACK_HASH_BYTES);
/**
 * A fan-out of more new changes than this (a car's catch-up arriving) goes to live peers as a
 * sync round, which carries them compressed in one message.
 */
const FAST_CHANGES_MAX = 8;
const SETTLE_BACKOFF_MAX_MS = 5 * 60_000;
/**
 * How many recent heads a replica remembers to restore a compact change's dependencies: every
 * change applied on its own was a head, so this covers a sector's traffic for minutes; a
 * dependency older than that costs a sync round (a gap), never a wrong change.
 */
const RECENT_HEADS = 1024;
const depPrefix = (hash: string) => hash.slice(0, 2 * DEP_PREFIX_BYTES);
/**
 * A car re-greets its station when a round or an ack is 5 s overdue, and once a minute at most to
 * bring the persisted shared heads up to date after changes that went as they are.
 */
export const CAR_SETTLE = { stalledMs: 5_000, behindMs: 60_000 } as const;
/** A station re-greets a car whose round has not ended for 15 s (the car usually does first). */
export const STATION_SETTLE = { stalledMs: 15_000 } as const;

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
  /** Peers whose last round ended in agreement: new changes go to them as they are. */
  private readonly live = new Set<string>();
  /** The heads the fan-out last covered: what is newer goes out on the next 'applied'. */
  private fanHeads: A.Heads;
  /** Where the next fan-out starts in the peer list (it rotates). */
  private fanTurn = 0;
  /** The peer whose change is being applied: the fan-out skips it (it has the change). */
  private origin: string | undefined;
  /** Heads this board has had, by hash prefix: what a compact change's dependencies resolve to. */
  private readonly recentHeads = new Map<string, string>();
  /** Per peer, changes it is known to hold (acknowledged, or received from it): see inSync. */
  private readonly atPeer = new Map<string, Set<string>>();
  /** Per peer, changes sent as they are and not acknowledged yet: ack key -> hash, sent at. */
  private readonly unacked = new Map<string, Map<string, { hash: string; at: number }>>();
  /** Per peer: when its current round started (not live), when its last one ended (live). */
  private readonly roundAt = new Map<string, number>();
  private readonly settleTimers = new Map<string, NodeJS.Timeout>();
  private readonly settleBackoff = new Map<string, number>();
  /** A hub (the precinct: it guards its peers' authorship) acknowledges each change it is sent. */
  private readonly hub: boolean;
  private closed = false;
  private readonly onApplied = () => this.fanOut();
  private readonly onDurable = () => {
    for (const peer of this.states.keys()) this.persist(peer);
  };

  constructor(private readonly opts: PeerSyncOptions<T>) {
    this.store = opts.stateStore ?? new MemorySyncStateStore();
    this.hub = opts.boundVehicle !== undefined;
    this.fanHeads = A.getHeads(opts.replica.doc);
    this.remember(this.fanHeads);
    opts.replica.on('applied', this.onApplied);
    opts.replica.on('durable', this.onDurable);
  }

  /**
   * The document is done with (archived, dropped, retired by an epoch cut): detach from the
   * replica and stop every timer. A settle timer re-arms until the peer has settled, which on a
   * closed epoch may never happen: without this, each cut kept a board alive (found by the soak:
   * station heap +13 MiB and the cars' process +338 MiB in 10 minutes).
   */
  close(): void {
    this.closed = true;
    this.opts.replica.off('applied', this.onApplied);
    this.opts.replica.off('durable', this.onDurable);
    for (const t of [...this.settleTimers.values(), ...this.retries.values()]) clearTimeout(t);
    this.settleTimers.clear();
    this.retries.clear();
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
    const doc = this.opts.replica.doc;
    if (A.hasOurChanges(doc, s)) return true;
    // Changes that went as they are: the peer holds each of our heads (and so all before them).
    const known = this.atPeer.get(peerId);
    return known !== undefined && A.getHeads(doc).every((h) => known.has(h));
  }

  /** Whether new changes go to the peer as they are (its last round ended in agreement). */
  isLive(peerId: string): boolean {
    return this.live.has(peerId);
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
    this.armSettle(t.from);
    if (env.kind === 'hello') {
      this.shutOut.delete(t.from);
      this.resetState(t.from);
      await this.flush(t.from);
      return;
    }
    if (env.kind === 'ack') {
      this.acknowledged(t.from, Buffer.from(env.body).toString('hex'));
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
    let prior: A.SyncState | undefined;
    let changeHash: string | undefined;
    try {
      // Received straight into the board: an ack (no new change) only swaps the document object,
      // a change is on the board and sent on at once (written behind: the sender holds it
      // durably), and a refusal thrown here puts the board back exactly as it was.
      await this.opts.replica.receive((doc) => {
        const before = A.getHeads(doc);
        let after: A.Doc<T>;
        if (env.kind === 'change' || env.kind === 'compact') {
          [after, changeHash] = this.applyChange(doc, env);
        } else {
          const state = this.state(from);
          let next: A.SyncState;
          try {
            [after, next] = A.receiveSyncMessage(doc, state, env.body);
          } catch (err) {
            throw new Refusal('invalid', `not a valid sync message: ${(err as Error).message}`);
          }
          // Committed before 'applied' fires, so a round the fan-out starts already knows the
          // sender has these changes (else it would echo them back).
          prior = state;
          this.states.set(from, next);
        }
        if (!sameHeads(before, A.getHeads(after))) {
          const forged = bound ? checkAuthorship(after, before, bound) : undefined;
          if (forged) throw new Refusal('forged', forged);
          this.admitGrowth(doc, env.body.length);
          // 'applied' fires right after this returns, in the same tick.
          this.origin = from;
        }
        return after;
      });
    } catch (err) {
      this.origin = undefined;
      if (prior) this.states.set(from, prior);
      this.refused(from, payload.length, err);
      return;
    }
    if (changeHash !== undefined) {
      this.heldBy(from, changeHash);
      if (this.hub) void this.send(from, encodeEnvelope({ kind: 'ack', docId: this.opts.replica.docId, body: Buffer.from(ackKey(changeHash), 'hex') }), 0);
      return;
    }
    this.persist(from);
    // Reply to the sender (the fan-out to the other peers ran on the 'applied' event).
    await this.flush(from);
  }

  /**
   * Applies one change sent as it is (compact or whole). One that depends on a change we lack is
   * not applied (a message was lost, or overtaken): the refusal starts a round, which brings both.
   */
  private applyChange(doc: A.Doc<T>, env: Envelope): [A.Doc<T>, string] {
    let change = env.body;
    let hash: string;
    try {
      if (env.kind === 'compact') {
        // Every dependency it resolves is a change we hold, so no further check is needed. The
        // current heads are remembered on every 'applied'; reading them is only a fallback.
        const x = expandChange(env.body, (prefix) => this.recentHeads.get(prefix) ?? A.getHeads(doc).find((h) => depPrefix(h) === prefix));
        if ('gap' in x) throw new Refusal('gap', `a change arrived before one it depends on (${x.gap})`);
        ({ change, hash } = x);
      } else {
        const meta = A.decodeChange(env.body);
        // Usually the change extends our heads: checking those first spares hasHeads, which builds
        // each change it looks up (~30-50 µs a call, a sizeable share of a car's receive).
        const heads = new Set(A.getHeads(doc));
        if (!meta.deps.every((h) => heads.has(h)) && !A.hasHeads(doc, meta.deps)) throw new Refusal('gap', 'a change arrived before one it depends on');
        hash = meta.hash;
      }
    } catch (err) {
      if (err instanceof Refusal) throw err;
      throw new Refusal('invalid', `not a valid change: ${(err as Error).message}`);
    }
    try {
      return [A.applyChanges(doc, [change])[0], hash];
    } catch (err) {
      throw new Refusal('invalid', `change not applied: ${(err as Error).message}`);
    }
  }

  /** Notes heads the board has had (bounded; the oldest go first). */
  private remember(heads: A.Heads): void {
    for (const h of heads) {
      const key = depPrefix(h);
      this.recentHeads.delete(key);
      this.recentHeads.set(key, h);
    }
    for (const key of this.recentHeads.keys()) {
      if (this.recentHeads.size <= RECENT_HEADS) break;
      this.recentHeads.delete(key);
    }
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
    if (err instanceof Refusal && err.kind === 'gap') {
      // A live peer's change overtook (or outlived) one it depends on: a round brings both. A peer
      // in a round already gets them from that round.
      this.opts.log.info({ from }, 'sync: a change arrived before one it depends on; resyncing');
      if (this.live.has(from)) void this.hello(from);
      return;
    }
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
    if (this.closed || this.retries.has(peerId)) return;
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
    this.setLive(peerId, false);
    // The round that follows confirms (or resends) whatever went as it is.
    this.unacked.delete(peerId);
  }

  private setLive(peerId: string, live: boolean): void {
    if (live === this.live.has(peerId)) return;
    if (live) {
      this.live.add(peerId);
      this.settleBackoff.delete(peerId);
    } else {
      this.live.delete(peerId);
    }
    this.roundAt.set(peerId, Date.now());
  }

  /**
   * Sends what the last 'applied' put on the board to every peer but the one it came from: as it
   * is to live peers, as a sync round to the others (and to live ones for a large batch).
   */
  private fanOut(): void {
    const doc = this.opts.replica.doc;
    const origin = this.origin;
    this.origin = undefined;
    const since = this.fanHeads;
    this.fanHeads = A.getHeads(doc);
    this.remember(this.fanHeads);
    let fresh: A.Change[] | undefined;
    let messages: Buffer[] | undefined;
    let hashes: string[] | undefined;
    // Each fan-out starts one peer further on, so no car is always the last to be sent a change
    // (first-contact order put the cars that signed on last behind the whole sector every time).
    const peers = [...this.states.keys()];
    const first = peers.length > 0 ? this.fanTurn++ % peers.length : 0;
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[(first + i) % peers.length]!;
      if (peer === origin) continue;
      if (this.live.has(peer)) {
        fresh ??= A.getChangesSince(doc, since);
        if (fresh.length <= FAST_CHANGES_MAX) {
          messages ??= this.changeMessages(fresh);
          // Only a side that is not a hub is acknowledged, and tracks what is unconfirmed.
          hashes ??= this.hub ? [] : A.getChangesMetaSince(doc, since).map((m) => m.hash);
          this.sendChanges(peer, messages, hashes);
          continue;
        }
        // In-flight state from the last round would have this round echo what the peer holds.
        this.resetState(peer);
      }
      void this.flush(peer);
    }
  }

  /** The messages that carry changes as they are: compact where the change allows, encoded once for every peer. */
  private changeMessages(changes: A.Change[]): Buffer[] {
    const docId = this.opts.replica.docId;
    return changes.map((body) => {
      const compact = compactChange(body);
      return encodeEnvelope(compact ? { kind: 'compact', docId, body: compact } : { kind: 'change', docId, body });
    });
  }

  private sendChanges(peerId: string, messages: Buffer[], hashes: string[]): void {
    let pending = this.unacked.get(peerId);
    if (!pending && hashes.length > 0) this.unacked.set(peerId, (pending = new Map()));
    const at = Date.now();
    for (const h of hashes) pending!.set(ackKey(h), { hash: h, at });
    for (const payload of messages) {
      void this.send(peerId, payload, 0).then((ok) => {
        // Not sent (offline): the next hello's round sends it again.
        if (!ok) this.resetState(peerId);
      });
    }
  }

  private acknowledged(peerId: string, key: string): void {
    const pending = this.unacked.get(peerId);
    const entry = pending?.get(key);
    if (!entry) return; // a duplicate, or confirmed by a round meanwhile
    pending!.delete(key);
    this.heldBy(peerId, entry.hash);
  }

  /** Notes that the peer holds a change (and all before it), bounded to what inSync can ask. */
  private heldBy(peerId: string, hash: string): void {
    let known = this.atPeer.get(peerId);
    if (!known) this.atPeer.set(peerId, (known = new Set()));
    known.add(hash);
    if (known.size > 64) {
      const heads = new Set(A.getHeads(this.opts.replica.doc));
      for (const h of known) if (!heads.has(h)) known.delete(h);
    }
  }

  /** Starts the settle check for a peer after traffic with it (see PeerSyncOptions.settle). */
  private armSettle(peerId: string): void {
    const settle = this.opts.settle;
    if (!settle || this.closed || this.settleTimers.has(peerId)) return;
    const timer = setTimeout(() => {
      this.settleTimers.delete(peerId);
      this.settleCheck(peerId);
    }, settle.stalledMs);
    timer.unref();
    this.settleTimers.set(peerId, timer);
  }

  private settleCheck(peerId: string): void {
    const settle = this.opts.settle!;
    const state = this.states.get(peerId);
    if (!state || !this.opts.publisher.isOnline()) return; // the next connect greets it
    const now = Date.now();
    const since = now - (this.roundAt.get(peerId) ?? now);
    const live = this.live.has(peerId);
    const backoff = this.settleBackoff.get(peerId) ?? settle.stalledMs;
    const stalled = !live && since >= backoff;
    const unconfirmed = [...(this.unacked.get(peerId)?.values() ?? [])].some((e) => now - e.at >= settle.stalledMs);
    const behind = live && settle.behindMs !== undefined && since >= settle.behindMs && !sameHeads(state.sharedHeads, A.getHeads(this.opts.replica.doc));
    if (stalled || unconfirmed || behind) {
      this.opts.log.info({ peer: peerId, stalled, unconfirmed, behind }, 'sync: greeting the peer again to settle');
      if (stalled) this.settleBackoff.set(peerId, Math.min(2 * backoff, SETTLE_BACKOFF_MAX_MS));
      void this.hello(peerId);
    }
    // Settled as far as the configured checks go (a station has no "behind" check).
    const settled = live && !this.unacked.get(peerId)?.size && (settle.behindMs === undefined || sameHeads(state.sharedHeads, A.getHeads(this.opts.replica.doc)));
    if (!settled) this.armSettle(peerId);
  }

  /**
   * Sends the sync message the peer needs now, if any. Generation is synchronous (no state can be
   * raced), the publishes are issued at once and in order; the returned promise settles once they
   * are issued, not acknowledged. So a fan-out to N cars is N publishes in one tick, not N round
   * trips one after the other.
   */
  async flush(peerId: string): Promise<void> {
    const replica = this.opts.replica;
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
    // Live once the peer is known to hold exactly our heads and nothing of ours is on its way.
    const agreed = state.theirHeads != null && sameHeads(state.theirHeads, A.getHeads(doc)) && (!msg || A.decodeSyncMessage(msg).changes.length === 0);
    this.setLive(peerId, agreed);
    // The link dropped mid-round: forget in-flight bookkeeping; the next hello restarts. Not
    // awaited: the caller handles the document's next message meanwhile (awaiting held every
    // message of a document behind one broker round trip, which at N = 500 queued thousands).
    if (sends.length > 0) {
      void Promise.all(sends).then((ok) => {
        if (ok.includes(false)) this.resetState(peerId);
      });
    }
  }

  /**
   * Rounds and hellos go at QoS 1. A change to a live peer and an ack go at QoS 0: sessions are
   * clean, so a QoS 1 message dies with its link just the same, and what a lost one leaves behind
   * is healed by rounds (a gap, the settle check, the next hello). QoS 0 spares the broker its
   * in-flight bookkeeping and every car a PUBACK for each change of the sector's fan-out.
   */
  private async send(peerId: string, payload: Buffer, qos: 0 | 1 = 1): Promise<boolean> {
    this.armSettle(peerId);
    try {
      await this.opts.publisher.publish(topics.sync(this.opts.sector, this.opts.selfPeer, peerId), payload, { qos });
      this.stats.sentMessages += 1;
      this.stats.sentBytes += payload.length;
      return true;
    } catch (err) {
      this.opts.log.debug({ peerId, err: (err as Error).message }, 'sync send failed');
      return false;
    }
  }
}
