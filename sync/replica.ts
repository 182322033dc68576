// A sector's live board. EpochReplica is one document (one sector, one epoch) with its durable
// store and change events: every write (a local operation or changes received from a peer) goes
// through update(), which persists with fsync before it resolves, so what the UI shows as saved
// survives SIGKILL. SectorReplica is what the screen, the API and dispatch hold: it forwards to the
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

function sameHeads(a: Automerge.Heads, b: Automerge.Heads): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

/**
 * 'saved' fires first, once a change is durable and before its view is derived (sync sends it on
 * at once: the view is linear in the board); 'change' then carries the new view.
 */
export class EpochReplica extends EventEmitter<{ saved: []; change: [BoardView] }> {
  readonly docId: string;
  private current: SectorBoard;
  private cachedView: { heads: Automerge.Heads; view: BoardView } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private writing = false;

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

  /**
   * Resolves when no write is in flight. Sync waits for this before reading the document: while
   * a change is being saved, the document already holds it, and a save that then fails rolls it
   * back, so a change sent meanwhile would reach peers without being on our disk (and its
   * sequence number would be reused by our next change, which peers then refuse forever).
   */
  async whenIdle(): Promise<void> {
    while (this.writing) await this.queue;
  }

  /** Whether a change is being written now (see whenIdle). */
  get busy(): boolean {
    return this.writing;
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
      this.writing = true;
      return this.write(fn).finally(() => {
        this.writing = false;
      });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(fn: (doc: SectorBoard) => SectorBoard): Promise<SectorBoard> {
    const before = this.current;
    const headsBefore = Automerge.getHeads(before);
    let next: SectorBoard;
    try {
      next = fn(before);
    } catch (err) {
      this.restore(before, headsBefore);
      throw err;
    }
    if (sameHeads(headsBefore, Automerge.getHeads(next))) {
      // No new change, but Automerge may still have replaced the document object (a sync
      // receive always does) and marked the old one outdated: keep the new one current.
      this.current = next;
      return next;
    }
    try {
      await this.store.save(this.docId, next);
    } catch (err) {
      this.log.error({ docId: this.docId, err }, 'sector board change not saved; rolled back');
      // A new actor for what follows: should the unsaved change have escaped anyway, our next
      // change must not reuse its sequence number.
      this.actorId = randomBytes(16).toString('hex');
      this.restore(before, headsBefore);
      throw err;
    }
    this.current = next;
    this.emitSaved();
    this.emitChange();
    return next;
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

  private emitSaved(): void {
    for (const l of this.listeners('saved') as Array<() => void>) {
      try {
        l();
      } catch (err) {
        this.log.error({ docId: this.docId, err }, 'sector board saved listener threw');
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
export class SectorReplica extends EventEmitter<{ saved: []; change: [BoardView] }> {
  private inner: EpochReplica;
  private readonly relay = (view: BoardView) => this.emitChange(view);
  private readonly relaySaved = () => this.emit('saved');

  constructor(
    initial: EpochReplica,
    private readonly log: Logger = silentLogger,
  ) {
    super();
    this.inner = initial;
    initial.on('saved', this.relaySaved);
    // The document derives a view for its change event only while someone listens (the view is
    // linear in the board): relay only while a holder here does. A station without automatic
    // dispatch has no holder, and re-derived the view after every change a car sent.
    const events = this as EventEmitter;
    events.on('newListener', (event: string) => {
      if (event === 'change' && this.listenerCount('change') === 0) this.inner.on('change', this.relay);
    });
    events.on('removeListener', (event: string) => {
      if (event === 'change' && this.listenerCount('change') === 0) this.inner.off('change', this.relay);
    });
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

  whenIdle(): Promise<void> {
    return this.inner.whenIdle();
  }

  get busy(): boolean {
    return this.inner.busy;
  }

  /** Makes `next` the live document and tells every holder with a change event. */
  switchTo(next: EpochReplica): void {
    if (next === this.inner) return;
    this.inner.off('change', this.relay);
    this.inner.off('saved', this.relaySaved);
    this.inner = next;
    if (this.listenerCount('change') > 0) next.on('change', this.relay);
    next.on('saved', this.relaySaved);
    this.log.info({ docId: next.docId }, 'live sector board switched to a new epoch');
    this.emitChange(next.view());
  }

  private emitChange(view: BoardView): void {
    for (const l of this.listeners('change') as Array<(v: BoardView) => void>) {
      try {
        l(view);
      } catch (err) {
        this.log.error({ docId: this.inner.docId, err }, 'sector board change listener threw');
      }
    }
  }
}
