// A sector's live board. EpochReplica is one document (one sector, one epoch) with its durable
// store and change events. A local operation goes through update(): the change is on the board
// and sent to peers at once, and update() resolves once it is durable, so what the UI shows as
// saved survives SIGKILL. Changes received from a peer go through receive(): on the board (and
// sent on) at once and written behind (docs/sync-protocol.md §4). SectorReplica is what the screen, the API and dispatch hold: it forwards to the
// current epoch's document and switches to the next one at an epoch cut (sync/precinct-epochs.ts,
// sync/car-epochs.ts) without its holders noticing anything but a change event.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as Automerge from '@automerge/automerge';
import { createBoard, docIdOf, readBoard, upgradeBoard, type SectorBoard } from './board.js';
import type { DocStore } from './doc-store.js';
import { silentLogger, type BoardView, type Logger, type SectorId } from './schema.js';

export interface ReplicaOptions {
  store: DocStore;
  sector: SectorId;
  epoch: string;
  /** This replica's Automerge actor id (hex). Stable per device, distinct across devices. */
  actorId: string;
  log?: Logger;
}

/**
 * A fresh Automerge actor id: every process start and every epoch document gets its own, so a
 * sequence number is never reused (see write()). 8 random bytes rather than a UUID's 16: the actor
 * id travels in every change (a status change is ~215 B), and 2^64 ids leave a collision among a
 * county's devices and restarts at odds far below one in a billion.
 */
export const newActorId = (): string => randomBytes(8).toString('hex');

function sameHeads(a: Automerge.Heads, b: Automerge.Heads): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

/** How long a failed write of received changes waits before it is tried again. */
const RESAVE_AFTER_MS = 1000;

export interface ReplicaEvents {
  /**
   * A change is on the board and may go to peers: a local one once it is durable, a received one
   * at once. Fires before the view is derived (sync sends it on first: the view is linear in the
   * board).
   */
  applied: [];
  /** Everything on the board is on disk (received changes included). */
  durable: [];
  /** The new read model, after 'applied'. */
  change: [BoardView];
}

export class EpochReplica extends EventEmitter<ReplicaEvents> {
  readonly docId: string;
  private current: SectorBoard;
  private cachedView: { heads: Automerge.Heads; view: BoardView } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private writing = false;
  /** Received changes are on the board but not yet all on disk. */
  private behind = false;
  private savingBehind = false;
  private saveBehindAgain = false;
  private resave: NodeJS.Timeout | undefined;
  /** Dropped or archived from disk: nothing more is written behind. */
  private retired = false;

  private constructor(
    private readonly store: DocStore,
    docId: string,
    doc: SectorBoard,
    private actorId: string,
    private readonly log: Logger,
  ) {
    super();
    this.docId = docId;
    this.current = doc;
  }

  static async open(opts: ReplicaOptions): Promise<EpochReplica> {
    const log = opts.log ?? silentLogger;
    const docId = docIdOf(opts.sector, opts.epoch);
    let doc = await opts.store.load(docId, opts.actorId);
    const fresh = doc === undefined;
    // A newer document is refused here (BoardError schema_too_new) before anything can write it.
    doc = doc ? upgradeBoard(doc, { at: Date.now() }) : createBoard(opts.sector, opts.epoch, opts.actorId);
    // Persists the genesis of a fresh board, or a migration change; writes nothing otherwise.
    await opts.store.save(docId, doc);
    log.info({ docId, fresh }, 'sector board opened');
    return new EpochReplica(opts.store, docId, doc, opts.actorId, log);
  }

  get epoch(): string {
    return this.docId.slice(this.docId.indexOf('@') + 1);
  }

  get doc(): SectorBoard {
    return this.current;
  }

  /** Resolves when no local write is in flight. */
  async whenIdle(): Promise<void> {
    while (this.writing) await this.queue;
  }

  /** Resolves once every write queued so far has finished (succeeded or failed). */
  async drain(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.queue;
      await tail;
    } while (tail !== this.queue);
  }

  /**
   * Whether changes on the board are not all on disk yet (received ones written behind, a local
   * one being written). Sync must not persist a peer's shared heads meanwhile: after a crash they
   * would name a change this replica lost, and the peer, believing we have it, would never send
   * it again.
   */
  get unsaved(): boolean {
    return this.behind || this.writing;
  }

  /** The plain read model, cached per document version. */
  view(): BoardView {
    const heads = Automerge.getHeads(this.current);
    if (this.cachedView && sameHeads(this.cachedView.heads, heads)) return this.cachedView.view;
    const view = readBoard(this.current);
    this.cachedView = { heads, view };
    return view;
  }

  /**
   * The single write path: runs fn on the current doc (an operation, or an Automerge sync
   * receive), persists durably (fsync) BEFORE resolving, then emits 'change'. Serialised:
   * concurrent calls queue. If fn throws, or the save fails, the board stays as it was.
   */
  update(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    const run = this.queue.then(() => {
      // A write queued on an epoch that was then dropped would be saved nowhere and sent to no one.
      if (this.retired) throw new Error(`sector board ${this.docId} was retired (its epoch is closed and dropped): write to the live board`);
      this.writing = true;
      return this.write(fn).finally(() => {
        this.writing = false;
      });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs fn on the current doc; if it throws, the board is put back as it was. Without a new
   * change the result becomes current at once: Automerge may still have replaced the document
   * object (a sync receive always does) and marked the old one outdated.
   */
  private apply(fn: (doc: SectorBoard) => SectorBoard): { before: SectorBoard; headsBefore: Automerge.Heads; next: SectorBoard; changed: boolean } {
    const before = this.current;
    const headsBefore = Automerge.getHeads(before);
    let next: SectorBoard;
    try {
      next = fn(before);
    } catch (err) {
      this.restore(before, headsBefore);
      throw err;
    }
    const changed = !sameHeads(headsBefore, Automerge.getHeads(next));
    if (!changed) this.current = next;
    return { before, headsBefore, next, changed };
  }

  /**
   * A local change is on the board and goes to peers ('applied') at once, while it is written:
   * the write is the one disk access on a change's way from car to car, and a car whose disk is
   * slow or failing still gets its status to the precinct. update() resolves only once the change
   * is durable, so what the screen calls saved survives SIGKILL as before; a change sent but not
   * yet durable that dies with the process comes back from the precinct (a restart takes a new
   * actor id, so no sequence number is reused). A failed write (a full disk) keeps the change:
   * peers may hold it already, and rolling it back would only make it return by sync. It is
   * written behind, retried every second like received changes, and update() rejects with the
   * error so the caller knows it is not on this disk yet.
   */
  private async write(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    const { next, changed } = this.apply(fn);
    if (!changed) return next;
    this.current = next;
    this.emitTo('applied');
    // The MQTT client writes what 'applied' published on the next tick (it corks its stream);
    // starting the save from a tick queued after that puts the message on the wire first.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    try {
      await this.store.save(this.docId, next);
    } catch (err) {
      this.log.error({ docId: this.docId, err }, 'sector board change not saved on disk; kept on the board (and sent), written again once the disk takes it');
      this.behind = true;
      this.emitChange();
      this.resaveLater();
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(`change kept but not on disk yet (${e.message}): it is on the board, goes to peers, and is written once the disk takes it`, { cause: err }), { code: e.code });
    }
    // Nothing can be received during a local write (the queue), so this save held everything.
    this.behind = false;
    this.emitChange();
    this.emitTo('durable');
    return next;
  }

  /**
   * The write path of changes received from a peer (serialised with update()): fn runs on the
   * current doc, the result is current and announced at once, and is written behind. A failed
   * write is retried; nothing is rolled back, since the changes are valid and the peer holds them.
   * If fn throws, the board stays as it was.
   */
  receive(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    const run = this.queue.then(() => {
      const { next, changed } = this.apply(fn);
      if (!changed) return next;
      this.current = next;
      this.behind = true;
      this.emitTo('applied');
      this.emitChange();
      this.saveBehind();
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves true once everything on the board is on disk (for code that reads the board back
   * from the store, like the archive), false if that takes longer than timeoutMs.
   */
  async saved(timeoutMs = 5000): Promise<boolean> {
    await this.whenIdle();
    if (!this.behind) return true;
    return new Promise((resolve) => {
      const onDurable = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('durable', onDurable);
        resolve(false);
      }, timeoutMs);
      this.once('durable', onDurable);
    });
  }

  /** The board's files are being removed (dropped or archived): stop writing behind. */
  retire(): void {
    this.retired = true;
    clearTimeout(this.resave);
  }

  /** Writes received changes until the disk holds the board, one write at a time. */
  private saveBehind(): void {
    if (this.retired) return;
    if (this.savingBehind) {
      this.saveBehindAgain = true;
      return;
    }
    this.savingBehind = true;
    void (async () => {
      try {
        do {
          this.saveBehindAgain = false;
          // A local write in flight saves the whole board, received changes included.
          if (this.writing || this.retired) return;
          const doc = this.current;
          try {
            await this.store.save(this.docId, doc);
          } catch (err) {
            this.log.error({ docId: this.docId, err }, 'changes not saved yet; retrying');
            this.resaveLater();
            return;
          }
          if (!this.saveBehindAgain && this.behind && sameHeads(Automerge.getHeads(doc), Automerge.getHeads(this.current))) {
            this.behind = false;
            this.emitTo('durable');
          }
        } while (this.saveBehindAgain);
      } finally {
        this.savingBehind = false;
      }
    })();
  }

  private resaveLater(): void {
    this.resave ??= setTimeout(() => {
      this.resave = undefined;
      this.saveBehind();
    }, RESAVE_AFTER_MS).unref();
  }

  /**
   * Automerge changes a document in place and marks the previous value outdated, so after a
   * failed multi-step fn the old value can be read but not changed any more: a fresh copy at the
   * old heads (with our own actor) becomes the current document again.
   */
  private restore(before: SectorBoard, headsBefore: Automerge.Heads): void {
    // A validation error thrown before any change leaves the document current: nothing to do.
    if (sameHeads(Automerge.getBackend(before).getHeads(), headsBefore)) {
      this.current = before;
      return;
    }
    this.current = Automerge.clone(before, this.actorId);
  }

  private emitTo(event: 'applied' | 'durable'): void {
    for (const l of this.listeners(event) as Array<() => void>) {
      try {
        l();
      } catch (err) {
        this.log.error({ docId: this.docId, err }, `sector board ${event} listener threw`);
      }
    }
  }

  private emitChange(): void {
    if (this.listenerCount('change') === 0) return;
    let view: BoardView;
    try {
      view = this.view();
    } catch (err) {
      this.log.error({ docId: this.docId, err }, 'sector board view failed after a change');
      return;
    }
    // One throwing listener must not stop the others nor the write path (SignalK #2446).
    for (const l of this.listeners('change') as Array<(v: BoardView) => void>) {
      try {
        l(view);
      } catch (err) {
        this.log.error({ docId: this.docId, err }, 'sector board change listener threw');
      }
    }
  }
}

/**
 * The live board of a sector across epochs. Holders (screen, API, dispatch) keep this one object;
 * at a cut it switches to the next epoch's document and emits `change` with the new view. A write
 * queued on the old document before the switch lands there and is forwarded by the epoch wiring.
 */
export class SectorReplica extends EventEmitter<ReplicaEvents> {
  private inner: EpochReplica;
  /**
   * 'change' follows the inner 'applied', and derives the view only when someone here listens:
   * the view is linear in the board, and a board without a screen (a bench car) needs none.
   */
  private readonly relayApplied = () => {
    this.emit('applied');
    if (this.listenerCount('change') > 0) this.emitChange(() => this.inner.view());
  };
  private readonly relayDurable = () => this.emit('durable');

  constructor(
    initial: EpochReplica,
    private readonly log: Logger = silentLogger,
  ) {
    super();
    this.inner = initial;
    this.attach(initial);
  }

  private attach(r: EpochReplica): void {
    r.on('applied', this.relayApplied);
    r.on('durable', this.relayDurable);
  }

  static async open(opts: ReplicaOptions): Promise<SectorReplica> {
    return new SectorReplica(await EpochReplica.open(opts), opts.log);
  }

  /** The current epoch's document. */
  get current(): EpochReplica {
    return this.inner;
  }

  get docId(): string {
    return this.inner.docId;
  }

  get doc(): SectorBoard {
    return this.inner.doc;
  }

  view(): BoardView {
    return this.inner.view();
  }

  update(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    return this.inner.update(fn);
  }

  receive(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    return this.inner.receive(fn);
  }

  get unsaved(): boolean {
    return this.inner.unsaved;
  }

  /** Makes `next` the live document and tells every holder with a change event. */
  switchTo(next: EpochReplica): void {
    if (next === this.inner) return;
    this.inner.off('applied', this.relayApplied);
    this.inner.off('durable', this.relayDurable);
    this.inner = next;
    this.attach(next);
    this.log.info({ docId: next.docId }, 'live sector board switched to a new epoch');
    this.emitChange(() => next.view());
  }

  private emitChange(derive: () => BoardView): void {
    let view: BoardView;
    try {
      view = derive();
    } catch (err) {
      this.log.error({ docId: this.inner.docId, err }, 'sector board view failed after a change');
      return;
    }
    for (const l of this.listeners('change') as Array<(v: BoardView) => void>) {
      try {
        l(view);
      } catch (err) {
        this.log.error({ docId: this.inner.docId, err }, 'sector board change listener threw');
      }
    }
  }
}
