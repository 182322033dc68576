// Heap used after full collections, read from a child started with `node --trace-gc`: V8 prints
// one line per collection on stdout, and a Mark-Compact line's figure after the arrow is the live
// heap once garbage is gone. RSS alone cannot tell a leak from V8 or malloc keeping freed pages
// (docs/performance.md, issue 9): the live heap after a full GC can. The figure in parentheses
// after it is the heap V8 has committed, garbage room included: the V8 share of the child's
// anonymous memory (drill/proc-mem.ts).
const GC_LINE = /ms: (Scavenge|Mark-Compact)(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

export class GcTrace {
  private last: number | undefined;
  private committed: number | undefined;
  fullGcs = 0;

  /** Feed every non-JSON stdout line of the child. */
  line(text: string): void {
    const m = GC_LINE.exec(text);
    if (!m) return;
    this.committed = Number(m[3]);
    if (m[1] !== 'Mark-Compact') return;
    this.last = Number(m[2]);
    this.fullGcs += 1;
  }

  /** Heap used (MiB) after the latest full GC; NaN before the first. */
  heapAfterGc(): number {
    return this.last ?? NaN;
  }

  /** Heap committed (MiB) after the latest collection of any kind; NaN before the first. */
  heapCommitted(): number {
    return this.committed ?? NaN;
  }
}
