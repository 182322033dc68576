// The precinct's side of epochs for one sector: it cuts the live board into a new epoch, keeps
// the closed epoch syncing with late cars, forwards what reaches a closed epoch into its successor,
// archives a closed epoch once it has been quiet for a grace period, and reopens an archived one
// when a car that was away even longer comes back with edits for it (docs/sector-board.md).
//
// Every step is durable before the next one starts, and the `closed` marker written into the old
// document is the write-ahead record: a station killed between steps finds, at start, a closed
// document whose successor is missing or lacks its carry-over, and finishes the cut (open()).
import * as Automerge from '@automerge/automerge';
import { docIdOf, type SectorBoard } from './board.js';
import type { FileDocStore } from './doc-store.js';
import { decodeEnvelope } from './envelope.js';
import { encodeEpochAnnouncement } from './epoch-announce.js';
import { archiveEpoch } from './epoch-archive.js';
import { forwardLateEdits, nextEpochId, rolloverEpoch, type RolloverResult } from './epoch.js';
import type { Logger } from './logger.js';
import { txt } from './ops/common.js';
import type { PeerSync } from './peer-sync.js';
import { EpochReplica, newActorId, SectorReplica } from './replica.js';
import type { OpContext, SectorId } from './schema.js';
import { topics } from './topics.js';

export interface EpochPublisher {
  isOnline(): boolean;
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}

export interface PrecinctEpochsOptions {
  sector: string;
  precinct: string;
  /** The live boards. */
  store: FileDocStore;
  /** One snapshot per closed epoch. */
  archive: FileDocStore;
  publisher: EpochPublisher;
  /** Builds the sync of one epoch's document with the cars (author guard and all). */
  makeSync(replica: EpochReplica): PeerSync<unknown>;
  /** Drops the per-car sync states of an archived epoch (they would pile up, one file per car a day). */
  forgetSyncStates(docId: string): Promise<void>;
  /** The epoch a station with no board yet starts on. */
  initialEpoch: string;
  /** A closed epoch stays live this long after the cut, or after the last late change it received. */
  keepClosedMs: number;
  /** IANA time zone of the service day that names new epochs (default: the system's). */
  timeZone?: string;
  log: Logger;
  now?: () => number;
}

interface EpochDoc {
  replica: EpochReplica;
  sync: PeerSync<unknown>;
  /** Last time a change reached it (a closed epoch is archived only after a quiet grace period). */
  activeAt: number;
}

const closedInto = (doc: SectorBoard): string | undefined => txt(doc.closed?.nextEpoch);
const hasCarryOver = (doc: SectorBoard): boolean => doc.openedFrom !== undefined;

export class PrecinctEpochs {
  readonly live: SectorReplica;
  private readonly docs = new Map<string, EpochDoc>();
  private readonly reopening = new Map<string, Promise<EpochDoc | undefined>>();
  /** Cuts, forwards and archiving run one at a time, so none sees another's half-done work. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  private constructor(
    private readonly opts: PrecinctEpochsOptions,
    current: EpochReplica,
  ) {
    this.now = opts.now ?? Date.now;
    this.live = new SectorReplica(current, opts.log);
  }

  /**
   * Opens the sector's live documents, finishes a cut that a crash interrupted, and makes the one
   * open epoch live. Closed epochs not yet archived keep syncing.
   */
  static async open(opts: PrecinctEpochsOptions): Promise<PrecinctEpochs> {
    const { store, sector, log } = opts;
    const found = new Map<string, EpochReplica>();
    for (const docId of await store.list()) {
      if (!docId.startsWith(`${sector}@`)) continue;
      const epoch = docId.slice(sector.length + 1);
      found.set(epoch, await EpochReplica.open({ store, sector: sector as SectorId, epoch, actorId: newActorId(), log }));
    }
    // Resume interrupted cuts: a closed epoch whose successor is missing or has no carry-over.
    for (let again = true; again; ) {
      again = false;
      for (const rep of [...found.values()]) {
        const next = closedInto(rep.doc);
        if (next === undefined) continue;
        const succ = found.get(next);
        if (succ && hasCarryOver(succ.doc)) continue;
        log.warn({ docId: rep.docId, next }, 'sector board epoch cut was interrupted; finishing it');
        const opened = succ ?? (await EpochReplica.open({ store, sector: sector as SectorId, epoch: next, actorId: newActorId(), log }));
        const result = rolloverEpoch(rep.doc, next, cutContext(opts.precinct, opts.now?.() ?? Date.now()), newActorId());
        await opened.update((d) => Automerge.merge(d, result.next));
        found.set(next, opened);
        again = true;
      }
    }
    const open = [...found.values()].filter((r) => closedInto(r.doc) === undefined);
    // More than one open epoch means someone copied boards by hand: the newest cut is live, and
    // the others keep syncing so nothing on them is lost.
    open.sort((a, b) => (a.doc.openedFrom?.at ?? 0) - (b.doc.openedFrom?.at ?? 0));
    if (open.length > 1) log.error({ open: open.map((r) => r.docId) }, 'several open epochs of one sector; the newest is live');
    const current =
      open.at(-1) ?? (await EpochReplica.open({ store, sector: sector as SectorId, epoch: opts.initialEpoch, actorId: newActorId(), log }));
    const epochs = new PrecinctEpochs(opts, current);
    // Grace periods restart from the cut recorded in each board, not from this start: a station
    // that was down archives what came due meanwhile at its first check.
    epochs.attach(current, 0);
    for (const rep of found.values()) if (rep !== current) epochs.attach(rep, 0);
    return epochs;
  }

  get epoch(): string {
    return this.live.current.epoch;
  }

  /** The sync of the live epoch (the one cars are greeted on). */
  get sync(): PeerSync<unknown> {
    return this.entry(this.live.current).sync;
  }

  /** Document ids of every epoch that syncs now: the live one and closed ones not yet archived. */
  liveDocIds(): string[] {
    return [...this.docs.keys()];
  }

  /** Waits until received changes on every syncing epoch are on disk (a graceful stop). */
  async saved(): Promise<void> {
    for (const e of this.docs.values()) await e.replica.saved();
  }

  /** One live epoch's document (the live one or a closed one not yet archived). */
  epochReplica(docId: string): EpochReplica | undefined {
    return this.docs.get(docId)?.replica;
  }

  /** Greets a car on the live epoch (its own hello restarts the closed ones it still holds). */
  hello(vehicleId: string): Promise<void> {
    return this.sync.hello(vehicleId);
  }

  /**
   * One sync message from a car, routed by the document it names. A message for an archived epoch
   * reopens it: a car away for days still delivers its edits, and they are forwarded.
   */
  async route(topic: string, payload: Buffer): Promise<void> {
    let docId: string | undefined;
    try {
      docId = decodeEnvelope(payload).docId;
    } catch {
      // The live epoch's sync refuses it with the reason, and counts it.
      return this.sync.handle(topic, payload);
    }
    let target = this.docs.get(docId);
    if (!target && docId.startsWith(`${this.opts.sector}@`)) target = await this.reopen(docId);
    if (!target) {
      this.opts.log.debug({ docId }, 'sync for an epoch this station never had ignored');
      return;
    }
    await target.sync.handle(topic, payload);
  }

  /** Publishes the live epoch, retained; a car subscribing later still gets it. */
  async announce(): Promise<void> {
    if (!this.opts.publisher.isOnline()) return;
    const doc = this.live.doc;
    const previous = txt(doc.openedFrom?.epoch);
    const body = encodeEpochAnnouncement({
      v: 1,
      sector: this.opts.sector,
      precinct: this.opts.precinct,
      epoch: this.epoch,
      ...(previous !== undefined ? { previous } : {}),
      at: doc.openedFrom?.at ?? 0,
    });
    await this.opts.publisher
      .publish(topics.epoch(this.opts.sector, this.opts.precinct), body, { qos: 1, retain: true })
      .catch((err: unknown) => this.opts.log.warn({ err, sector: this.opts.sector }, 'epoch announcement not published; sent again on reconnect'));
  }

  /**
   * The cut: closes the live epoch, opens `nextEpoch` (default: the service day of `at`) with the
   * live work carried over, switches the live board to it and announces it. Returns what was
   * carried, or undefined when the live epoch already is `nextEpoch`.
   */
  rollover(at = this.now(), nextEpoch?: string): Promise<RolloverResult['carried'] | undefined> {
    return this.serial(async () => {
      const cur = this.live.current;
      const next = nextEpoch ?? nextEpochId(cur.epoch, at, this.opts.timeZone);
      if (next === cur.epoch) return undefined;
      let result: RolloverResult | undefined;
      // Step 1, durable: the closed marker, the record that a cut is under way.
      await cur.update((d) => {
        result = rolloverEpoch(d, next, cutContext(this.opts.precinct, at), newActorId());
        return result.closed;
      });
      // Step 2, durable: the new epoch's genesis and carry-over.
      const carried = result!;
      const opened = await EpochReplica.open({ store: this.opts.store, sector: this.opts.sector as SectorId, epoch: next, actorId: newActorId(), log: this.opts.log });
      await opened.update((d) => Automerge.merge(d, carried.next));
      this.attach(opened);
      this.entry(cur).activeAt = at;
      // Step 3: holders of the live board (dispatch, API, console) move on; cars are told.
      this.live.switchTo(opened);
      this.opts.log.info(
        { sector: this.opts.sector, from: cur.epoch, to: next, calls: carried.carried.calls.length, units: carried.carried.units.length, reports: carried.carried.reports.length },
        'sector board rolled over to a new epoch',
      );
      await this.announce();
      return carried.carried;
    });
  }

  /**
   * Archives each closed epoch that has been quiet for the grace period: after a last forward,
   * one snapshot in the archive store, and its live files removed. Returns the archived doc ids.
   */
  archiveDue(now = this.now()): Promise<string[]> {
    return this.serial(async () => {
      const done: string[] = [];
      for (const [docId, e] of [...this.docs]) {
        if (e.replica === this.live.current) continue;
        const closed = e.replica.doc.closed;
        if (!closed || Math.max(closed.at, e.activeAt) + this.opts.keepClosedMs > now) continue;
        // The archive is read back from disk: late edits still being written must be there first.
        if (!(await e.replica.saved())) {
          this.opts.log.warn({ docId }, 'closed epoch not archived yet: received changes are not on disk');
          continue;
        }
        await this.forwardNow(e.replica);
        this.docs.delete(docId);
        // Its sync and our forwarder go with it; a car that comes back later reopens it.
        e.sync.close();
        e.replica.removeAllListeners('applied');
        e.replica.removeAllListeners('durable');
        e.replica.retire();
        await archiveEpoch({ live: this.opts.store, archive: this.opts.archive, docId, log: this.opts.log });
        await this.opts.forgetSyncStates(docId);
        done.push(docId);
      }
      return done;
    });
  }

  private entry(rep: EpochReplica): EpochDoc {
    const e = this.docs.get(rep.docId);
    if (!e) throw new Error(`epoch ${rep.docId} is not attached`);
    return e;
  }

  private attach(rep: EpochReplica, activeAt = this.now()): EpochDoc {
    const e: EpochDoc = { replica: rep, sync: this.opts.makeSync(rep), activeAt };
    this.docs.set(rep.docId, e);
    // On 'applied', not 'change': this needs no view, and a 'change' listener makes the document
    // derive one (linear in the board) after every change a car sends.
    rep.on('applied', () => {
      e.activeAt = this.now();
      // A closed epoch that changed received late edits (or a write that was queued across the
      // cut): they belong in the successor too.
      if (closedInto(rep.doc) !== undefined) void this.serial(() => this.forwardNow(rep)).catch((err: unknown) => this.opts.log.error({ err, docId: rep.docId }, 'late edits not forwarded'));
    });
    return e;
  }

  /** Copies late edits of a closed epoch into its successor (reopened from the archive if need be). */
  private async forwardNow(from: EpochReplica): Promise<void> {
    const next = closedInto(from.doc);
    if (next === undefined) return;
    const docId = docIdOf(this.opts.sector, next);
    const target = this.docs.get(docId) ?? (await this.reopen(docId));
    if (!target) {
      this.opts.log.error({ from: from.docId, to: docId }, 'successor epoch is neither live nor archived; late edits stay in the closed epoch');
      return;
    }
    const before = Automerge.getHeads(target.replica.doc);
    await target.replica.update((d) => forwardLateEdits(from.doc, d, cutContext(this.opts.precinct, this.now())));
    if (Automerge.getHeads(target.replica.doc).join() !== before.join()) this.opts.log.info({ from: from.docId, to: docId }, 'late edits forwarded to the next epoch');
  }

  /** Brings an archived epoch back into the live store so a late car can sync with it. */
  private reopen(docId: string): Promise<EpochDoc | undefined> {
    let p = this.reopening.get(docId);
    if (!p) {
      p = (async () => {
        const live = this.docs.get(docId);
        if (live) return live;
        const archived = await this.opts.archive.load(docId);
        if (!archived) return undefined;
        await this.opts.store.saveSnapshot(docId, archived);
        const epoch = docId.slice(this.opts.sector.length + 1);
        const rep = await EpochReplica.open({ store: this.opts.store, sector: this.opts.sector as SectorId, epoch, actorId: newActorId(), log: this.opts.log });
        this.opts.log.info({ docId }, 'archived epoch reopened for a late car');
        return this.attach(rep);
      })().finally(() => this.reopening.delete(docId));
      this.reopening.set(docId, p);
    }
    return p;
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function cutContext(precinct: string, at: number): OpContext {
  return { by: { kind: 'policy', precinct }, at };
}
