// One live sector board: the current document, its durable store and change events. Every write
// (a local operation or changes received from a peer) goes through update(), which persists with
// fsync before it resolves, so what the UI shows as saved survives SIGKILL.
import { EventEmitter } from 'node:events';
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
export class SectorReplica extends EventEmitter<{ saved: []; change: [BoardView] }> {
  readonly docId: string;
  private current: SectorBoard;
  private cachedView: { heads: Automerge.Heads; view: BoardView } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: DocStore,
    docId: string,
    doc: SectorBoard,
    private readonly actorId: string,
    private readonly log: Logger,
  ) {
    super();
    this.docId = docId;
    this.current = doc;
  }

  static async open(opts: ReplicaOptions): Promise<SectorReplica> {
    const log = opts.log ?? silentLogger;
    const docId = docIdOf(opts.sector, opts.epoch);
    let doc = await opts.store.load(docId, opts.actorId);
    const fresh = doc === undefined;
    // A newer document is refused here (BoardError schema_too_new) before anything can write it.
    doc = doc ? upgradeBoard(doc, { at: Date.now() }) : createBoard(opts.sector, opts.epoch, opts.actorId);
    // Persists the genesis of a fresh board, or a migration change; writes nothing otherwise.
    await opts.store.save(docId, doc);
    log.info({ docId, fresh }, 'sector board opened');
    return new SectorReplica(opts.store, docId, doc, opts.actorId, log);
  }

  get doc(): SectorBoard {
    return this.current;
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
    const run = this.queue.then(async () => {
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
        this.restore(before, headsBefore);
        throw err;
      }
      this.current = next;
      this.emitSaved();
      this.emitChange();
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
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
