// Heap used after full collections, read from a child started with `node --trace-gc`: V8 prints
// one line per collection on stdout, and a Mark-Compact line's figure after the arrow is the live
// heap once garbage is gone. RSS alone cannot tell a leak from V8 or malloc keeping freed pages
// (docs/performance.md, issue 9): the live heap after a full GC can. The figure in parentheses
// after it is the heap V8 has committed, garbage room included: the V8 share of the child's
// anonymous memory (drill/proc-mem.ts).
//
// Every isolate prints its own lines, prefixed `[pid:isolate]`: the station's main thread and
// its broker's worker thread have a heap each, so the process's figures are their sums.
const GC_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Mark-Compact)(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

export class GcTrace {
  /** Per isolate: heap used after its latest full GC, heap committed after its latest collection. */
  private readonly isolates = new Map<string, { afterFull?: number; committed: number }>();
  fullGcs = 0;

  /** Feed every non-JSON stdout line of the child. */
  line(text: string): void {
    const m = GC_LINE.exec(text);
    if (!m) return;
    const isolate = this.isolates.get(m[1]!) ?? { committed: 0 };
    this.isolates.set(m[1]!, isolate);
    isolate.committed = Number(m[4]);
    if (m[2] !== 'Mark-Compact') return;
    isolate.afterFull = Number(m[3]);
    this.fullGcs += 1;
  }

  /** Heap used (MiB) after the latest full GC of each isolate, summed; NaN before any full GC. */
  heapAfterGc(): number {
    const figures = [...this.isolates.values()].map((i) => i.afterFull);
    if (!figures.some((f) => f !== undefined)) return NaN;
    return figures.reduce<number>((sum, f) => sum + (f ?? 0), 0);
  }

  /** Heap committed (MiB) after the latest collection of each isolate, summed; NaN before the first. */
  heapCommitted(): number {
    if (this.isolates.size === 0) return NaN;
    return [...this.isolates.values()].reduce((sum, i) => sum + i.committed, 0);
  }
}
