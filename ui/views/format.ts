// Words for the screen: statuses, priorities and times, always as text (never colour alone).
import type { CallState, Priority, UnitStatus } from '../../sync/schema.js';

export const STATUS_LABEL: Record<UnitStatus, string> = {
  available: 'Available',
  dispatched: 'Dispatched',
  en_route: 'En route',
  on_scene: 'On scene',
  transporting: 'Transporting',
  out_of_service: 'Out of service',
  off_duty: 'Off duty',
  emergency: 'EMERGENCY',
};

export const PRIORITY_LABEL: Record<Priority, string> = { 1: 'Emergency', 2: 'Urgent', 3: 'Prompt', 4: 'Routine' };

export const CALL_STATE_LABEL: Record<CallState, string> = {
  pending: 'Pending',
  held: 'Held',
  dispatched: 'Dispatched',
  en_route: 'En route',
  on_scene: 'On scene',
  cleared: 'Cleared',
  cancelled: 'Cancelled',
  transferred: 'Transferred',
};

/** Wall-clock time as the officer reads it: 24-hour HH:MM (the daemon's time zone). */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// Ages and countdowns are rendered to the minute on the daemon, so a fragment does not change every
// second (which would re-push the queue on every AVL fix); the page's script ticks them to the
// second from the data-since / data-until timestamps (assets/screen.js fmtAge, fmtLeft).

/** "<1 min", "4 min", "1 h 05". */
export function age(ms: number): string {
  const m = Math.floor(Math.max(0, ms) / 60_000);
  if (m < 1) return '<1 min';
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}`;
}

/** Countdown to the minute: "30 min", "<1 min". */
export function left(ms: number): string {
  const m = Math.ceil(Math.max(0, ms) / 60_000);
  return m <= 1 ? (ms > 0 ? '<1 min' : '0 min') : `${m} min`;
}
