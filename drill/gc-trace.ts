// Heap used after full collections, read from a child started with `node --trace-gc`: V8 prints
// one line per collection on stdout, and a Mark-Compact line's figure after the arrow is the live
// heap once garbage is gone. RSS alone cannot tell a leak from V8 or malloc keeping freed pages
// (docs/performance.md, issue 9): the live heap after a full GC can.
const MARK_COMPACT = /: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

export class GcTrace {
  private last: number | undefined;
  fullGcs = 0;

  /** Feed every non-JSON stdout line of the child. */
  line(text: string): void {
    const m = MARK_COMPACT.exec(text);
    if (!m) return;
    this.last = Number(m[1]);
    this.fullGcs += 1;
  }

  /** Heap used (MiB) after the latest full GC; NaN before the first. */
  heapAfterGc(): number {
    return this.last ?? NaN;
  }
}
