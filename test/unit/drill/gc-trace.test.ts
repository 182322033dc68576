// The soak's heap figures (drill/gc-trace.ts) from a real `node --trace-gc` child with a worker
// thread, as the station has (its broker): each isolate's lines count once, and the figures sum.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GcTrace } from '../../../drill/gc-trace.js';

// The main thread keeps ~10 MB of objects alive, the worker ~20 MB; each forces full collections.
const CHILD = `
const { Worker } = require('node:worker_threads');
const KEEP = 'const keep = (n) => Array.from({ length: n * 10000 }, (_, i) => ({ i, s: "object " + i }));';
const w = new Worker(KEEP + 'const k = keep(20); gc(); gc(); setTimeout(() => k.length, 50);', { eval: true });
eval(KEEP.replace('const keep', 'globalThis.keep'));
const k = keep(10); gc(); gc();
w.on('exit', () => { gc(); console.log('done', k.length); });
`;

describe('GcTrace', () => {
  it('sums the heaps of every isolate of the process', () => {
    const out = execFileSync(process.execPath, ['--trace-gc', '--expose-gc', '-e', CHILD], { encoding: 'utf8' });
    const gc = new GcTrace();
    for (const line of out.split('\n')) gc.line(line);
    const isolates = new Set(out.split('\n').map((l) => /^\[\d+:(0x[0-9a-f]+)\]/.exec(l)?.[1]).filter(Boolean));
    expect(isolates.size).toBe(2);
    expect(gc.fullGcs).toBeGreaterThanOrEqual(4);
    const main = lastFull(out, [...isolates][0]!);
    const worker = lastFull(out, [...isolates][1]!);
    expect(gc.heapAfterGc()).toBeCloseTo(main + worker, 5);
    expect(Math.min(main, worker)).toBeGreaterThan(5);
    expect(gc.heapCommitted()).toBeGreaterThanOrEqual(gc.heapAfterGc());
  });

  it('ignores lines that are not collections, and says NaN before any', () => {
    const gc = new GcTrace();
    gc.line('{"level":30,"msg":"precinct station ready"}');
    gc.line('[1:0x1]  12 ms: Scavenge 4.3 (4.5) -> 3.9 (5.5) MB, 5.00 / 0.00 ms');
    expect(gc.heapAfterGc()).toBeNaN();
    expect(gc.heapCommitted()).toBe(5.5);
    expect(gc.fullGcs).toBe(0);
  });
});

function lastFull(out: string, isolate: string): number {
  const lines = out.split('\n').filter((l) => l.includes(isolate) && l.includes('Mark-Compact'));
  return Number(/-> ([\d.]+) \(/.exec(lines.at(-1)!)![1]);
}
