// Dispatch figures read back from the boards: how each call was decided (at once, held, handed
// on at the deadline), hold times, beat integrity, receipt-to-dispatch times and time on calls.
// Pure functions of board views, so the replay's table and the Watch Commander console's
// live-shift figures are computed the same way.
import type { BoardView, CallView, UnitStatus } from '../sync/schema.js';
import { formatDuration } from './clock.js';
import { isEmergency } from './policy.js';

export type Outcome =
  | 'immediate'
  | 'held_then_beat_officer'
  | 'reassigned_after_deadline'
  | 'hold_released'
  | 'override'
  | 'transferred'
  | 'held_open'
  | 'waiting'
  | 'cancelled';

export interface CallOutcome {
  sector: string;
  id: string;
  beat: string;
  priority: number;
  emergency: boolean;
  receivedAt: number;
  outcome: Outcome;
  held: boolean;
  /** Time held for the beat officer, up to the hold limit. */
  holdMs?: number;
  /** Time past the hold limit before a unit took the call (no unit of the sector was free). */
  overdueMs?: number;
  dispatchMs?: number;
  firstUnit?: string;
  byBeatOfficer?: boolean;
}

/** Whether a unit was a beat officer of a beat at an instant (from the schedule or the roster). */
export type BeatOfficerTest = (beat: string, unitId: string, at: number) => boolean;

export function callOutcome(sector: string, call: CallView, isBeatOfficer: BeatOfficerTest, now: number, holdLimitMs: number): CallOutcome {
  const firstHeld = call.history.find((h) => h.event === 'held');
  const first = call.history.find((h) => (h.event === 'assigned' || h.event === 'accepted') && h.unitId);
  const releasedByOperator = call.history.some((h) => h.event === 'released' && h.by.kind === 'operator' && (!first || h.at <= first.at));
  const out: CallOutcome = { sector, id: call.id, beat: call.beat, priority: call.priority, emergency: isEmergency(call), receivedAt: call.receivedAt, outcome: 'waiting', held: firstHeld !== undefined };
  const endOfHold = first?.at ?? call.cancelledAt ?? call.clearedAt ?? now;
  if (firstHeld) {
    // A hold extended by an operator is longer than the limit by decision; only the policy's own
    // hold is capped, and time after its deadline is reported as overdue, not as hold.
    const extended = call.history.some((h) => h.event === 'held' && h.by.kind === 'operator');
    const held = Math.max(0, endOfHold - firstHeld.at);
    out.holdMs = extended ? held : Math.min(held, holdLimitMs);
    const overdue = extended ? 0 : held - holdLimitMs;
    if (overdue > 0) out.overdueMs = overdue;
  }
  if (first?.unitId) {
    out.firstUnit = first.unitId;
    out.dispatchMs = Math.max(0, first.at - call.receivedAt);
    out.byBeatOfficer = isBeatOfficer(call.beat, first.unitId, first.at);
    if (first.by.kind === 'operator') out.outcome = 'override';
    else if (releasedByOperator) out.outcome = 'hold_released';
    else if (!firstHeld) out.outcome = 'immediate';
    else out.outcome = out.byBeatOfficer ? 'held_then_beat_officer' : 'reassigned_after_deadline';
  } else if (call.state === 'transferred') {
    out.outcome = 'transferred';
  } else if (call.state === 'cancelled') {
    out.outcome = 'cancelled';
  } else if (call.state === 'held') out.outcome = 'held_open';
  return out;
}

export interface Distribution {
  n: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function distribution(values: number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, medianMs: quantile(s, 0.5), p90Ms: quantile(s, 0.9), maxMs: s[s.length - 1] ?? 0 };
}

const ON_CALL: ReadonlySet<UnitStatus> = new Set(['dispatched', 'en_route', 'on_scene', 'transporting']);

/** Milliseconds each unit spent on calls between `from` and `to`, and the same summed per beat of the calls. */
export function timeOnCalls(boards: ReadonlyArray<{ sector: string; board: BoardView }>, from: number, to: number): { perUnit: Map<string, number>; perBeat: Map<string, number> } {
  const perUnit = new Map<string, number>();
  const perBeat = new Map<string, number>();
  for (const { board } of boards) {
    for (const u of Object.values(board.units)) {
      const h = u.history;
      for (let i = 0; i < h.length; i++) {
        const e = h[i]!;
        if (!ON_CALL.has(e.status) || !e.callId) continue;
        const call = board.calls[e.callId];
        // The interval ends at the unit's next status, or when the call closed (clearing a call
        // frees its units without a status event of their own), or now.
        const closedAt = call?.clearedAt ?? call?.cancelledAt ?? Number.POSITIVE_INFINITY;
        const end = Math.min(h[i + 1]?.at ?? to, closedAt, to);
        const start = Math.max(e.at, from);
        if (end <= start) continue;
        perUnit.set(u.id, (perUnit.get(u.id) ?? 0) + (end - start));
        if (call) perBeat.set(call.beat, (perBeat.get(call.beat) ?? 0) + (end - start));
      }
    }
  }
  return { perUnit, perBeat };
}

export interface Figures {
  from: number;
  to: number;
  calls: number;
  counts: Record<Outcome, number>;
  hold: Distribution;
  /** Held calls that waited past the deadline because no other unit of the sector was free. */
  overdue: Distribution;
  /** Non-emergency calls dispatched, and how many of them to their own beat officer. */
  beatIntegrity: { dispatched: number; ownBeatOfficer: number };
  receiptToDispatch: Record<number, Distribution>;
  perUnit: Map<string, number>;
  perBeat: Map<string, number>;
}

/** Figures for calls received in [from, to) on the given boards. */
export function computeFigures(boards: ReadonlyArray<{ sector: string; board: BoardView }>, isBeatOfficer: BeatOfficerTest, from: number, to: number, holdLimitMs: number): Figures {
  const outcomes: CallOutcome[] = [];
  for (const { sector, board } of boards) {
    for (const c of Object.values(board.calls)) {
      if (c.receivedAt < from || c.receivedAt >= to) continue;
      outcomes.push(callOutcome(sector, c, isBeatOfficer, to, holdLimitMs));
    }
  }
  const counts = { immediate: 0, held_then_beat_officer: 0, reassigned_after_deadline: 0, hold_released: 0, override: 0, transferred: 0, held_open: 0, waiting: 0, cancelled: 0 } satisfies Record<Outcome, number>;
  for (const o of outcomes) counts[o.outcome]++;
  const nonEmergency = outcomes.filter((o) => !o.emergency && o.firstUnit !== undefined);
  const byPriority: Record<number, number[]> = {};
  for (const o of outcomes) if (o.dispatchMs !== undefined) (byPriority[o.priority] ??= []).push(o.dispatchMs);
  const { perUnit, perBeat } = timeOnCalls(boards, from, to);
  return {
    from,
    to,
    // A transferred call is counted once, on the board of the sector that answered it.
    calls: outcomes.length - counts.transferred,
    counts,
    hold: distribution(outcomes.filter((o) => o.held && o.holdMs !== undefined).map((o) => o.holdMs!)),
    overdue: distribution(outcomes.filter((o) => o.overdueMs !== undefined).map((o) => o.overdueMs!)),
    beatIntegrity: { dispatched: nonEmergency.length, ownBeatOfficer: nonEmergency.filter((o) => o.byBeatOfficer).length },
    receiptToDispatch: Object.fromEntries(Object.entries(byPriority).map(([p, v]) => [Number(p), distribution(v)])),
    perUnit,
    perBeat,
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)} %`);
const minutes = (ms: number): string => `${Math.round(ms / 60_000).toLocaleString('en-US')} min`;

/** The figures as the plain-text table the replay prints. */
export function formatFigures(f: Figures, opts: { holdMs: number; topUnits?: number } = { holdMs: 30 * 60_000 }): string {
  const c = f.counts;
  const held = f.hold.n;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(58, '.')} ${value}`);
  lines.push(`Calls received ${new Date(f.from).toISOString().slice(0, 16)}Z .. ${new Date(f.to).toISOString().slice(0, 16)}Z: ${f.calls}`);
  lines.push('', 'Decisions');
  row('dispatched immediately', `${c.immediate} (${pct(c.immediate, f.calls)})`);
  row('held for the beat officer', `${held} (${pct(held, f.calls)})`);
  row('  of which taken by the beat officer within the hold', String(c.held_then_beat_officer));
  row('  of which reassigned after the deadline', String(c.reassigned_after_deadline));
  row('  of which still held at the end', String(c.held_open));
  row('emergencies transferred to an adjacent sector', String(c.transferred));
  row('hold released / unit assigned by an operator', `${c.hold_released} / ${c.override}`);
  row('never dispatched (still waiting at the end)', String(c.waiting));
  lines.push('', 'Holds');
  row('median hold', formatDuration(f.hold.medianMs));
  row(`max hold (limit ${formatDuration(opts.holdMs)})`, `${formatDuration(f.hold.maxMs)}${f.hold.maxMs > opts.holdMs ? '  ABOVE THE LIMIT' : ''}`);
  row('past the deadline, waited for a free unit of the sector', `${f.overdue.n} calls, median ${formatDuration(f.overdue.medianMs)}, max ${formatDuration(f.overdue.maxMs)}`);
  lines.push('', 'Beat integrity');
  row('non-emergency calls handled by their own beat officer', `${f.beatIntegrity.ownBeatOfficer} of ${f.beatIntegrity.dispatched} (${pct(f.beatIntegrity.ownBeatOfficer, f.beatIntegrity.dispatched)})`);
  lines.push('', 'Receipt to dispatch, by priority        n     median      p90      max');
  for (const p of Object.keys(f.receiptToDispatch).map(Number).sort()) {
    const d = f.receiptToDispatch[p]!;
    lines.push(`  P${p}${p === 1 ? ' (emergency)' : '            '}${String(d.n).padStart(24)} ${formatDuration(d.medianMs).padStart(10)} ${formatDuration(d.p90Ms).padStart(8)} ${formatDuration(d.maxMs).padStart(8)}`);
  }
  const total = [...f.perUnit.values()].reduce((a, b) => a + b, 0);
  const span = Math.max(1, f.to - f.from);
  lines.push('', 'Time on calls');
  row('all units', minutes(total));
  row('per year at this rate', minutes((total * 365 * 86_400_000) / span));
  lines.push('', '  per beat:');
  const beats = [...f.perBeat.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (let i = 0; i < beats.length; i += 4) lines.push('    ' + beats.slice(i, i + 4).map(([b, ms]) => `${b.padEnd(4)} ${minutes(ms).padStart(10)}`).join('   '));
  const units = [...f.perUnit.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const top = opts.topUnits ?? units.length;
  lines.push('', `  per unit${top < units.length ? ` (busiest ${top} of ${units.length})` : ''}:`);
  const shown = units.slice(0, top);
  for (let i = 0; i < shown.length; i += 4) lines.push('    ' + shown.slice(i, i + 4).map(([u, ms]) => `${u.padEnd(6)} ${minutes(ms).padStart(10)}`).join('   '));
  return lines.join('\n');
}
