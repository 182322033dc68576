import { constants } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNote, createBoard, createCall, readBoard, type SectorBoard } from '../../../sync/board.js';
import { FileDocStore, fileNameOf, unframe } from '../../../sync/doc-store.js';
import { at, dispatcher, hexActor, SECTOR } from '../../helpers/board-fixtures.js';
import { spyLogger } from '../../helpers/board-log-spy.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DOC = `${SECTOR}@2026-11-27`;

/** Saves a board after each of n notes; returns the heads after every save (index 0 = genesis). */
async function writeNotes(store: FileDocStore, n: number): Promise<{ doc: SectorBoard; headsAfter: string[][] }> {
  let doc = createBoard(SECTOR, '2026-11-27', hexActor(3));
  doc = createCall(doc, { cadNumber: 'C1', type: 'BURG', priority: 2, address: '1 Main', beat: 'B31' }, at(dispatcher, 0));
  await store.save(DOC, doc);
  const headsAfter = [Automerge.getHeads(doc)];
  for (let i = 1; i <= n; i++) {
    doc = addNote(doc, { callId: 'C1', text: `note ${i}` }, at(dispatcher, i));
    await store.save(DOC, doc);
    headsAfter.push(Automerge.getHeads(doc));
  }
  return { doc, headsAfter };
}

describe('FileDocStore', () => {
  it('appends to the change log through a descriptor opened O_DSYNC (each write durable before it returns)', async () => {
    const store = new FileDocStore(dir);
    await writeNotes(store, 2);
    const log = join(dir, `${fileNameOf(DOC)}.log`);
    // The open descriptor of this process that points at the log, and its flags (octal, fdinfo).
    let flags: number | undefined;
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target !== log) continue;
      const m = /^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
      flags = m ? parseInt(m[1]!, 8) : undefined;
    }
    expect(flags, 'the log is open').toBeDefined();
    expect(flags! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags! & constants.O_APPEND).toBe(constants.O_APPEND);
    await store.close();
  });

  it('stores many documents and lists them', async () => {
    const store = new FileDocStore(dir);
    for (const s of ['S1', 'S2', 'S3.x']) await store.save(`${s}@e1`, createBoard(s, 'e1', hexActor(1)));
    expect(await store.list()).toEqual(['S1@e1', 'S2@e1', 'S3.x@e1']);
    expect(await store.load('S9@e1')).toBeUndefined();
    const s2 = await new FileDocStore(dir).load('S2@e1');
    expect(s2 && readBoard(s2).sector).toBe('S2');
    await store.close();
  });

  it('writes nothing for a save without new changes', async () => {
    const store = new FileDocStore(dir);
    const { doc } = await writeNotes(store, 2);
    const size = (await stat(join(dir, `${fileNameOf(DOC)}.log`))).size;
    await store.save(DOC, doc);
    expect((await stat(join(dir, `${fileNameOf(DOC)}.log`))).size).toBe(size);
    await store.close();
  });

  it('compacts the change log into an atomic snapshot once it outgrows it', async () => {
    const store = new FileDocStore(dir, undefined, { compactBytes: 2_000 });
    const { doc } = await writeNotes(store, 60);
    const files = await readdir(dir);
    expect(files.sort()).toEqual([`${fileNameOf(DOC)}.log`, `${fileNameOf(DOC)}.snapshot`]);
    const logSize = (await stat(join(dir, `${fileNameOf(DOC)}.log`))).size;
    const snapSize = (await stat(join(dir, `${fileNameOf(DOC)}.snapshot`))).size;
    expect(logSize).toBeLessThanOrEqual(Math.max(2_000, snapSize));
    await store.close();
    const loaded = await new FileDocStore(dir).load(DOC);
    expect(loaded && Automerge.getHeads(loaded)).toEqual(Automerge.getHeads(doc));
    expect(loaded && readBoard(loaded).calls.C1?.notes).toHaveLength(60);
  });

  it('never drops changes another writer already put on disk', async () => {
    const first = new FileDocStore(dir);
    const { doc } = await writeNotes(first, 3);
    await first.close();
    // A second store that never loaded the doc saves an unrelated lineage: both survive.
    const other = new FileDocStore(dir, undefined, { compactBytes: 1 });
    let stranger = createBoard(SECTOR, '2026-11-27', hexActor(9));
    stranger = createCall(stranger, { cadNumber: 'C2', type: 'THEFT', priority: 3, address: '2 Main', beat: 'B31' }, at(dispatcher, 9));
    await other.save(DOC, stranger);
    await other.close();
    const loaded = await new FileDocStore(dir).load(DOC);
    expect(loaded && Object.keys(readBoard(loaded).calls).sort()).toEqual(['C1', 'C2']);
    expect(loaded && Automerge.hasHeads(loaded, Automerge.getHeads(doc))).toBe(true);
  });

  it('recovers a log truncated at any byte offset up to the last whole change, with a warning', async () => {
    const store = new FileDocStore(dir);
    const { headsAfter } = await writeNotes(store, 25);
    await store.close();
    // The first save wrote a snapshot (genesis + call); each note after it is one log record.
    const logPath = join(dir, `${fileNameOf(DOC)}.log`);
    const snapshot = await readFile(join(dir, `${fileNameOf(DOC)}.snapshot`));
    const full = await readFile(logPath);
    const ends = [0];
    for (const r of unframe(full).records) ends.push((ends.at(-1) ?? 0) + 8 + r.length);
    expect(ends).toHaveLength(26);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length }), async (cut) => {
        const copy = join(dir, `copy-${n++}`);
        await mkdir(copy);
        await writeFile(join(copy, `${fileNameOf(DOC)}.snapshot`), snapshot);
        await writeFile(join(copy, `${fileNameOf(DOC)}.log`), full.subarray(0, cut));
        const log = spyLogger();
        const s = new FileDocStore(copy, log);
        const whole = ends.filter((e) => e <= cut).length - 1;
        const doc = await s.load(DOC);
        expect(doc && Automerge.getHeads(doc)).toEqual(headsAfter[whole]);
        const torn = !ends.includes(cut);
        expect(log.entries.some((e) => e.level === 'warn' && /torn write/.test(e.msg ?? ''))).toBe(torn);
        // The torn tail was cut away, so the next append starts on a record boundary.
        const more = addNote(Automerge.clone(doc as SectorBoard, hexActor(4)), { callId: 'C1', text: 'after recovery' }, at(dispatcher, 99));
        await s.save(DOC, more);
        await s.close();
        const again = await new FileDocStore(copy).load(DOC);
        expect(again && readBoard(again).calls.C1?.notes.at(-1)?.text).toBe('after recovery');
        expect(again && readBoard(again).calls.C1?.notes).toHaveLength(whole + 1);
        await rm(copy, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });

  it('treats a board whose only save was torn as absent', async () => {
    const store = new FileDocStore(dir);
    await writeNotes(store, 1);
    await store.close();
    // A torn snapshot write never reaches the real name (tmp + rename); model the other case, a
    // whole-document record torn in the log of a store that had nothing else.
    await rm(join(dir, `${fileNameOf(DOC)}.snapshot`));
    const log = spyLogger();
    await writeFile(join(dir, `${fileNameOf(DOC)}.log`), Buffer.from([5, 0, 0, 0, 1, 2]));
    expect(await new FileDocStore(dir, log).load(DOC)).toBeUndefined();
    expect(log.entries.map((e) => e.level)).toEqual(['warn', 'warn']);
  });

  it('stops at a corrupted record (checksum mismatch) and keeps everything before it', async () => {
    const store = new FileDocStore(dir);
    const { headsAfter } = await writeNotes(store, 5);
    await store.close();
    const logPath = join(dir, `${fileNameOf(DOC)}.log`);
    const full = await readFile(logPath);
    const records = unframe(full).records;
    const fourth = records.slice(0, 3).reduce((a, r) => a + 8 + r.length, 0);
    full[fourth + 8 + 3] = (full[fourth + 8 + 3] ?? 0) ^ 0xff;
    await writeFile(logPath, full);
    const log = spyLogger();
    const doc = await new FileDocStore(dir, log).load(DOC);
    expect(doc && Automerge.getHeads(doc)).toEqual(headsAfter[3]);
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(1);
  });

  it('sets an unreadable snapshot and its orphaned log aside instead of crashing', async () => {
    // First save = snapshot (genesis and the call); the ten notes stay in the log after it.
    const store = new FileDocStore(dir);
    await writeNotes(store, 10);
    await store.close();
    const snap = join(dir, `${fileNameOf(DOC)}.snapshot`);
    await writeFile(snap, Buffer.from('not automerge at all'));
    const log = spyLogger();
    const loaded = await new FileDocStore(dir, log).load(DOC).catch((err: unknown) => err);
    expect(log.entries.some((e) => e.level === 'error' && /snapshot unreadable/.test(e.msg ?? ''))).toBe(true);
    expect((await readdir(dir)).some((f) => f.includes('.corrupt-'))).toBe(true);
    // The log's changes depend on the lost snapshot (it held genesis): nothing loadable remains,
    // so the board counts as absent (to be resynced), and every damaged byte is kept aside.
    expect(loaded).toBeUndefined();
    expect((await readdir(dir)).some((f) => f.includes('.orphaned-'))).toBe(true);
  });
});
