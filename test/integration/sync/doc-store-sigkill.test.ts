// Durable before acknowledged, proven the hard way: a child process writes through FileDocStore
// and is killed with SIGKILL at random moments (mid-append, mid-fsync, mid-compaction); after
// each kill the board must load and hold every change the child had acknowledged.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBoard } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { spyLogger } from '../../helpers/board-log-spy.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BUILD = join(ROOT, 'test-output', 'board-sigkill-build');
const CHILD = new URL('./fixtures/board-writer.mjs', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  // The child runs plain Node, so compile just the store and its imports (not the whole tree,
  // which other work in progress may leave unbuildable) into a git-ignored directory.
  await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'tsc'),
    ['--outDir', BUILD, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--strict', '--types', 'node', join(ROOT, 'sync', 'doc-store.ts')],
    { cwd: ROOT },
  );
  dir = await mkdtemp(join(tmpdir(), 'mdt-sigkill-'));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer until `acks` changes were acknowledged plus a random extra delay, then SIGKILLs it. */
function runAndKill(docId: string, acks: number, extraMs: number): Promise<{ lastAck: number; ready: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, join(BUILD, 'sync'), dir, docId, 'ab'.repeat(16)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastAck = -1;
    let ready = -1;
    let buf = '';
    let stderr = '';
    let killing = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [word, num] = line.split(' ');
        if (word === 'ready') ready = Number(num);
        if (word === 'ack') lastAck = Number(num);
        if (!killing && ready >= 0 && lastAck >= ready + acks) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), extraMs);
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ lastAck, ready });
      else reject(new Error(`writer exited ${code}: ${stderr}`));
    });
  });
}

describe('FileDocStore under SIGKILL', () => {
  it('loses no acknowledged change across repeated kills at random moments', async () => {
    const docId = 'S3@2026-11-27';
    let previous = 0;
    for (let round = 0; round < 6; round++) {
      const { lastAck, ready } = await runAndKill(docId, 20 + Math.floor(Math.random() * 60), Math.floor(Math.random() * 15));
      expect(ready).toBeGreaterThanOrEqual(previous);
      const log = spyLogger();
      const store = new FileDocStore(dir, log);
      const doc = await store.load(docId);
      await store.close();
      expect(doc).toBeDefined();
      const notes = doc ? (readBoard(doc).calls.C1?.notes ?? []) : [];
      // Every acknowledged note is there, in order; at most the one in flight may also be there.
      expect(notes.length).toBeGreaterThanOrEqual(lastAck);
      expect(notes.length).toBeLessThanOrEqual(lastAck + 1);
      expect(notes.map((n) => n.text)).toEqual(Array.from({ length: notes.length }, (_, i) => `note ${i + 1}`));
      expect(log.entries.filter((e) => e.level === 'error')).toEqual([]);
      previous = notes.length;
    }
  });
});
