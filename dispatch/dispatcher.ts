// The dispatch policy at work on the live sector boards of one precinct. It decides every open
// call with dispatch/policy.ts and writes the decision, with its reason, into the board through
// SectorReplica.update (the single durable write path) as the policy actor. It keeps no state of
// its own: held calls and their deadlines are in the boards, so after a restart the first
// evaluation picks up exactly where the previous process stopped.
import { EventEmitter } from 'node:events';
import * as board from '../sync/board.js';
import type { SectorReplica } from '../sync/replica.js';
import { actorLabel, type Actor, type BoardView, type CallView, type Logger, type OpContext, type UnitView } from '../sync/schema.js';
import type { Department } from '../daemon/department.js';
import type { LonLat } from '../hardware/geo.js';
import type { Clock } from './clock.js';
import { callOrder, decide, type Decision, type Position, type SectorSnapshot } from './policy.js';
import { beatCenterOf, sectorAdjacency } from './geography.js';
import { coversSector, onDutyAt, scheduledBeatOfficers, type Schedule } from './schedule.js';
import { completeTransfers, isLeavingBoard, transferBetweenBoards, type TransferRequest } from './transfer.js';

export interface DispatchSector {
  replica: SectorReplica;
  /** Latest AVL position per unit of the sector. */
  positions(): Readonly<Record<string, Position>>;
}

export interface DispatcherOptions {
  precinct: string;
  department: Department;
  sectors: ReadonlyMap<string, DispatchSector>;
  clock: Clock;
  holdMs: number;
  schedule?: Schedule;
  log: Logger;
}

export interface DecisionRecord {
  sector: string;
  callId: string;
  at: number;
  decision: Exclude<Decision, { kind: 'none' }>;
}

/** Board operations cap reasons at 200 characters; notes carry the full text. */
const REASON_MAX = 200;
const clip = (s: string): string => (s.length <= REASON_MAX ? s : `${s.slice(0, REASON_MAX - 1)}…`);

/** The second event of a pair written together must sort after the first (see ctxAfter). */
const later = (ctx: OpContext): OpContext => ({ ...ctx, at: ctx.at + 1 });

/**
 * When the call's latest event is a CAD update (nothing decided since), the decision answers it:
 * " (after update by disp1: priority 3 -> 1)", so the history says why the policy acted now.
 */
function updateCause(call: CallView): string {
  const last = call.history.filter((h) => h.event !== 'note').at(-1);
  if (last?.event !== 'updated' || !last.changes?.length) return '';
  const what = last.changes
    .filter((c) => c.field === 'priority' || c.field === 'beat' || c.field === 'late')
    .map((c) => (c.field === 'late' ? (c.to ? 'late-reported' : 'not late-reported') : `${c.field} ${String(c.from)} -> ${String(c.to)}`));
  return what.length > 0 ? ` (after update by ${actorLabel(last.by)}: ${what.join(', ')})` : '';
}

/** Bounds one evaluation pass; each step changes the board, so real passes end far sooner. */
const MAX_STEPS = 10_000;

export class Dispatcher extends EventEmitter<{ decision: [DecisionRecord] }> {
  private schedule: Schedule | undefined;
  private readonly adjacency: Map<string, string[]>;
  private readonly beatCenter: (beat: string) => LonLat | undefined;
  private readonly actor: Actor;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly unsubscribe: Array<() => void> = [];
  /** Transfers being written now (`${fromSector}/${callId}`): not mistaken for ones a restart cut off. */
  private readonly transfersInFlight = new Set<string>();

  constructor(private readonly opts: DispatcherOptions) {
    super();
    this.schedule = opts.schedule;
    this.adjacency = sectorAdjacency(opts.department, [...opts.sectors.keys()]);
    this.beatCenter = beatCenterOf(opts.department);
    this.actor = { kind: 'policy', precinct: opts.precinct };
  }

  /** Re-evaluates after every board change (cars' status changes arrive as changes) and once now. */
  async start(): Promise<void> {
    for (const [, s] of this.opts.sectors) {
      const l = () => void this.evaluate();
      s.replica.on('change', l);
      this.unsubscribe.push(() => s.replica.off('change', l));
    }
    await this.shiftChange();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.running;
  }

  setSchedule(schedule: Schedule | undefined): void {
    this.schedule = schedule;
  }

  adjacentSectors(sector: string): string[] {
    return this.adjacency.get(sector) ?? [];
  }

  /**
   * The beat officer(s) of a beat now: from the yearly schedule when it covers the sector,
   * otherwise the board's roster (units whose home beat it is), so a precinct without a schedule
   * file still keeps beat integrity.
   */
  beatOfficers(sector: string, beat: string, view: BoardView, now: number): string[] {
    // A call transferred in from another sector keeps its beat, whose officers work elsewhere:
    // here it has none, so it is not held for a unit that will never come to this board.
    const home = this.opts.department.beats[beat]?.sector;
    if (home !== undefined && home !== sector) return [];
    if (this.schedule && coversSector(this.schedule, this.opts.department, sector)) return scheduledBeatOfficers(this.schedule, beat, now);
    return Object.values(view.units)
      .filter((u) => u.homeBeat === beat)
      .map((u) => u.id)
      .sort();
  }

  private ctx(): OpContext {
    return { by: this.actor, at: this.opts.clock.now() };
  }

  private snapshot(sector: string, view?: BoardView): SectorSnapshot | undefined {
    const s = this.opts.sectors.get(sector);
    if (!s) return undefined;
    return { sector, board: view ?? s.replica.view(), positions: s.positions() };
  }

  /**
   * Decides every open call of every sector until nothing changes. Calls made while a pass runs
   * coalesce into one more pass, so a burst of board changes costs at most two passes.
   */
  evaluate(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          // First the second half of any transfer a restart cut off, so its home copy is closed
          // before anything decides it again.
          await completeTransfers(this.opts.sectors, (from, id) => this.transfersInFlight.has(`${from}/${id}`), () => this.ctx(), this.opts.log);
          for (const sector of this.opts.sectors.keys()) await this.evaluateSector(sector);
        } while (this.again);
      } catch (err) {
        this.opts.log.error({ err }, 'dispatch evaluation failed; it runs again on the next board change or tick');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Called every second by the scheduler: only a passed deadline needs a pass without a board change. */
  async tick(): Promise<void> {
    const now = this.opts.clock.now();
    for (const [, s] of this.opts.sectors) {
      const due = Object.values(s.replica.view().calls).some((c) => c.state === 'held' && c.hold !== undefined && c.hold.deadline <= now && !this.waitingNoted(c));
      if (due) return this.evaluate();
    }
  }

  /** A past-deadline call whose "no unit free" reason is already recorded waits for a board change. */
  private waitingNoted(c: CallView): boolean {
    const last = c.history[c.history.length - 1];
    return last?.event === 'note' && last.by.kind === 'policy' && c.hold !== undefined && last.at >= c.hold.deadline;
  }

  /**
   * At a change of watch: puts the incoming units of the schedule on the boards (off duty until
   * their crew signs on: the console lists them as expected) and re-decides every call, so held
   * calls follow the new beat officer.
   */
  async shiftChange(): Promise<void> {
    const schedule = this.schedule;
    if (schedule) {
      const now = this.opts.clock.now();
      for (const { assignment: a } of onDutyAt(schedule, now)) {
        const sector = this.opts.department.beats[a.beat]?.sector;
        const s = sector ? this.opts.sectors.get(sector) : undefined;
        if (!s) continue;
        const existing = s.replica.view().units[a.unit];
        if (existing && existing.homeBeat === a.beat) continue;
        try {
          await s.replica.update((d) =>
            board.upsertUnit(
              d,
              { id: a.unit, callSign: a.callSign ?? existing?.callSign ?? a.unit, homeBeat: a.beat, mode: a.mode, ...(a.officers.length > 0 ? { officers: a.officers } : {}) },
              this.ctx(),
            ),
          );
        } catch (err) {
          this.opts.log.warn({ err, unit: a.unit, sector }, 'scheduled unit not put on the board');
        }
      }
    }
    await this.evaluate();
  }

  /** Units the schedule expects on duty now in a sector, with whether they have signed on. */
  expectations(sector: string): Array<{ unit: string; beat: string; shift: string; until: number; signedOn: boolean }> {
    const s = this.opts.sectors.get(sector);
    if (!this.schedule || !s) return [];
    const view = s.replica.view();
    return onDutyAt(this.schedule, this.opts.clock.now())
      .filter((d) => this.opts.department.beats[d.assignment.beat]?.sector === sector)
      .map((d) => ({
        unit: d.assignment.unit,
        beat: d.assignment.beat,
        shift: d.instance.shift,
        until: d.instance.end,
        signedOn: (view.units[d.assignment.unit]?.status ?? 'off_duty') !== 'off_duty',
      }));
  }

  private async evaluateSector(sector: string): Promise<void> {
    const s = this.opts.sectors.get(sector);
    if (!s) return;
    for (let step = 0; step < MAX_STEPS; step++) {
      let transfer: { call: CallView; decision: Extract<Decision, { kind: 'dispatch' }> } | undefined;
      let applied: DecisionRecord | undefined;
      await s.replica.update((doc) => {
        // Decided on the view of exactly the document being changed: nothing can slip in between.
        const view = s.replica.view();
        const now = this.opts.clock.now();
        const home = this.snapshot(sector, view)!;
        const adjacent = this.adjacentSectors(sector)
          .map((a) => this.snapshot(a))
          .filter((x): x is SectorSnapshot => x !== undefined);
        const open = Object.values(view.calls)
          .filter((c) => (c.state === 'pending' || c.state === 'held') && !isLeavingBoard(this.opts.sectors, sector, c.id))
          .sort(callOrder);
        for (const call of open) {
          const found = decide({ call, home, adjacent, beatOfficers: this.beatOfficers(sector, call.beat, view, now), beatCenter: this.beatCenter, now, holdMs: this.opts.holdMs });
          const decision = found.kind === 'none' ? found : { ...found, reason: found.reason + updateCause(call) };
          if (decision.kind === 'none') continue;
          if (decision.kind === 'wait' && call.notes.some((n) => n.by.kind === 'policy' && n.text === decision.reason)) continue;
          if (decision.kind === 'dispatch' && decision.sector !== sector) {
            transfer = { call, decision };
            return doc;
          }
          applied = { sector, callId: call.id, at: now, decision };
          return this.apply(doc, view, call, decision);
        }
        return doc;
      });
      if (applied) {
        this.record(applied);
        continue;
      }
      if (transfer) {
        if (await this.transfer(sector, transfer.call, transfer.decision)) continue;
      }
      return;
    }
    this.opts.log.error({ sector }, 'dispatch pass did not settle; stopped');
  }

  /**
   * The time stamped on a decision. Board logs order events by time, then by a random tiebreak, so
   * a decision stamped in the same millisecond as the event it answers (a sign-on, a cleared
   * call) could sort before it; it is stamped at least 1 ms after the call's and the unit's last event.
   */
  private ctxAfter(call: CallView, unit: UnitView | undefined): OpContext {
    const lastCall = call.history[call.history.length - 1]?.at ?? 0;
    const lastUnit = unit?.history[unit.history.length - 1]?.at ?? 0;
    return { by: this.actor, at: Math.max(this.opts.clock.now(), lastCall + 1, lastUnit + 1) };
  }

  private apply(doc: board.SectorBoard, view: BoardView, call: CallView, d: Exclude<Decision, { kind: 'none' }>): board.SectorBoard {
    const ctx = this.ctxAfter(call, d.kind === 'dispatch' ? view.units[d.unitId] : undefined);
    const callId = call.id;
    switch (d.kind) {
      case 'dispatch':
        // One event: the assignment with its reason (it also ends a hold).
        return board.assignUnit(doc, { callId, unitId: d.unitId, reason: clip(d.reason) }, ctx);
      case 'hold': {
        // A re-hold (new beat officer at a shift change) keeps the original deadline.
        const pending = call.state === 'held' ? board.releaseHold(doc, { callId, reason: 'beat officer changed' }, ctx) : doc;
        return board.holdCall(pending, { callId, until: d.until, reason: clip(d.reason), ...(d.unitId ? { unitId: d.unitId } : {}) }, later(ctx));
      }
      case 'wait':
        return board.addNote(doc, { callId, text: d.reason }, ctx);
    }
  }

  /**
   * An emergency answered by a unit of an adjacent sector: the call is transferred to that
   * sector's board (where the unit's car sees it) with the unit assigned, and the home board
   * shows it as transferred (dispatch/transfer.ts).
   */
  /**
   * Every transfer of this precinct goes through here (the policy's and the operators'), so a
   * dispatch pass that runs between its two writes knows it is under way.
   */
  async transferCall(req: TransferRequest): Promise<CallView> {
    const key = `${req.from.sector}/${req.callId}`;
    this.transfersInFlight.add(key);
    try {
      return await transferBetweenBoards(req);
    } finally {
      this.transfersInFlight.delete(key);
    }
  }

  private async transfer(sector: string, call: CallView, d: Extract<Decision, { kind: 'dispatch' }>): Promise<boolean> {
    const other = this.opts.sectors.get(d.sector);
    const home = this.opts.sectors.get(sector);
    if (!other || !home) return false;
    try {
      await this.transferCall({
        from: { sector, replica: home.replica },
        to: { sector: d.sector, replica: other.replica },
        callId: call.id,
        reason: d.reason,
        ctx: this.ctxAfter(call, other.replica.view().units[d.unitId]),
        assign: { unitId: d.unitId, reason: d.reason },
      });
    } catch (err) {
      this.opts.log.warn({ err, callId: call.id, unit: d.unitId, sector: d.sector }, 'transfer to adjacent sector failed; decided again on the next board change');
      return false;
    }
    this.record({ sector, callId: call.id, at: this.opts.clock.now(), decision: d });
    return true;
  }

  private record(r: DecisionRecord): void {
    const d = r.decision;
    this.opts.log.info({ sector: r.sector, callId: r.callId, kind: d.kind, ...(d.kind === 'dispatch' ? { unit: d.unitId, rule: d.rule } : {}), reason: d.reason }, 'dispatch decision');
    // One throwing listener must not stop dispatch (SignalK #2446).
    for (const l of this.listeners('decision') as Array<(r: DecisionRecord) => void>) {
      try {
        l(r);
      } catch (err) {
        this.opts.log.error({ err }, 'dispatch decision listener threw');
      }
    }
  }
}
