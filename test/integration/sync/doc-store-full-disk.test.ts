// A car's disk fills up (a 2 MiB tmpfs, like a worn SD card full of logs): changes the store
// refuses are reported to the caller and kept on the board, every change it acknowledged survives
// a reopen, and once space returns it writes the kept ones and carries on without a restart. Before the fix, a short write on the full disk was
// taken for a whole one: a torn snapshot replaced the good one and everything was lost.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addNote, createCall } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { SectorReplica } from '../../../sync/replica.js';
import type { OpContext, SectorId } from '../../../sync/schema.js';
import { spyLogger } from '../../helpers/board-log-spy.js';

const run = promisify(execFile);
let dir: string;
let mnt: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-full-disk-'));
  mnt = join(dir, 'tiny');
  await mkdir(mnt);
  // CI runs as root (.ci/run); mounting a tmpfs is how a full disk is made without filling this one.
  await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
});

afterAll(async () => {
  await run('umount', ['-l', mnt]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const dispatcher = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at });
// Random text: repeated characters would compress to nothing in a snapshot.
const note = (i: number): string => `note-${i} ${randomBytes(1100).toString('base64')}`;

it('keeps every change through a full disk, writes the refused ones once space returns, and carries on', async () => {
  const storeDir = join(mnt, 'boards');
  const spy = spyLogger();
  const store = new FileDocStore(storeDir, spy, { compactBytes: 64 * 1024 });
  const replica = await SectorReplica.open({ store, sector: 'B' as SectorId, epoch: '1', actorId: 'ab'.repeat(16), log: spy });
  let t = Date.UTC(2026, 10, 27, 8);
  await replica.update((d) => createCall(d, { cadNumber: 'C1', type: 'Noise', priority: 3, address: '1 Main', beat: 'B1' }, dispatcher(t)));
  const free = await statfs(mnt);
  const ballast = join(mnt, 'ballast');
  await writeFile(ballast, Buffer.alloc(Math.max(0, free.bavail * free.bsize - 300 * 1024)));

  const acked: string[] = [];
  const made: string[] = [];
  let refused = 0;
  for (let i = 0; i < 2000 && refused < 10; i++) {
    const text = note(i);
    made.push(text);
    try {
      await replica.update((d) => addNote(d, { callId: 'C1', text }, dispatcher(++t)));
      acked.push(text);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      refused += 1;
    }
  }
  expect(refused).toBe(10);
  expect(acked.length).toBeGreaterThan(50);
  // In memory: every note, the refused ones too (kept, and sent to peers, while their write is
  // retried); the caller was told which ones are not on disk yet.
  expect(replica.view().calls.C1!.notes.map((n) => n.text)).toEqual(made);
  expect(replica.unsaved).toBe(true);

  // Space comes back: the same replica takes changes again, no restart.
  await rm(ballast);
  for (let i = 0; i < 5; i++) {
    const text = `after-${i}`;
    await replica.update((d) => addNote(d, { callId: 'C1', text }, dispatcher(++t)));
    made.push(text);
  }
  expect(replica.unsaved).toBe(false);
  await store.close();

  // A fresh process's view: every note, the ones refused while the disk was full included, in
  // order, and no torn record behind them.
  const reopened = await SectorReplica.open({ store: new FileDocStore(storeDir, spy), sector: 'B' as SectorId, epoch: '1', actorId: 'cd'.repeat(16), log: spy });
  expect(reopened.view().calls.C1!.notes.map((n) => n.text)).toEqual(made);
  expect(spy.entries.filter((l) => /torn|unreadable|lost snapshot/.test(l.msg ?? '')).map((l) => l.msg)).toEqual([]);
});
