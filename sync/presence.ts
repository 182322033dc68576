// Unit presence: a retained message per unit, "online" on connect (the birth) and "offline" as
// the MQTT last will, so every car and the precinct see who is reachable. It carries the car's
// device health so the precinct sees a car whose GPS or modem is failing.
import { z } from 'zod';
import { parseJsonPayload } from './json-payload.js';
import { PAYLOAD_LIMITS } from './acl.js';

const health = z.object({ state: z.enum(['ok', 'degraded', 'missing']), reason: z.string().max(200).optional() }).passthrough();

export const presenceSchema = z
  .object({
    v: z.literal(1),
    unit: z.string().max(40),
    vehicle: z.string().max(40),
    state: z.enum(['online', 'offline']),
    at: z.number(),
    broker: z.string().max(200).optional(),
    health: z.object({ gps: health, modem: health, inputs: health }).partial().optional(),
  })
  .strict();

export type Presence = z.infer<typeof presenceSchema>;

export function parsePresence(payload: Buffer): Presence | undefined {
  return parseJsonPayload(presenceSchema, payload, PAYLOAD_LIMITS.presence);
}

export const alertSchema = z
  .object({ v: z.literal(1), unit: z.string().max(40), kind: z.enum(['emergency', 'emergency_cleared']), at: z.number(), lat: z.number().optional(), lon: z.number().optional() })
  .strict();
export type Alert = z.infer<typeof alertSchema>;

export function parseAlert(payload: Buffer): Alert | undefined {
  return parseJsonPayload(alertSchema, payload, PAYLOAD_LIMITS.alert);
}
