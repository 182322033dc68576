// The precinct's HTTP API for the communications centre's CAD (calls) and CARE operators, plus a
// read-only overview page. Every request needs an operator's bearer token and is audit-logged.
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { z } from 'zod';
import type { Logger } from '../sync/logger.js';
import type { Department } from './department.js';
import type { Operator, OperatorRegistry } from './operators.js';
import type { VehicleRegistry } from '../sync/credentials.js';
import type { SectorState } from './precinct.js';
import { createFleetApi } from './fleet-api.js';
import * as board from '../sync/board.js';
import type { OpContext, Priority } from '../sync/schema.js';

export interface PrecinctApiDeps {
  precinct: { id: string; name: string };
  department: Department;
  sectors: Map<string, SectorState>;
  operators: OperatorRegistry;
  registry: VehicleRegistry;
  log: Logger;
}

export const newCallSchema = z
  .object({
    cadNumber: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, "_", "." or "-"').optional(),
    type: z.string().min(1).max(80),
    priority: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    late: z.boolean().optional(),
    address: z.string().min(1).max(200),
    beat: z.string().min(1).max(40),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    callerNotes: z.string().max(4000).optional(),
  })
  .strict();

type Env = { Variables: { operator: Operator } };

let cadSeq = 0;
function nextCadNumber(): string {
  cadSeq += 1;
  const d = new Date();
  return `${d.getUTCFullYear()}-${String(d.getTime() % 1_000_000).padStart(6, '0')}${cadSeq}`;
}

export function createPrecinctApi(deps: PrecinctApiDeps): Hono<Env> {
  const { log } = deps;
  const app = new Hono<Env>();

  // A browser signs in once with its token; the cookie is HttpOnly and SameSite=Strict, so no
  // other site can ride on it and no script on the page can read it.
  app.get('/login', (c) =>
    c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in: ${deps.precinct.name}</title></head>
      <body><h1>${deps.precinct.name}</h1><form method="post" action="/login">
      <label>Operator token <input name="token" type="password" autocomplete="off" required></label>
      <button type="submit">Sign in</button></form></body></html>`),
  );
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : undefined;
    const operator = await deps.operators.verify(token);
    if (!operator || !token) {
      log.warn({ path: '/login' }, 'audit: console sign-in refused');
      return c.html(html`<p>Sign-in refused. <a href="/login">Try again</a></p>`, 401);
    }
    log.info({ audit: true, operator: operator.id, role: operator.role }, 'audit: console sign-in');
    setCookie(c, 'mdt_operator', token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/');
  });

  app.route('/api/v1/fleet', createFleetApi(deps)); // before the auth below: fleet routes check their own roles
  app.use('*', async (c, next) => {
    const started = Date.now();
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7) : getCookie(c, 'mdt_operator');
    const operator = await deps.operators.verify(token);
    if (!operator) {
      log.warn({ method: c.req.method, path: c.req.path, hasToken: token !== undefined }, 'audit: request refused, no valid operator credential');
      if (c.req.method === 'GET' && !c.req.path.startsWith('/api/')) return c.redirect('/login');
      return c.json({ error: 'unauthorized', message: 'an operator bearer token is required' }, 401);
    }
    c.set('operator', operator);
    await next();
    log.info({ audit: true, operator: operator.id, role: operator.role, method: c.req.method, path: c.req.path, status: c.res.status, ms: Date.now() - started }, 'audit');
  });

  const ctx = (op: Operator): OpContext => ({
    by: { kind: 'operator', operatorId: op.id, role: op.role },
    at: Date.now(),
  });

  app.get('/api/v1/sectors', (c) =>
    c.json({ precinct: deps.precinct, sectors: [...deps.sectors.keys()].map((s) => ({ id: s, beats: deps.department.sectors[s]?.beats ?? [] })) }),
  );

  app.get('/api/v1/sectors/:sector/board', (c) => {
    const st = deps.sectors.get(c.req.param('sector'));
    if (!st) return c.json({ error: 'not_found', field: 'sector', message: 'sector not served by this precinct' }, 404);
    return c.json({ board: st.replica.view(), presence: Object.fromEntries(st.presence), alerts: st.alerts });
  });

  app.post('/api/v1/calls', async (c) => {
    const parsed = newCallSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json({ error: 'invalid', field: issue?.path.join('.') || '(body)', message: issue?.message ?? 'invalid body' }, 400);
    }
    const input = parsed.data;
    const beat = deps.department.beats[input.beat];
    if (!beat) return c.json({ error: 'invalid', field: 'beat', message: `unknown beat ${input.beat}` }, 400);
    const st = deps.sectors.get(beat.sector);
    if (!st) return c.json({ error: 'invalid', field: 'beat', message: `beat ${input.beat} is in sector ${beat.sector}, not served by precinct ${deps.precinct.id}` }, 400);
    const cadNumber = input.cadNumber ?? nextCadNumber();
    try {
      await st.replica.update((d) =>
        board.createCall(d, { ...input, cadNumber, priority: input.priority as Priority }, ctx(c.get('operator'))),
      );
    } catch (err) {
      const e = err as Error & { code?: string; field?: string };
      return c.json({ error: e.code ?? 'refused', field: e.field, message: e.message }, 409);
    }
    log.info({ cadNumber, sector: beat.sector, beat: input.beat, priority: input.priority }, 'call created');
    return c.json({ id: cadNumber, sector: beat.sector }, 201);
  });

  app.get('/', (c) => {
    const rows = [...deps.sectors.entries()].map(([s, st]) => {
      const v = st.replica.view();
      const units = Object.values(v.units);
      const calls = Object.values(v.calls).filter((x) => x.state !== 'cleared' && x.state !== 'cancelled');
      return html`<section><h2>Sector ${s}</h2>
        <h3>Units</h3><ul>${units.map((u) => html`<li>${u.callSign} (${u.id}): ${u.status} ${st.presence.get(u.id)?.state ?? 'never seen'}</li>`)}</ul>
        <h3>Open calls</h3><ul>${calls.map((x) => html`<li>P${x.priority} ${x.type} at ${x.address} (beat ${x.beat}): ${x.state} ${x.assigned.join(', ')}</li>`)}</ul></section>`;
    });
    return c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${deps.precinct.name}</title></head>
      <body><h1>${deps.precinct.name}</h1>${rows}</body></html>`);
  });

  return app;
}
