// The soak's memory split (drill/proc-mem.ts) read from a real process: a child that grows a
// WebAssembly memory and touches its pages must show them as wasm, not as other anonymous memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { memComposition, parseSmaps } from '../../../drill/proc-mem.js';

// Waits on stdin; each line grows the memory to that many MiB and writes to every page.
const CHILD = `
const memory = new WebAssembly.Memory({ initial: 16 });
const readline = require('node:readline');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const mib = Number(line);
  const pages = (mib * 1048576) / 65536 - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
  new Uint8Array(memory.buffer).fill(1);
  process.stdout.write('ok\\n');
});
process.stdout.write('ready\\n');
`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

async function nextLine(c: ChildProcess): Promise<string> {
  const [chunk] = (await once(c.stdout!, 'data')) as [Buffer];
  return chunk.toString().trim();
}

describe('memComposition', () => {
  it('counts a growing, touched WebAssembly memory as wasm, and its size', async () => {
    child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    expect(await nextLine(child)).toBe('ready');
    child.stdin!.write('8\n');
    expect(await nextLine(child)).toBe('ok');
    const small = memComposition(child.pid);
    child.stdin!.write('72\n');
    expect(await nextLine(child)).toBe('ok');
    const big = memComposition(child.pid);

    expect(small.wasmSize).toBeCloseTo(8, 0);
    expect(big.wasmSize).toBeCloseTo(72, 0);
    expect(big.wasm - small.wasm).toBeGreaterThan(60);
    expect(big.wasm).toBeLessThanOrEqual(big.wasmSize + 0.01);
    // The 64 MiB went to wasm, not to other anonymous memory.
    expect(big.anon - small.anon).toBeLessThan(16);
    // Every resident page is counted once, in exactly one of the three kinds.
    expect(big.wasm + big.anon + big.file).toBeCloseTo(big.rss, 6);
  });

  it('gives NaN figures for a process that is gone, and parses nothing from junk', () => {
    expect(memComposition(2 ** 22 + 12345).rss).toBeNaN();
    expect(memComposition(undefined).wasm).toBeNaN();
    expect(parseSmaps('not smaps\n\n12 kB')).toEqual({ rss: 0, wasm: 0, wasmSize: 0, anon: 0, file: 0 });
  });
});
