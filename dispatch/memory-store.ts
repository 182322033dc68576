// A DocStore that keeps boards in memory: for the replay, which runs a precinct's boards through
// days of simulated time in seconds and has nothing to keep afterwards (an fsync per change would
// make it a hundred times slower). Never used by a running precinct.
import * as Automerge from '@automerge/automerge';
import type { DocStore } from '../sync/doc-store.js';
import type { SectorBoard } from '../sync/board.js';

export class MemoryDocStore implements DocStore {
  private readonly live = new Map<string, SectorBoard>();

  async load(docId: string, actorId?: string): Promise<SectorBoard | undefined> {
    const doc = this.live.get(docId);
    return doc ? Automerge.clone(doc, actorId) : undefined;
  }

  async save(docId: string, doc: SectorBoard): Promise<void> {
    this.live.set(docId, doc);
  }

  async list(): Promise<string[]> {
    return [...this.live.keys()];
  }
}
