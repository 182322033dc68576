import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNote, createCall, readBoard, upsertUnit } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { EpochReplica, SectorReplica } from '../../../sync/replica.js';
import type { BoardView } from '../../../sync/schema.js';
import { at, dispatcher, hexActor, SECTOR } from '../../helpers/board-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-replica-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SectorReplica', () => {
  it('persists every acknowledged update and reopens with it', async () => {
    const store = new FileDocStore(dir);
    const r = await SectorReplica.open({ store, sector: SECTOR, epoch: 'e1', actorId: hexActor(7) });
    expect(r.docId).toBe(`${SECTOR}@e1`);
    const seen: BoardView[] = [];
    r.on('change', (v) => seen.push(v));
    await r.update((d) => createCall(d, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main', beat: 'B31' }, at(dispatcher, 1)));
    await r.update((d) => addNote(d, { callId: 'C1', text: 'note' }, at(dispatcher, 2)));
    expect(seen).toHaveLength(2);
    expect(seen[1]?.calls.C1?.notes).toHaveLength(1);
    await store.close();

    const again = await SectorReplica.open({ store: new FileDocStore(dir), sector: SECTOR, epoch: 'e1', actorId: hexActor(7) });
    expect(again.view().calls.C1?.notes[0]?.text).toBe('note');
    expect(Automerge.getActorId(again.doc)).toBe(hexActor(7));
  });

  it('serialises concurrent updates and leaves the board intact when an update throws', async () => {
    const store = new FileDocStore(dir);
    const r = await SectorReplica.open({ store, sector: SECTOR, epoch: 'e1', actorId: hexActor(8) });
    const ops = Array.from({ length: 10 }, (_, i) =>
      r.update((d) => upsertUnit(d, { id: `U${i}`, callSign: `U-${i}`, homeBeat: 'B31', mode: 'car' }, at(dispatcher, i))),
    );
    // A multi-step update failing half-way must not leave its first step behind.
    const bad = r.update((d) => {
      const d1 = createCall(d, { cadNumber: 'C7', type: 'X', priority: 3, address: 'a', beat: 'B31' }, at(dispatcher, 20));
      return createCall(d1, { cadNumber: 'C7', type: 'X', priority: 3, address: 'a', beat: 'B31' }, at(dispatcher, 20));
    });
    await Promise.all(ops);
    await expect(bad).rejects.toMatchObject({ code: 'exists' });
    expect(Object.keys(r.view().units)).toHaveLength(10);
    expect(r.view().calls.C7).toBeUndefined();
    await r.update((d) => createCall(d, { cadNumber: 'C8', type: 'X', priority: 3, address: 'a', beat: 'B31' }, at(dispatcher, 21)));
    await store.close();
    const reopened = await new FileDocStore(dir).load(r.docId);
    expect(reopened && Object.keys(readBoard(reopened).calls)).toEqual(['C8']);
  });

  it('derives views for change events only while someone listens, across an epoch switch', async () => {
    const store = new FileDocStore(dir);
    const r = await SectorReplica.open({ store, sector: SECTOR, epoch: 'e1', actorId: hexActor(9) });
    const call = (n: number) => (d: Parameters<typeof createCall>[0]) => createCall(d, { cadNumber: `C${n}`, type: 'X', priority: 3, address: 'a', beat: 'B31' }, at(dispatcher, n));
    // Nobody listens: the document emits no change event, so derives no view.
    expect(r.current.listenerCount('change')).toBe(0);
    await r.update(call(1));

    const seen: string[][] = [];
    const listener = (v: BoardView) => seen.push(Object.keys(v.calls).sort());
    r.on('change', listener);
    await r.update(call(2));
    expect(seen).toEqual([['C1', 'C2']]);

    const next = await EpochReplica.open({ store, sector: SECTOR, epoch: 'e2', actorId: hexActor(9) });
    r.switchTo(next);
    await r.update(call(3));
    expect(seen).toEqual([['C1', 'C2'], [], ['C3']]);

    r.off('change', listener);
    expect(next.listenerCount('change')).toBe(0);
    await r.update(call(4));
    expect(seen).toHaveLength(3);
    expect(Object.keys(r.view().calls).sort()).toEqual(['C3', 'C4']);
    await store.close();
  });

  it('lets writes queued on an epoch land before it is dropped, and refuses writes to a dropped epoch', async () => {
    const store = new FileDocStore(dir);
    const old = await EpochReplica.open({ store, sector: SECTOR, epoch: 'e1', actorId: hexActor(10) });
    // Queued together, as an officer's tap can be just before the car switches epochs.
    const first = old.update((d) => createCall(d, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main', beat: 'B31' }, at(dispatcher, 1)));
    const second = old.update((d) => addNote(d, { callId: 'C1', text: 'queued' }, at(dispatcher, 2)));
    await old.drain();
    // Both resolved and on disk before drain() returns: the car may only then decide to drop it.
    await expect(first).resolves.toBeDefined();
    await expect(second).resolves.toBeDefined();
    expect(readBoard((await new FileDocStore(dir).load(`${SECTOR}@e1`))!).calls.C1?.notes[0]?.text).toBe('queued');
    old.retire();
    const heads = Automerge.getHeads(old.doc);
    await expect(old.update((d) => addNote(d, { callId: 'C1', text: 'too late' }, at(dispatcher, 3)))).rejects.toThrow(/retired/);
    expect(Automerge.getHeads(old.doc)).toEqual(heads);
    await store.close();
  });
});
