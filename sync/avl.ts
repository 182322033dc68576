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
