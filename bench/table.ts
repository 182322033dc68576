// A bench result is a small table: printed for people, written as JSON for tracking over time.
export type Cell = string | number;

export interface BenchTable {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Conditions a reader needs to compare runs: machine, sizes, what "cold" means. */
  notes?: string[];
}

function fmt(c: Cell): string {
  if (typeof c === 'string') return c;
  if (Number.isInteger(c)) return c.toLocaleString('en-US');
  return Math.abs(c) >= 100 ? c.toFixed(0) : Math.abs(c) >= 10 ? c.toFixed(1) : c.toFixed(2);
}

export function formatTable(t: BenchTable): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(fmt))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const out = [`## ${t.title}`, '', line(t.columns), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

export function printTable(t: BenchTable, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  write(`${formatTable(t)}\n\n`);
}
