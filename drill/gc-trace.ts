// Heap used after full collections, read from a child started with `node --trace-gc`: V8 prints
// one line per collection on stdout, and a Mark-Compact line's figure after the arrow is the live
// heap once garbage is gone. RSS alone cannot tell a leak from V8 or malloc keeping freed pages
// (docs/performance.md, issue 9): the live heap after a full GC can.
const MARK_COMPACT = /: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

export class GcTrace {
  /** Heap used (MiB) after each full collection since the last take(). */
  private window: number[] = [];
  private last: number | undefined;
  fullGcs = 0;

  /** Feed every non-JSON stdout line of the child. */
  line(text: string): void {
    const m = MARK_COMPACT.exec(text);
    if (!m) return;
    const after = Number(m[1]);
    this.window.push(after);
    this.last = after;
    this.fullGcs += 1;
  }

  /**
   * The smallest heap after a full GC since the previous call (the floor the process returned
   * to), or the last one seen when no full GC ran meanwhile; NaN before the first.
   */
  take(): number {
    const w = this.window;
    this.window = [];
    return w.length > 0 ? Math.min(...w) : (this.last ?? NaN);
  }
}
