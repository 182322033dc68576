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
};

/** Wall-clock time as the officer reads it: 24-hour HH:MM (the daemon's time zone). */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** "4 min", "1 h 05", as the client script also formats it (assets/screen.js fmtAge). */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}`;
}

/** Countdown "mm:ss" (client: fmtLeft). */
export function left(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
