// The department's dispatch policy, as a pure function: (the sector boards, one call, who the beat
// officers are, where the units are, now) -> one decision with its reason. No I/O and no clock of
// its own, so the same inputs always give the same decision (tests and the replay rely on it).
//
// The rules (ARCHITECTURE.md, issue 6), in the order they are applied:
//  1. P1 emergency (not reported late): dispatch at once to the beat officer if available, else the
//     nearest available unit of the sector by AVL, else the nearest available unit of an adjacent
//     sector; if nobody is free anywhere, the call goes to the first unit that comes free.
//  2. Any other call (and a late-reported P1): dispatch at once to the beat officer if available;
//     if the beat officer is out of service (busy on a call, out of service, off duty) hold the call
//     until now + holdMs for them. The moment a beat officer is available the call goes to them; at
//     the deadline it goes to the nearest other available unit of the sector (or, if none is free,
//     the first one that comes free).
//  3. A hold released by an operator is not held again: the call goes to the nearest available
//     unit of the sector.
import { isClosedCallState, type BoardView, type CallView, type UnitView } from '../sync/schema.js';
import { distanceM, type LonLat } from '../hardware/geo.js';
import { formatDuration } from './clock.js';

export interface Position {
  lat: number;
  lon: number;
  /** When the fix was taken (epoch ms). */
  at: number;
}

export interface SectorSnapshot {
  sector: string;
  board: BoardView;
  /** Latest AVL position per unit id (ephemeral, from MQTT, never in the board). */
  positions: Readonly<Record<string, Position>>;
}

export interface PolicyInput {
  call: CallView;
  /** The call's own sector. */
  home: SectorSnapshot;
  /** Adjacent sectors, nearest first (see dispatch/geography.ts). */
  adjacent: readonly SectorSnapshot[];
  /** The beat officer(s) of the call's beat now, from the yearly schedule (or the roster). */
  beatOfficers: readonly string[];
  /** A point inside a beat [lon, lat]: where a call without coordinates, or a unit without AVL, is assumed to be. */
  beatCenter(beat: string): LonLat | undefined;
  now: number;
  holdMs: number;
}

export type DispatchRule =
  | 'beat_officer'
  | 'emergency_nearest'
  | 'emergency_adjacent'
  | 'after_deadline'
  | 'no_beat_officer'
  | 'hold_released'
  | 'first_free';

export type Decision =
  /** Assign `unitId`; when `sector` differs from the call's, the call is transferred there. */
  | { kind: 'dispatch'; unitId: string; sector: string; rule: DispatchRule; reason: string }
  /** Hold the call (or re-hold it for a different beat officer, keeping the deadline). */
  | { kind: 'hold'; unitId?: string; until: number; reason: string }
  /** Nothing can be done now; the reason is recorded once and the call waits for a free unit. */
  | { kind: 'wait'; reason: string }
  /** Nothing to decide: the call is closed, already has a unit, or its hold is unchanged. */
  | { kind: 'none'; reason: string };

export const isEmergency = (call: CallView): boolean => call.priority === 1 && !call.late;

const available = (u: UnitView | undefined): u is UnitView => u !== undefined && u.status === 'available';

/** Why a unit cannot take a call now, in the words the history uses ("on call 2026-004512"). */
export function unavailability(u: UnitView | undefined): string {
  if (!u) return 'not signed on';
  if (u.callId) return `on call ${u.callId}`;
  switch (u.status) {
    case 'off_duty':
      // Put on the board by the schedule but never signed on: the console shows it as expected.
      return u.history.length === 0 ? 'not signed on' : 'off duty';
    case 'out_of_service':
      return `out of service${u.statusReason ? ` (${u.statusReason})` : ''}`;
    case 'emergency':
      return 'in an emergency';
    default:
      return u.status.replace(/_/g, ' ');
  }
}

function callPoint(call: CallView, beatCenter: PolicyInput['beatCenter']): LonLat | undefined {
  if (call.lat !== undefined && call.lon !== undefined) return [call.lon, call.lat];
  return beatCenter(call.beat);
}

interface Candidate {
  unit: UnitView;
  sector: string;
  metres: number;
  /** True when the distance is from the unit's home beat because no AVL position is known. */
  estimated: boolean;
}

/**
 * Available units of the given sectors, nearest first. A unit without an AVL position is placed
 * at its home beat's centre and ranks after every unit whose position is known at the same
 * distance; ties go to the lower unit id, so the order is total and deterministic.
 */
export function rankAvailable(snapshots: readonly SectorSnapshot[], target: LonLat | undefined, beatCenter: PolicyInput['beatCenter'], exclude: ReadonlySet<string> = new Set()): Candidate[] {
  const out: Candidate[] = [];
  for (const s of snapshots) {
    for (const u of Object.values(s.board.units)) {
      if (!available(u) || exclude.has(u.id)) continue;
      const pos = s.positions[u.id];
      const at: LonLat | undefined = pos ? [pos.lon, pos.lat] : beatCenter(u.homeBeat);
      const metres = target && at ? distanceM(target, at) : Number.POSITIVE_INFINITY;
      out.push({ unit: u, sector: s.sector, metres, estimated: !pos });
    }
  }
  return out.sort((a, b) => a.metres - b.metres || Number(a.estimated) - Number(b.estimated) || (a.unit.id < b.unit.id ? -1 : a.unit.id > b.unit.id ? 1 : 0));
}

function km(c: Candidate): string {
  if (!Number.isFinite(c.metres)) return 'no position known';
  return `${(c.metres / 1000).toFixed(1)} km${c.estimated ? ' from its home beat, no AVL' : ' by AVL'}`;
}

/** The first time the call was held and the latest hold event, from its history. */
function holdHistory(call: CallView): { firstHeldAt?: number; releasedByOperator: boolean } {
  let firstHeldAt: number | undefined;
  let last: CallView['history'][number] | undefined;
  for (const h of call.history) {
    if (h.event !== 'held' && h.event !== 'released') continue;
    if (h.event === 'held') firstHeldAt ??= h.at;
    last = h;
  }
  return { ...(firstHeldAt !== undefined ? { firstHeldAt } : {}), releasedByOperator: last?.event === 'released' && last.by.kind === 'operator' };
}

function describeBeatOfficers(ids: readonly string[], units: BoardView['units']): string {
  return ids.map((id) => `${id} ${unavailability(units[id])}`).join(', ');
}

export function decide(input: PolicyInput): Decision {
  const { call, home, now } = input;
  if (isClosedCallState(call.state)) return { kind: 'none', reason: `call is ${call.state}` };
  if (call.assigned.length > 0) return { kind: 'none', reason: `call has unit ${call.assigned[0]}` };
  const units = home.board.units;
  const target = callPoint(call, input.beatCenter);
  const beatOfficers = input.beatOfficers;
  const freeBeatOfficer = beatOfficers.find((id) => available(units[id]));
  const beatLabel = `beat ${call.beat}`;

  if (isEmergency(call)) {
    if (freeBeatOfficer) {
      return { kind: 'dispatch', unitId: freeBeatOfficer, sector: home.sector, rule: 'beat_officer', reason: `dispatched to ${freeBeatOfficer}: P1 emergency, beat officer of ${beatLabel} available` };
    }
    const why = beatOfficers.length > 0 ? `beat officer ${describeBeatOfficers(beatOfficers, units)}` : `no beat officer scheduled for ${beatLabel}`;
    const nearest = rankAvailable([home], target, input.beatCenter)[0];
    if (nearest) {
      return {
        kind: 'dispatch',
        unitId: nearest.unit.id,
        sector: home.sector,
        rule: 'emergency_nearest',
        reason: `dispatched to ${nearest.unit.id}: P1 emergency, ${why}; nearest available unit of sector ${home.sector} (${km(nearest)})`,
      };
    }
    const outside = rankAvailable(input.adjacent, target, input.beatCenter)[0];
    if (outside) {
      return {
        kind: 'dispatch',
        unitId: outside.unit.id,
        sector: outside.sector,
        rule: 'emergency_adjacent',
        reason: `dispatched to ${outside.unit.id} of adjacent sector ${outside.sector}: P1 emergency, every unit of sector ${home.sector} busy; nearest available unit of the adjacent sectors (${km(outside)})`,
      };
    }
    const adj = input.adjacent.map((s) => s.sector).join(', ');
    return { kind: 'wait', reason: `waiting: P1 emergency, no unit available in sector ${home.sector}${adj ? ` nor adjacent sectors ${adj}` : ''}; goes to the first unit to come free` };
  }

  // Non-emergency or late-reported call: beat integrity first.
  if (freeBeatOfficer) {
    const { firstHeldAt } = holdHistory(call);
    const after = firstHeldAt !== undefined ? ` after ${formatDuration(now - firstHeldAt)} hold` : '';
    return { kind: 'dispatch', unitId: freeBeatOfficer, sector: home.sector, rule: 'beat_officer', reason: `dispatched to ${freeBeatOfficer}${after}: beat officer of ${beatLabel} available` };
  }
  const beatOfficerSet = new Set(beatOfficers);
  const { firstHeldAt, releasedByOperator } = holdHistory(call);

  if (call.state === 'held' && call.hold) {
    const hold = call.hold;
    if (now >= hold.deadline) {
      const other = rankAvailable([home], target, input.beatCenter, beatOfficerSet)[0];
      const waited = formatDuration(now - (firstHeldAt ?? hold.since));
      const why = beatOfficers.length > 0 ? `beat officer ${describeBeatOfficers(beatOfficers, units)}` : `no beat officer scheduled for ${beatLabel}`;
      if (other) {
        return { kind: 'dispatch', unitId: other.unit.id, sector: home.sector, rule: 'after_deadline', reason: `dispatched to ${other.unit.id} after ${waited} hold: ${why}; nearest available unit of sector ${home.sector} (${km(other)})` };
      }
      return { kind: 'wait', reason: `hold deadline passed: ${why} and no other unit of sector ${home.sector} available; goes to the first unit to come free` };
    }
    // Still within the hold. If the unit it waits for is no longer the beat officer (shift change),
    // re-hold it for the incoming one with the same deadline, so the console names the right unit.
    const primary = beatOfficers[0];
    if (primary && hold.unitId !== primary) {
      const was = hold.unitId ? `${hold.unitId} is no longer the beat officer (${unavailability(units[hold.unitId])}); ` : '';
      return { kind: 'hold', unitId: primary, until: hold.deadline, reason: `held: ${was}beat officer ${describeBeatOfficers(beatOfficers, units)}` };
    }
    return { kind: 'none', reason: 'held for the beat officer' };
  }

  // Pending.
  if (releasedByOperator) {
    const any = rankAvailable([home], target, input.beatCenter)[0];
    if (any) return { kind: 'dispatch', unitId: any.unit.id, sector: home.sector, rule: 'hold_released', reason: `dispatched to ${any.unit.id}: hold released by an operator; nearest available unit of sector ${home.sector} (${km(any)})` };
    return { kind: 'wait', reason: `hold released by an operator; no unit of sector ${home.sector} available; goes to the first unit to come free` };
  }
  if (beatOfficers.length === 0) {
    const any = rankAvailable([home], target, input.beatCenter)[0];
    if (any) return { kind: 'dispatch', unitId: any.unit.id, sector: home.sector, rule: 'no_beat_officer', reason: `dispatched to ${any.unit.id}: no beat officer scheduled for ${beatLabel}; nearest available unit of sector ${home.sector} (${km(any)})` };
    return { kind: 'hold', until: now + input.holdMs, reason: `held: no beat officer scheduled for ${beatLabel} and no unit of sector ${home.sector} available` };
  }
  if (firstHeldAt !== undefined && now - firstHeldAt >= input.holdMs) {
    // Held before (e.g. an operator extended then the hold lapsed into pending): never hold twice past the limit.
    const other = rankAvailable([home], target, input.beatCenter, beatOfficerSet)[0];
    if (other) return { kind: 'dispatch', unitId: other.unit.id, sector: home.sector, rule: 'after_deadline', reason: `dispatched to ${other.unit.id} after ${formatDuration(now - firstHeldAt)} hold: beat officer ${describeBeatOfficers(beatOfficers, units)}` };
    return { kind: 'wait', reason: `hold time used up and no unit of sector ${home.sector} available; goes to the first unit to come free` };
  }
  return { kind: 'hold', unitId: beatOfficers[0]!, until: now + input.holdMs, reason: `held: beat officer ${describeBeatOfficers(beatOfficers, units)}` };
}

/** Order in which a sector's open calls are decided: emergencies first, then oldest first. */
export function callOrder(a: CallView, b: CallView): number {
  const ea = isEmergency(a) ? 0 : 1;
  const eb = isEmergency(b) ? 0 : 1;
  return ea - eb || a.priority - b.priority || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
