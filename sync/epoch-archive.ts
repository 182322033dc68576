// Moving a closed epoch from the live store to the archive store: one compact snapshot per
// closed board. The archive is still an Automerge document, so a very late edit (a car that was
// offline for days) can still be merged into it and forwarded (sync/epoch.ts).
import * as Automerge from '@automerge/automerge';
import { readBoard } from './board.js';
import type { FileDocStore } from './doc-store.js';
import { BoardError, silentLogger, type Logger } from './schema.js';

export interface ArchiveResult {
  docId: string;
  bytes: number;
  calls: number;
}

/**
 * Archives a closed epoch: snapshot into `archive`, then remove from `live`. Refuses a board that
 * was not closed (its calls may still be live) with BoardError epoch_mismatch.
 */
export async function archiveEpoch(opts: { live: FileDocStore; archive: FileDocStore; docId: string; log?: Logger }): Promise<ArchiveResult> {
  const log = opts.log ?? silentLogger;
  const doc = await opts.live.load(opts.docId);
  if (!doc) throw new BoardError('not_found', `archiveEpoch: ${opts.docId} is not in the live store`);
  const view = readBoard(doc);
  if (!view.closed) throw new BoardError('epoch_mismatch', `archiveEpoch: ${opts.docId} is still open; roll it over first`);
  const existing = await opts.archive.load(opts.docId);
  const full = existing ? Automerge.merge(existing, doc) : doc;
  await opts.archive.saveSnapshot(opts.docId, full);
  const bytes = await opts.archive.sizeOf(opts.docId);
  await opts.live.remove(opts.docId);
  log.info({ docId: opts.docId, bytes, calls: Object.keys(view.calls).length }, 'sector board epoch archived');
  return { docId: opts.docId, bytes, calls: Object.keys(view.calls).length };
}
