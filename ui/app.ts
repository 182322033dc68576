// The in-car screen's HTTP surface (Hono): the page, its live event stream, health, the officer's
// session (sign on, lock, unlock, sign off) and actions. Loopback and same-origin only: the Host
// header must name this machine (DNS rebinding), every state-changing request carries the
// per-process CSRF token the page was rendered with in a custom header (a cross-site form cannot
// set one, and no CORS is granted), and cross-site fetch metadata is refused outright.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { Logger } from '../sync/logger.js';
import { packagePath } from '../daemon/paths.js';
import type { VehicleScreen } from './screen.js';
import { OfficerSession, type SessionLimits } from './session.js';
import { LiveScreen, StreamDiff, type Frame, type Push } from './live.js';
import { renderPage, type Theme } from './page.js';
import { sectorProjection } from './views/map.js';

const STATUSES = ['available', 'en_route', 'on_scene', 'transporting', 'out_of_service'] as const;
const statusBody = z.object({ status: z.enum(STATUSES), reason: z.string().min(1).max(200).optional() }).strict();
const noteBody = z.object({ text: z.string().trim().min(1).max(2000) }).strict();
const clearBody = z.object({ disposition: z.string().min(1).max(40) }).strict();
const signOnBody = z.object({ badge: z.string().regex(/^[A-Za-z0-9-]{1,16}$/, 'badge: letters, digits or "-"'), pin: z.string().min(1).max(64) }).strict();
const unlockBody = z.object({ pin: z.string().min(1).max(64) }).strict();
const themeBody = z.object({ theme: z.enum(['day', 'night']) }).strict();
const recipient = z.discriminatedUnion('kind', [z.object({ kind: z.literal('unit'), id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'a unit id') }).strict(), z.object({ kind: z.literal('dispatch') }).strict()]);
const messageBody = z.object({ to: z.array(recipient).min(1, 'choose at least one recipient').max(20), text: z.string().trim().min(1, 'write the message').max(1000) }).strict();

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface VehicleUiOptions {
  lockAfterMs: number;
  /** Extra host names the page may be reached by (only with ui.allowRemote). */
  hosts?: string[];
  now?: () => number;
  limits?: SessionLimits;
  theme?: Theme;
}

export interface VehicleUi {
  app: Hono;
  session: OfficerSession;
  live: LiveScreen;
  dispose(): void;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
}

export function createVehicleUi(screen: VehicleScreen, log: Logger, opts: VehicleUiOptions): VehicleUi {
  const app = new Hono();
  const csrf = randomBytes(24).toString('base64url');
  const assets = {
    'screen.js': readFileSync(packagePath('ui', 'assets', 'screen.js'), 'utf8'),
    'emergency.js': readFileSync(packagePath('ui', 'assets', 'emergency.js'), 'utf8'),
    'screen.css': readFileSync(packagePath('ui', 'assets', 'screen.css'), 'utf8'),
  } as const;
  const allowedHosts = new Set([...LOOPBACK_HOSTS, ...(opts.hosts ?? [])]);
  let theme: Theme = opts.theme ?? 'day';
  const session = new OfficerSession({
    roster: () => screen.roster(),
    signOn: (o) => screen.actions.signOn(o),
    signOff: (o) => screen.actions.signOff(o),
    lockAfterMs: opts.lockAfterMs,
    log,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const projection = sectorProjection(screen.department, screen.identity.sector);
  const live = new LiveScreen(screen, session, projection, log, opts.now);

  app.use('*', async (c, next) => {
    const host = hostName(c.req.header('host'));
    if (host !== undefined && !allowedHosts.has(host)) {
      log.warn({ host, path: c.req.path }, 'request refused: unexpected Host header');
      return c.text('unexpected Host', 421);
    }
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', c.res.headers.get('Cache-Control') ?? 'no-store');
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
  });

  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (c.req.header('sec-fetch-site') === 'cross-site' || !sameToken(c.req.header('x-mdt-csrf'), csrf)) {
      log.warn({ path: c.req.path }, 'request refused: missing or wrong CSRF token');
      return c.json({ error: 'csrf', message: 'missing or wrong CSRF token' }, 403);
    }
    return next();
  });

  // The frame each page was rendered with, for its first event stream (one use, then dropped):
  // the page does not download and re-lay-out every fragment a second time on load.
  const pageFrames = new Map<string, Frame>();
  app.get('/', (c) => {
    const frame = live.render();
    const frameId = randomBytes(9).toString('base64url');
    pageFrames.set(frameId, frame);
    if (pageFrames.size > 8) pageFrames.delete(pageFrames.keys().next().value!);
    return c.html(renderPage({ screen, csrf, theme, frags: frame.frags, meta: frame.meta, projection, frameId }));
  });
  for (const [name, body] of Object.entries(assets)) {
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    app.get(`/assets/${name}`, (c) => c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' }));
  }

  app.get('/healthz', (c) => {
    const h = screen.health();
    const ok = h.gps.state === 'ok' && h.broker.state === 'online';
    return c.json({ ok, unit: screen.identity.unitId, session: session.view().state, ...h });
  });

  app.get('/api/state', (c) =>
    c.json({
      identity: screen.identity,
      session: session.view(),
      health: screen.health(),
      board: session.isActive() ? screen.board() : null,
      positions: session.isActive() ? screen.positions() : {},
    }),
  );

  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const diff = new StreamDiff();
      const since = c.req.query('since');
      const seed = since ? pageFrames.get(since) : undefined;
      if (since && seed) {
        pageFrames.delete(since);
        diff.seed(seed);
      }
      const queue: Push[] = [];
      let wake: (() => void) | undefined;
      const onFrame = (f: Frame) => {
        const p = diff.next(f);
        if (!p) return;
        queue.push(p);
        wake?.();
      };
      live.on('frame', onFrame);
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      try {
        // Always one event first, even if nothing changed since the page was rendered: it tells
        // the page that it is live.
        const first = live.render();
        queue.push(diff.next(first) ?? { f: {}, m: first.meta });
        while (open) {
          if (queue.length === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          while (queue.length > 0 && open) await stream.writeSSE({ event: 'frag', data: JSON.stringify(queue.shift()) });
        }
      } finally {
        live.off('frame', onFrame);
      }
    }),
  );

  const refused = (c: Context, err: unknown) => {
    const e = err as Error & { code?: string; field?: string };
    log.warn({ path: c.req.path, code: e.code, err: e.message }, 'officer action refused');
    return c.json({ error: e.code ?? 'refused', message: e.message, ...(e.field ? { field: e.field } : {}) }, 409);
  };
  /** Officer actions need an unlocked session; each one also counts as activity. */
  const action = async (c: Context, fn: () => Promise<void>) => {
    if (!session.isActive()) return c.json({ error: 'locked', message: 'sign on or unlock the screen first' }, 403);
    session.touch();
    try {
      await fn();
      return c.json({ ok: true });
    } catch (err) {
      return refused(c, err);
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
  const sessionReply = (c: Context, r: Awaited<ReturnType<OfficerSession['signOn']>>) =>
    r.ok ? c.json({ ok: true, session: session.view() }) : c.json({ error: r.code, message: r.message, ...(r.retryAt ? { retryAt: r.retryAt } : {}) }, r.code === 'throttled' ? 429 : r.code === 'refused' ? 401 : 409);

  app.post('/api/session/sign-on', async (c) => {
    const b = await body(c, signOnBody);
    if (b instanceof Response) return b;
    return sessionReply(c, await session.signOn(b.badge, b.pin));
  });
  app.post('/api/session/unlock', async (c) => {
    const b = await body(c, unlockBody);
    if (b instanceof Response) return b;
    return sessionReply(c, await session.unlock(b.pin));
  });
  app.post('/api/session/lock', (c) => {
    session.lock('manual');
    return c.json({ ok: true, session: session.view() });
  });
  app.post('/api/session/sign-off', async (c) => sessionReply(c, await session.signOff()));
  app.post('/api/session/activity', (c) => {
    session.touch();
    return c.body(null, 204);
  });
  app.post('/api/theme', async (c) => {
    const b = await body(c, themeBody);
    if (b instanceof Response) return b;
    theme = b.theme;
    return c.body(null, 204);
  });

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
  app.post('/api/reports/:id/read', (c) => action(c, () => screen.actions.markRead(c.req.param('id'))));
  app.post('/api/messages', async (c) => {
    const b = await body(c, messageBody);
    if (b instanceof Response) return b;
    return action(c, () => screen.actions.sendMessage(b.to, b.text));
  });
  app.post('/api/messages/:id/read', (c) => action(c, () => screen.actions.markMessageRead(c.req.param('id'))));

  // The emergency works in every session state, locked or signed off included: an officer in
  // trouble is not asked for a PIN. The alert is published before the board write (vehicle.ts).
  app.post('/api/emergency', async (c) => {
    try {
      await screen.actions.emergency();
      return c.json({ ok: true });
    } catch (err) {
      log.error({ err }, 'emergency from the screen failed');
      return c.json({ error: 'emergency_failed', message: (err as Error).message }, 500);
    }
  });

  return {
    app,
    session,
    live,
    dispose() {
      session.dispose();
      live.dispose();
    },
  };
}
