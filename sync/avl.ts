// Automatic vehicle location: ephemeral positions over MQTT (QoS 0, retained latest per unit),
// never written into the board (a shift of 1 Hz fixes grows a sector doc to 20 MB and a 19 s
// load: notes/sync-stack.md d3/d4). A car sends when it moved >= 25 m, turned >= 15 degrees or
// maxIntervalMs passed, and never more often than minIntervalMs.
import { z } from 'zod';
import { parseJsonPayload } from './json-payload.js';
import { PAYLOAD_LIMITS } from './acl.js';
import { distanceM } from '../hardware/geo.js';

export const avlPositionSchema = z
  .object({
    v: z.literal(1),
    unit: z.string().max(40),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    speed: z.number().min(0).max(100).optional(),
    track: z.number().min(0).max(360).optional(),
    mode: z.enum(['none', '2d', '3d']),
    /** GPS time of the fix, epoch ms. */
    at: z.number(),
  })
  .strict();

export type AvlPosition = z.infer<typeof avlPositionSchema>;

export interface AvlThresholds {
  minIntervalMs: number;
  maxIntervalMs: number;
  minMoveM?: number;
  minTurnDeg?: number;
}

function turned(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return 0;
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/** Whether `next` is worth sending given the last position sent at `lastSentAt`. */
export function shouldSendPosition(last: AvlPosition | undefined, lastSentAt: number, next: AvlPosition, now: number, t: AvlThresholds): boolean {
  if (!last) return true;
  const elapsed = now - lastSentAt;
  if (elapsed < t.minIntervalMs) return false;
  if (elapsed >= t.maxIntervalMs) return true;
  if (distanceM([last.lon, last.lat], [next.lon, next.lat]) >= (t.minMoveM ?? 25)) return true;
  return turned(last.track, next.track) >= (t.minTurnDeg ?? 15);
}

/** Parses a position from the wire; undefined (and the caller logs) for anything malformed. */
export function parseAvl(payload: Buffer): AvlPosition | undefined {
  return parseJsonPayload(avlPositionSchema, payload, PAYLOAD_LIMITS.avl);
}

/** Positions kept per unit for the Watch Commander's map trail: 10 min at 1 Hz. */
export const BREADCRUMB_LIMIT = 600;
/** Units with a trail at most: a precinct sees its own cars plus roaming ones, never thousands. */
export const BREADCRUMB_UNITS = 2000;

/**
 * Appends a position to its unit's bounded trail (in memory; never the board). Refuses a position
 * not newer than the last one kept (a replayed or reordered message) and a new unit past the cap.
 */
export function appendBreadcrumb(trails: Map<string, AvlPosition[]>, pos: AvlPosition, limit = BREADCRUMB_LIMIT, maxUnits = BREADCRUMB_UNITS): boolean {
  let trail = trails.get(pos.unit);
  if (!trail) {
    if (trails.size >= maxUnits) return false;
    trail = [];
    trails.set(pos.unit, trail);
  }
  const last = trail[trail.length - 1];
  if (last && pos.at <= last.at) return false;
  trail.push(pos);
  if (trail.length > limit) trail.splice(0, trail.length - limit);
  return true;
}
