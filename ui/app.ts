// The in-car screen's HTTP surface (Hono): the page, its live event stream, health, and the
// officer's actions. Same-origin only; every state-changing request carries the per-process
// CSRF token that the page was rendered with.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { Logger } from '../sync/logger.js';
import { packagePath } from '../daemon/paths.js';
import type { VehicleScreen, ScreenEvents } from './screen.js';
import { renderScreenPage } from './page.js';

const STATUSES = ['available', 'en_route', 'on_scene', 'transporting', 'out_of_service', 'off_duty'] as const;
const statusBody = z.object({ status: z.enum(STATUSES), reason: z.string().max(200).optional() }).strict();
const noteBody = z.object({ text: z.string().min(1).max(2000) }).strict();
const clearBody = z.object({ disposition: z.string().min(1).max(40) }).strict();

function sameToken(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createVehicleUi(screen: VehicleScreen, log: Logger): Hono {
  const app = new Hono();
  const csrf = randomBytes(24).toString('base64url');
  const script = readFileSync(packagePath('ui', 'assets', 'screen.js'), 'utf8');
  const style = readFileSync(packagePath('ui', 'assets', 'screen.css'), 'utf8');

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'");
  });

  // CSRF: a custom header cannot be sent cross-site without CORS, and we grant no CORS.
  app.use('/api/*', async (c, next) => {
    if (c.req.method !== 'GET' && !sameToken(c.req.header('x-mdt-csrf'), csrf)) {
      log.warn({ path: c.req.path }, 'request refused: missing or wrong CSRF token');
      return c.json({ error: 'csrf', message: 'missing or wrong CSRF token' }, 403);
    }
    return next();
  });

  app.get('/', (c) => c.html(renderScreenPage(screen, csrf)));
  app.get('/assets/screen.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('/assets/screen.css', (c) => c.body(style, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }));

  app.get('/healthz', (c) => {
    const h = screen.health();
    const ok = h.gps.state === 'ok' && h.broker.state === 'online';
    return c.json({ ok, unit: screen.identity.unitId, ...h });
  });

  app.get('/api/state', (c) => c.json(snapshot(screen)));

  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: Array<{ event: string; data: string }> = [];
      let wake: (() => void) | undefined;
      const push = (event: keyof ScreenEvents) => (payload: unknown) => {
        queue.push({ event, data: JSON.stringify(payload) });
        wake?.();
      };
      const listeners = (['board', 'avl', 'presence', 'alert', 'health'] as const).map((e) => [e, push(e)] as const);
      for (const [e, l] of listeners) screen.events.on(e, l);
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'snapshot', data: JSON.stringify(snapshot(screen)) });
        while (open) {
          if (queue.length === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          while (queue.length > 0 && open) {
            const m = queue.shift()!;
            await stream.writeSSE(m);
          }
        }
      } finally {
        for (const [e, l] of listeners) screen.events.off(e, l);
      }
    }),
  );

  const action = async (c: Context, fn: () => Promise<void>) => {
    try {
      await fn();
      return c.json({ ok: true });
    } catch (err) {
      const e = err as Error & { code?: string; field?: string };
      log.warn({ path: c.req.path, code: e.code, err: e.message }, 'officer action refused');
      return c.json({ error: e.code ?? 'refused', message: e.message, ...(e.field ? { field: e.field } : {}) }, 409);
    }
  };
  const body = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S> | Response> => {
    const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json({ error: 'invalid', field: issue?.path.join('.') || '(body)', message: issue?.message ?? 'invalid body' }, 400);
    }
    return parsed.data;
  };

  app.post('/api/status', async (c) => {
    const b = await body(c, statusBody);
    if (b instanceof Response) return b;
    return action(c, () => screen.actions.setStatus(b.status, b.reason));
  });
  app.post('/api/calls/:id/accept', (c) => action(c, () => screen.actions.acceptCall(c.req.param('id'))));
  app.post('/api/calls/:id/notes', async (c) => {
    const b = await body(c, noteBody);
    if (b instanceof Response) return b;
    return action(c, () => screen.actions.addNote(c.req.param('id'), b.text));
  });
  app.post('/api/calls/:id/clear', async (c) => {
    const b = await body(c, clearBody);
    if (b instanceof Response) return b;
    return action(c, () => screen.actions.clearCall(c.req.param('id'), b.disposition));
  });
  app.post('/api/emergency', (c) => action(c, () => screen.actions.emergency()));

  return app;
}

function snapshot(screen: VehicleScreen) {
  return {
    identity: screen.identity,
    board: screen.board(),
    health: screen.health(),
    positions: screen.positions(),
    presence: screen.presence(),
    alerts: screen.alerts(),
  };
}
