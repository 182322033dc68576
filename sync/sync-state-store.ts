// Persisted Automerge sync states, one per (document, peer). encodeSyncState keeps only the
// heads both sides are known to share (about 34 B), and with it a reconnect (or a restart) costs
// an incremental round of about 250 B instead of a Bloom filter over the whole history of about
// 7.8 KB each way (notes/sync-stack.md b2 vs b3).
//
// Writes are debounced and not on the acknowledgement path: a lost or stale state only costs a
// larger round. Automerge copes with shared heads the peer no longer has (it answers with a
// reset), so an old state is safe, merely slower.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { Logger } from './logger.js';

export interface SyncStateStore {
  load(docId: string, peer: string): Uint8Array | undefined;
  save(docId: string, peer: string, state: Uint8Array): void;
  flush(): Promise<void>;
  /** Drops every peer's state for a document this replica no longer syncs (an archived epoch). */
  forgetDoc(docId: string): Promise<void>;
}

const SAFE = /^[A-Za-z0-9_.@-]{1,64}$/;
const SEP = '~';
const EXT = '.syncstate';

/** In memory only (tests, and a car with no state directory). */
export class MemorySyncStateStore implements SyncStateStore {
  private readonly states = new Map<string, Uint8Array>();
  load(docId: string, peer: string): Uint8Array | undefined {
    return this.states.get(`${docId}${SEP}${peer}`);
  }
  save(docId: string, peer: string, state: Uint8Array): void {
    this.states.set(`${docId}${SEP}${peer}`, state);
  }
  async flush(): Promise<void> {}
  async forgetDoc(docId: string): Promise<void> {
    for (const key of [...this.states.keys()]) if (key.startsWith(`${docId}${SEP}`)) this.states.delete(key);
  }
}

export class FileSyncStateStore implements SyncStateStore {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly states: Map<string, Uint8Array>,
    private readonly log: Logger,
    private readonly debounceMs: number,
  ) {}

  /** Loads every saved state of the directory (they are tiny: one file per car and document). */
  static async open(dir: string, log: Logger, debounceMs = 1000): Promise<FileSyncStateStore> {
    await mkdir(dir, { recursive: true });
    const states = new Map<string, Uint8Array>();
    for (const name of await readdir(dir)) {
      if (!name.endsWith(EXT)) continue;
      const key = name.slice(0, -EXT.length);
      try {
        states.set(key, new Uint8Array(await readFile(join(dir, name))));
      } catch (err) {
        log.warn({ file: name, err }, 'sync state unreadable; that peer gets a full round');
      }
    }
    return new FileSyncStateStore(dir, states, log, debounceMs);
  }

  load(docId: string, peer: string): Uint8Array | undefined {
    return this.states.get(`${docId}${SEP}${peer}`);
  }

  save(docId: string, peer: string, state: Uint8Array): void {
    if (!SAFE.test(docId) || !SAFE.test(peer)) return; // never a path from the wire
    const key = `${docId}${SEP}${peer}`;
    const old = this.states.get(key);
    if (old && Buffer.compare(old, state) === 0) return;
    this.states.set(key, state);
    this.dirty.add(key);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.debounceMs);
      this.timer.unref();
    }
  }

  /** Writes every changed state now (also on shutdown). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    const run = this.writing.then(async () => {
      for (const key of keys) {
        const state = this.states.get(key);
        if (!state) continue;
        try {
          await writeFileAtomic(join(this.dir, `${key}${EXT}`), state, 0o600);
        } catch (err) {
          this.log.warn({ key, err }, 'sync state not saved; the next reconnect costs a full round');
        }
      }
    });
    this.writing = run;
    return run;
  }

  async forgetDoc(docId: string): Promise<void> {
    const keys = [...this.states.keys()].filter((k) => k.startsWith(`${docId}${SEP}`));
    for (const key of keys) {
      this.states.delete(key);
      this.dirty.delete(key);
    }
    // After any write of these states that is under way, so none comes back.
    await this.writing;
    for (const key of keys) await rm(join(this.dir, `${key}${EXT}`), { force: true });
  }
}
