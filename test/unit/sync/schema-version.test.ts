import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { addNote, createBoard, createCall, readBoard, upgradeBoard, type Migration, type SectorBoard } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { SectorReplica } from '../../../sync/replica.js';
import { SCHEMA_VERSION, type StoredBoard } from '../../../sync/schema.js';
import { at, dispatcher, hexActor, SECTOR } from '../../helpers/board-fixtures.js';

/** What a future daemon (schema 2) would write: the version bump plus a field we do not know. */
function fromTheFuture(): SectorBoard {
  let d = createBoard(SECTOR, 'e1', hexActor(1));
  d = createCall(d, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main', beat: 'B31' }, at(dispatcher, 1));
  return Automerge.change(d, (x) => {
    x.schemaVersion = SCHEMA_VERSION + 1;
    (x as StoredBoard & { tags: Record<string, string> }).tags = {};
  });
}

describe('schema versioning', () => {
  it('an older daemon refuses a newer board with a clear BoardError and writes nothing', async () => {
    const future = fromTheFuture();
    expect(() => readBoard(future)).toThrow(expect.objectContaining({ code: 'schema_too_new', message: expect.stringMatching(/schema version 2, this daemon understands up to 1: upgrade the daemon/) }));
    expect(() => addNote(future, { callId: 'C1', text: 'x' }, at(dispatcher, 2))).toThrow(expect.objectContaining({ code: 'schema_too_new' }));

    const dir = await mkdtemp(join(tmpdir(), 'mdt-schema-'));
    try {
      const store = new FileDocStore(dir);
      await store.save(`${SECTOR}@e1`, future);
      await store.close();
      const before = await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f))));
      await expect(SectorReplica.open({ store: new FileDocStore(dir), sector: SECTOR, epoch: 'e1', actorId: hexActor(2) })).rejects.toMatchObject({ code: 'schema_too_new' });
      const after = await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f))));
      expect(after).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a newer daemon opens an older board by migrating it in one change, and concurrent migrations converge', () => {
    // The migration a schema-2 daemon would ship: add a map for unit tags.
    const v2: Migration[] = [
      {
        from: 1,
        migrate(d) {
          const x = d as StoredBoard & { tags?: Record<string, string> };
          if (!x.tags) x.tags = {};
        },
      },
    ];
    let old = createBoard(SECTOR, 'e1', hexActor(1));
    old = createCall(old, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main', beat: 'B31' }, at(dispatcher, 1));
    expect(upgradeBoard(old, { at: 0 })).toBe(old);
    const a = upgradeBoard(Automerge.clone(old, hexActor(2)), { at: 5_000, target: 2, migrations: v2 });
    const b = upgradeBoard(Automerge.clone(old, hexActor(3)), { at: 6_000, target: 2, migrations: v2 });
    expect(a.schemaVersion).toBe(2);
    const m1 = Automerge.merge(Automerge.clone(a), b);
    const m2 = Automerge.merge(Automerge.clone(b), a);
    expect(Automerge.toJS(m1)).toEqual(Automerge.toJS(m2));
    expect(m1.schemaVersion).toBe(2);
    expect(() => upgradeBoard(old, { at: 0, target: 3, migrations: v2 })).toThrow(expect.objectContaining({ code: 'schema_invalid' }));
  });

  it('genesis is frozen at version 1 so boards of different daemon versions share it', () => {
    const first = (actor: number) => Automerge.decodeChange(Automerge.getAllChanges(createBoard(SECTOR, 'e1', hexActor(actor)))[0] as Automerge.Change);
    expect(first(1)).toEqual(first(2));
    expect(first(1)).toMatchObject({ time: 0, seq: 1 });
    expect(Automerge.view(createBoard(SECTOR, 'e1', hexActor(1)), [first(1).hash as string]).schemaVersion).toBe(1);
  });
});
