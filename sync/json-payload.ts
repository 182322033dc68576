// One way to read a small JSON message from the wire: size cap, JSON, schema. Anything else is
// undefined, and the caller logs the topic and byte count (never the raw payload).
import type { z } from 'zod';

export function parseJsonPayload<S extends z.ZodType>(schema: S, payload: Buffer, maxBytes: number): z.infer<S> | undefined {
  if (payload.length === 0 || payload.length > maxBytes) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(payload.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
