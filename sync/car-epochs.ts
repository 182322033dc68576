// A car's side of epochs. The car never cuts by its own clock: it follows the epoch its home
// precinct announces (sync/epoch-announce.ts). On an announcement it opens the new epoch's
// document and syncs it; once the precinct's carry-over has arrived it forwards its own late
// edits from the old epoch (notes or statuses made offline across the cut; only its own, see
// forwardLateEdits), switches the live
// board (the screen just sees a change) and keeps the old epoch syncing as a trailing document
// until the precinct holds every change of it and has closed it; then the car drops its copy.
//
// Restart-safe: `epoch.json` records the live epoch and the announced one not yet switched to;
// any other document of the sector on disk is trailing and resumes syncing once openTrailing()
// has opened it (a car does that after its screen is up: the officer never waits for old epochs).
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import { docIdOf } from './board.js';
import type { DocStore } from './doc-store.js';
import { decodeEnvelope } from './envelope.js';
import { forwardLateEdits, type ForwardOnly } from './epoch.js';
import type { Logger } from './logger.js';
import { txt } from './ops/common.js';
import type { PeerSync } from './peer-sync.js';
import { EpochReplica, newActorId, SectorReplica } from './replica.js';
import type { OpContext, SectorId } from './schema.js';

/** What the car's epochs need of a store: documents it can also drop once they are retired. */
export interface EpochDocStore extends DocStore {
  remove(docId: string): Promise<void>;
}

export interface CarEpochsOptions {
  sector: string;
  store: EpochDocStore;
  /** Where the live and announced epochs are recorded (atomic writes). */
  stateFile: string;
  /** Epoch of a car that has never heard an announcement. */
  initialEpoch: string;
  /** The home precinct's peer id. */
  home: string;
  makeSync(replica: EpochReplica): PeerSync<unknown>;
  /** Drops the sync state of a document the car no longer holds. */
  forgetSyncStates(docId: string): Promise<void>;
  /** The author of forwarded edits: this car. */
  ctx(): OpContext;
  /** This car: it forwards only its own edits (the precinct forwards the rest). */
  self: ForwardOnly;
  log: Logger;
}

interface EpochDoc {
  replica: EpochReplica;
  sync: PeerSync<unknown>;
  /** Removes our own change listener (the sync keeps its own). */
  unwatch?: () => void;
}

interface EpochFile {
  live: string;
  announced?: string;
}


async function readEpochFile(file: string, log: Logger): Promise<EpochFile | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const o = JSON.parse(raw) as Partial<EpochFile>;
    if (typeof o.live !== 'string') throw new Error('live: expected an epoch id');
    return { live: o.live, ...(typeof o.announced === 'string' ? { announced: o.announced } : {}) };
  } catch (err) {
    // Written atomically, so this is damage: the documents on disk are all still there, and the
    // next announcement tells the car which one is live.
    log.error({ file, err: (err as Error).message }, 'epoch file unreadable; starting on the initial epoch until the precinct announces one');
    return undefined;
  }
}

export class CarEpochs {
  readonly live: SectorReplica;
  private current: EpochDoc;
  private announced: EpochDoc | undefined;
  private readonly trailing = new Map<string, EpochDoc>();
  /** Trailing epochs found on disk at open, not opened yet (openTrailing). */
  private unopened: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly opts: CarEpochsOptions,
    current: EpochDoc,
  ) {
    this.current = current;
    this.live = new SectorReplica(current.replica, opts.log);
  }

  static async open(opts: CarEpochsOptions): Promise<CarEpochs> {
    const { store, sector, log } = opts;
    const file = await readEpochFile(opts.stateFile, log);
    const liveEpoch = file?.live ?? opts.initialEpoch;
    const open = (epoch: string) => EpochReplica.open({ store, sector: sector as SectorId, epoch, actorId: newActorId(), log });
    const live = await open(liveEpoch);
    const epochs = new CarEpochs(opts, { replica: live, sync: opts.makeSync(live) });
    for (const docId of await store.list()) {
      if (!docId.startsWith(`${sector}@`) || docId === live.docId) continue;
      const epoch = docId.slice(sector.length + 1);
      if (epoch === file?.announced) epochs.setAnnounced(await open(epoch));
      else epochs.unopened.push(epoch);
    }
    // Killed after the carry-over arrived but before switching: switch now, before any screen.
    await epochs.serial(() => epochs.switchIfReady());
    return epochs;
  }

  /**
   * Opens the trailing epochs found on disk at open() so they sync again; call it before the link
   * connects (hello() greets only open documents). One that cannot be opened is logged and left
   * on disk: the live board does not depend on it.
   */
  openTrailing(): Promise<void> {
    return this.serial(async () => {
      for (const epoch of this.unopened.splice(0)) {
        try {
          const rep = await EpochReplica.open({ store: this.opts.store, sector: this.opts.sector as SectorId, epoch, actorId: newActorId(), log: this.opts.log });
          this.addTrailing(rep);
        } catch (err) {
          this.opts.log.error({ err, epoch }, 'trailing epoch not opened; it stays on disk and does not sync until the next start');
        }
      }
    });
  }

  get epoch(): string {
    return this.current.replica.epoch;
  }

  /** The live epoch's sync with the home precinct. */
  get sync(): PeerSync<unknown> {
    return this.current.sync;
  }

  /** Waits until received changes on every epoch we hold are on disk (a graceful stop). */
  async saved(): Promise<void> {
    for (const e of [this.current, ...(this.announced ? [this.announced] : []), ...this.trailing.values()]) await e.replica.saved();
  }

  /** Documents still syncing besides the live one (the announced one and trailing ones). */
  pendingDocIds(): string[] {
    return [...(this.announced ? [this.announced.replica.docId] : []), ...this.trailing.keys()];
  }

  /** Whether the precinct holds every change of ours, on every epoch we still sync. */
  inSync(): boolean {
    return [this.current, ...this.trailing.values()].every((e) => e.sync.inSync(this.opts.home));
  }

  /** On every connect: restart a round on every document we sync. */
  async hello(): Promise<void> {
    for (const e of this.all()) await e.sync.hello(this.opts.home);
  }

  /** One sync message, routed by the document it names. */
  async route(topic: string, payload: Buffer): Promise<void> {
    let docId: string;
    try {
      docId = decodeEnvelope(payload).docId;
    } catch {
      return this.current.sync.handle(topic, payload); // refused there, with the reason
    }
    const target = this.all().find((e) => e.replica.docId === docId);
    if (!target) {
      this.opts.log.debug({ docId }, 'sync for an epoch this car does not hold ignored');
      return;
    }
    await target.sync.handle(topic, payload);
    const trailing = this.trailing.get(docId);
    if (trailing) await this.serial(() => this.retireIfDone(trailing));
  }

  /** The home precinct announced its live epoch. */
  announce(epoch: string): Promise<void> {
    return this.serial(async () => {
      if (epoch === this.epoch || epoch === this.announced?.replica.epoch) return;
      const old = this.announced;
      if (old) {
        // Superseded before its carry-over arrived: it holds nothing of ours (we write to it only
        // when switching), so it can go.
        this.announced = undefined;
        old.replica.removeAllListeners('change');
        old.sync.close();
        old.replica.retire();
        await this.opts.store.remove(old.replica.docId);
      }
      const trailing = this.trailing.get(docIdOf(this.opts.sector, epoch));
      if (trailing) {
        // Announced again after we left it (a precinct restored from backup): leave it trailing.
        this.opts.log.error({ epoch, live: this.epoch }, 'precinct announced an epoch this car already left; staying on the live one');
        return;
      }
      const rep = await EpochReplica.open({ store: this.opts.store, sector: this.opts.sector as SectorId, epoch, actorId: newActorId(), log: this.opts.log });
      await this.writeFile(epoch);
      this.opts.log.info({ epoch, live: this.epoch }, 'precinct announced a new epoch; fetching its board');
      const e = this.setAnnounced(rep);
      await e.sync.hello(this.opts.home);
      await this.switchIfReady();
    });
  }

  private all(): EpochDoc[] {
    return [this.current, ...(this.announced ? [this.announced] : []), ...this.trailing.values()];
  }

  private setAnnounced(rep: EpochReplica): EpochDoc {
    const e: EpochDoc = { replica: rep, sync: this.opts.makeSync(rep) };
    this.announced = e;
    this.watch(e, () => this.switchIfReady());
    return e;
  }

  private addTrailing(rep: EpochReplica): EpochDoc {
    return this.makeTrailing({ replica: rep, sync: this.opts.makeSync(rep) });
  }

  private makeTrailing(e: EpochDoc): EpochDoc {
    this.trailing.set(e.replica.docId, e);
    this.watch(e, () => this.forward(e));
    return e;
  }

  /** Runs `fn` (serialised) after every change of the document; replaces an earlier watch. */
  private watch(e: EpochDoc, fn: () => Promise<void>): void {
    e.unwatch?.();
    const listener = () => void this.serial(fn).catch((err: unknown) => this.opts.log.error({ err, docId: e.replica.docId }, 'epoch step failed'));
    e.replica.on('change', listener);
    e.unwatch = () => e.replica.off('change', listener);
  }

  /**
   * Switches once the announced epoch holds the precinct's carry-over: before that it is an empty
   * board, and the officer keeps working on the old one (those edits are forwarded too).
   */
  private async switchIfReady(): Promise<void> {
    const next = this.announced;
    if (!next || next.replica.doc.openedFrom === undefined) return;
    const old = this.current;
    this.announced = undefined;
    next.unwatch?.();
    this.current = next;
    const trailing = this.makeTrailing(old);
    await this.forward(trailing);
    this.live.switchTo(next.replica);
    await this.writeFile();
    this.opts.log.info({ from: old.replica.epoch, to: next.replica.epoch }, 'car switched to the new epoch');
    // A fresh round on the old epoch: its answer tells whether the precinct holds all of it, and
    // the trailing copy retires then (route()). Until then nothing says so: the last round may
    // have been reset by a greeting.
    await trailing.sync.hello(this.opts.home);
    await this.retireIfDone(trailing);
  }

  /** Forwards what the trailing epoch holds and the live one lacks (idempotent). */
  private async forward(from: EpochDoc): Promise<void> {
    const into = txt(from.replica.doc.closed?.nextEpoch);
    // Closed into an epoch other than ours: the car skipped epochs; the precinct, which holds the
    // whole chain, forwards step by step once it has our changes.
    if (into !== undefined && into !== this.epoch) return;
    if (!this.trailing.has(from.replica.docId)) return;
    await this.current.replica.update((d) => forwardLateEdits(from.replica.doc, d, this.opts.ctx(), this.opts.self));
  }

  /** Drops a trailing epoch once the precinct has closed it and holds every change of ours. */
  private async retireIfDone(e: EpochDoc): Promise<void> {
    if (!this.trailing.has(e.replica.docId)) return;
    if (e.replica.doc.closed === undefined || !e.sync.inSync(this.opts.home)) return;
    await this.forward(e);
    // A write queued on this epoch before the switch may still be running: let it land, and keep
    // the epoch until the precinct holds that change too (the next routed message checks again).
    // Dropped meanwhile, the change would be on no disk and sent to no one.
    await e.replica.drain();
    if (!this.trailing.has(e.replica.docId) || !e.sync.inSync(this.opts.home)) return;
    this.trailing.delete(e.replica.docId);
    e.replica.removeAllListeners('change');
    e.sync.close();
    e.replica.retire();
    await this.opts.store.remove(e.replica.docId);
    await this.opts.forgetSyncStates(e.replica.docId);
    this.opts.log.info({ docId: e.replica.docId }, 'trailing epoch fully synced with the precinct; local copy dropped');
  }

  private writeFile(announced?: string): Promise<void> {
    const body: EpochFile = { live: this.epoch, ...(announced ? { announced } : {}) };
    return writeFileAtomic(this.opts.stateFile, JSON.stringify(body));
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
