// The precinct's HTTP API for the communications centre's CAD (calls) and CARE operators, the
// policy overrides of dispatchers and Watch Commanders, and the Watch Commander console
// (ui/console/). Every request needs an operator's credential (bearer token, or the console's
// sign-in cookie) and is audit-logged with the operator. The OpenAPI document is at
// /api/v1/openapi.json.
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { z } from 'zod';
import type { Logger } from '../sync/logger.js';
import type { Department } from './department.js';
import type { Operator, OperatorRegistry } from './operators.js';
import type { CallView } from '../sync/schema.js';
import type { VehicleRegistry } from '../sync/credentials.js';
import type { SectorState } from './precinct.js';
import { createFleetApi } from './fleet-api.js';
import type { PrecinctDispatch } from '../dispatch/station.js';
import * as actions from '../dispatch/operator-actions.js';
import { ActionError } from '../dispatch/operator-actions.js';
import * as inboxActions from '../dispatch/inbox-actions.js';
import { cutEpochNow } from '../dispatch/epoch-actions.js';
import { createConsole } from '../ui/console/routes.js';

export interface PrecinctApiDeps {
  precinct: { id: string; name: string };
  department: Department;
  sectors: Map<string, SectorState>;
  operators: OperatorRegistry;
  registry: VehicleRegistry;
  dispatch: PrecinctDispatch;
  log: Logger;
}

const ID = /^[A-Za-z0-9_.-]{1,40}$/;
/** Epoch milliseconds or an ISO 8601 date-time. */
const instant = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((t) => Date.parse(t))]);

export const newCallSchema = z
  .object({
    cadNumber: z.string().regex(ID, 'letters, digits, "_", "." or "-"').optional(),
    type: z.string().min(1).max(64),
    priority: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).describe('1 = emergency (dispatched immediately) .. 4'),
    late: z.boolean().optional().describe('reported after a significant delay: goes to the beat officer like a non-emergency call'),
    occurredAt: instant.optional().describe('when the incident happened; older than dispatch.lateReportMinutes makes the call late'),
    address: z.string().min(1).max(200),
    beat: z.string().min(1).max(40),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    callerNotes: z.string().max(2000).optional(),
  })
  .strict();
export const updateCallSchema = z
  .object({
    type: z.string().min(1).max(64).optional(),
    priority: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional().describe('raising a held call to 1 dispatches it at once (emergency rule)'),
    late: z.boolean().optional(),
    address: z.string().min(1).max(200).optional(),
    beat: z.string().min(1).max(40).optional().describe('a beat of the same sector; the policy re-decides with that beat\'s officer (another sector: transfer the call)'),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    callerNotes: z.string().max(2000).optional(),
    reason: z.string().min(1).max(160).optional().describe('why, recorded with the change'),
    note: z.string().min(1).max(2000).optional().describe('supplementary information from the CAD, added to the narrative'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.lat === undefined) !== (v.lon === undefined)) ctx.addIssue({ code: 'custom', path: [v.lat === undefined ? 'lat' : 'lon'], message: 'lat and lon come together' });
    if (Object.values(v).every((x) => x === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'nothing to update: give at least one field or a note' });
  });
export const transferSchema = z
  .object({
    toSector: z.string().regex(ID).describe('a sector of this precinct'),
    reason: z.string().min(1).max(160),
    unitId: z.string().regex(ID).optional().describe('an available unit of that sector, sent with the call; without it that sector\'s policy decides'),
  })
  .strict();
export const reasonSchema = z.object({ reason: z.string().min(1).max(160) }).strict();
export const assignSchema = z.object({ unitId: z.string().regex(ID), reason: z.string().min(1).max(160) }).strict();
export const extendSchema = z.object({ minutes: z.number().int().min(1).max(120), reason: z.string().min(1).max(120) }).strict();
export const reportSchema = z
  .object({
    beat: z.string().min(1).max(40).describe('beat where the incident happened: its beat officers and the sector supervisors receive the report'),
    callId: z.string().regex(ID).optional(),
    title: z.string().min(1).max(200),
    body: z.string().min(1).max(20_000),
    incidentAt: instant,
  })
  .strict();
export const epochCutSchema = z.object({ reason: z.string().min(1).max(160).describe('why, written to the audit log') }).strict();
export const readSchema = z.object({ readerId: z.string().regex(ID).describe('the supervisor reading the report') }).strict();
export const messageSchema = z
  .object({
    sector: z.string().regex(ID).describe('the sector whose units receive it'),
    to: z.array(z.string().regex(ID)).min(1).max(20).describe('unit ids of that sector'),
    text: z.string().trim().min(1).max(1000).describe('immutable once sent'),
  })
  .strict();
export const noticeSchema = z
  .object({
    title: z.string().min(1).max(200),
    startsAt: instant.describe('when the meeting starts'),
    place: z.string().min(1).max(200),
    details: z.string().max(2000).optional(),
    beat: z.string().regex(ID).optional().describe('the beat the meeting is about: the notice goes to its sector'),
    sector: z.string().regex(ID).optional().describe('without beat or sector: every sector of the precinct'),
  })
  .strict();

type Env = { Variables: { operator: Operator } };

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

  // The API's own description, public like any API document: it holds no data.
  app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument(deps.precinct)));
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

  const actionDeps = (): actions.ActionDeps => ({ precinct: deps.precinct, department: deps.department, sectors: deps.sectors, dispatch: deps.dispatch });

  /** Parses a JSON body with a zod schema; a failure is a 400 naming the field. */
  const body = async <S extends z.ZodType>(c: Context<Env>, schema: S): Promise<z.infer<S>> => {
    const raw: unknown = await c.req.json().catch(() => undefined);
    if (raw === undefined) throw new ActionError(400, 'invalid', '(body)', 'expected a JSON body (content-type: application/json)');
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid body');
      throw new ActionError(400, 'invalid', issue?.path.join('.') || '(body)', message);
    }
    return parsed.data;
  };
  app.onError((err, c) => {
    if (!(err instanceof ActionError) && !(err instanceof Error && err.name === 'BoardError')) {
      // A bug, not a refusal: logged with its stack; the caller gets no internals.
      log.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
      return c.json({ error: 'internal', message: 'the station could not handle this request; it is logged' }, 500);
    }
    const e = actions.fromBoardError(err);
    return c.json({ error: e.code, ...(e.field ? { field: e.field } : {}), message: e.message }, e.status);
  });
  const callJson = (call: CallView, sector: string) => ({ sector, call, decision: actions.lastDecision(call) ?? null });

  app.get('/api/v1/sectors', (c) =>
    c.json({ precinct: deps.precinct, sectors: [...deps.sectors.keys()].map((s) => ({ id: s, beats: deps.department.sectors[s]?.beats ?? [] })) }),
  );

  app.get('/api/v1/sectors/:sector/board', (c) => {
    const st = deps.sectors.get(c.req.param('sector'));
    if (!st) return c.json({ error: 'not_found', field: 'sector', message: 'sector not served by this precinct' }, 404);
    return c.json({ board: st.replica.view(), presence: Object.fromEntries(st.presence), alerts: st.alerts, expected: deps.dispatch.dispatcher.expectations(c.req.param('sector')) });
  });

  app.post('/api/v1/sectors/:sector/epoch/cut', async (c) => {
    const input = await body(c, epochCutSchema);
    const cut = await cutEpochNow(deps.sectors, c.get('operator'), c.req.param('sector'));
    log.info({ audit: true, operator: c.get('operator').id, ...cut, reason: input.reason }, 'override: sector board epoch cut now');
    return c.json(cut);
  });

  app.post('/api/v1/calls', async (c) => {
    const input = await body(c, newCallSchema);
    const { id, sector, call } = await actions.createCall(actionDeps(), c.get('operator'), input);
    log.info({ cadNumber: id, sector, beat: input.beat, priority: input.priority, state: call.state }, 'call created');
    return c.json({ id, ...callJson(call, sector) }, 201);
  });
  app.get('/api/v1/calls/:id', (c) => {
    const { sector, call } = actions.findCall(actionDeps(), c.req.param('id'));
    return c.json(callJson(call, sector));
  });
  app.patch('/api/v1/calls/:id', async (c) => {
    const input = await body(c, updateCallSchema);
    const call = await actions.updateCall(actionDeps(), c.get('operator'), c.req.param('id'), input);
    const fields = Object.keys(input).filter((k) => k !== 'reason' && k !== 'note');
    log.info({ audit: true, operator: c.get('operator').id, callId: call.id, fields, state: call.state }, 'call updated');
    return c.json(callJson(call, actions.findCall(actionDeps(), call.id).sector));
  });
  app.post('/api/v1/calls/:id/transfer', async (c) => {
    const input = await body(c, transferSchema);
    const from = actions.findCall(actionDeps(), c.req.param('id')).sector;
    const { sector, call } = await actions.transferCall(actionDeps(), c.get('operator'), c.req.param('id'), input);
    log.info({ audit: true, operator: c.get('operator').id, callId: call.id, from, to: sector, unit: input.unitId }, 'override: call transferred');
    return c.json(callJson(call, sector));
  });
  app.post('/api/v1/calls/:id/cancel', async (c) => {
    const call = await actions.cancelCall(actionDeps(), c.get('operator'), c.req.param('id'), await body(c, reasonSchema));
    return c.json(callJson(call, actions.findCall(actionDeps(), call.id).sector));
  });
  app.post('/api/v1/calls/:id/assign', async (c) => {
    const call = await actions.assignByHand(actionDeps(), c.get('operator'), c.req.param('id'), await body(c, assignSchema));
    log.info({ audit: true, operator: c.get('operator').id, callId: call.id, unit: call.assigned[0] }, 'override: unit assigned by hand');
    return c.json(callJson(call, actions.findCall(actionDeps(), call.id).sector));
  });
  app.post('/api/v1/calls/:id/release', async (c) => {
    const call = await actions.releaseHold(actionDeps(), c.get('operator'), c.req.param('id'), await body(c, reasonSchema));
    log.info({ audit: true, operator: c.get('operator').id, callId: call.id }, 'override: hold released');
    return c.json(callJson(call, actions.findCall(actionDeps(), call.id).sector));
  });
  app.post('/api/v1/calls/:id/extend', async (c) => {
    const input = await body(c, extendSchema);
    const call = await actions.extendHold(actionDeps(), c.get('operator'), c.req.param('id'), input);
    log.info({ audit: true, operator: c.get('operator').id, callId: call.id, minutes: input.minutes }, 'override: hold extended');
    return c.json(callJson(call, actions.findCall(actionDeps(), call.id).sector));
  });
  app.post('/api/v1/reports', async (c) => {
    const result = await actions.createReport(actionDeps(), c.get('operator'), await body(c, reportSchema));
    log.info({ audit: true, operator: c.get('operator').id, report: result.id, sector: result.sector, recipients: result.recipients.length }, 'CARE report delivered');
    return c.json(result, 201);
  });
  app.post('/api/v1/sectors/:sector/reports/:id/read', async (c) => {
    await actions.markReportRead(actionDeps(), c.get('operator'), c.req.param('sector'), c.req.param('id'), await body(c, readSchema));
    return c.json({ ok: true });
  });

  app.post('/api/v1/messages', async (c) => {
    const input = await body(c, messageSchema);
    const m = await inboxActions.sendDispatchMessage(actionDeps(), c.get('operator'), input);
    log.info({ audit: true, operator: c.get('operator').id, message: m.id, sector: input.sector, to: input.to }, 'message to units sent');
    return c.json({ sector: input.sector, message: m }, 201);
  });
  app.get('/api/v1/messages', (c) => {
    const sector = c.req.query('sector');
    const unread = c.req.query('unread');
    if (unread !== undefined && unread !== 'true' && unread !== 'false') throw new ActionError(400, 'invalid', 'unread', 'true or false');
    return c.json({ messages: inboxActions.dispatchInbox(actionDeps(), { ...(sector ? { sector } : {}), unreadOnly: unread === 'true' }) });
  });
  app.post('/api/v1/sectors/:sector/messages/:id/read', async (c) => {
    await inboxActions.markDispatchRead(actionDeps(), c.get('operator'), c.req.param('sector'), c.req.param('id'));
    log.info({ audit: true, operator: c.get('operator').id, message: c.req.param('id'), sector: c.req.param('sector') }, 'message to dispatch read');
    return c.json({ ok: true });
  });
  app.post('/api/v1/notices', async (c) => {
    const posted = await inboxActions.postWatchNotice(actionDeps(), c.get('operator'), await body(c, noticeSchema));
    log.info({ audit: true, operator: c.get('operator').id, notices: posted.map((p) => `${p.sector}/${p.notice.id}`) }, 'watch meeting notice posted');
    return c.json({ posted }, 201);
  });

  app.route('/', createConsole({ precinct: deps.precinct, department: deps.department, sectors: deps.sectors, dispatch: () => deps.dispatch, log }));

  return app;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.1: request bodies come from the same zod schemas that validate them, so the document
// cannot drift from the code.

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
const errorResponse = {
  description: 'refused: `error` is a stable code, `field` the input at fault, `message` for people',
  content: { 'application/json': { schema: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } } },
};
const callResponse = {
  description: 'the call as on the board, with the policy\'s latest decision (hold reason or dispatch reason)',
  content: { 'application/json': { schema: { type: 'object', properties: { sector: { type: 'string' }, call: { type: 'object' }, decision: { type: ['string', 'null'] } } } } },
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the call id (its CAD number)' }];
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

export function openApiDocument(precinct: { id: string; name: string }): Record<string, unknown> {
  const op = (summary: string, extra: Record<string, unknown>) => ({ summary, security: [{ bearer: [] }], ...extra });
  return {
    openapi: '3.1.0',
    info: { title: `${precinct.name} station API (mdt)`, version: '1', description: 'CAD and CARE intake, dispatch overrides and boards of one precinct. Dispatch policy: docs/dispatch.md.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an operator token `<operatorId>.<secret>` (roles dispatcher, watch_commander, care)' } } },
    paths: {
      '/api/v1/sectors': { get: op('Sectors of this precinct and their beats', { responses: { 200: { description: 'sectors' }, ...errors } }) },
      '/api/v1/sectors/{sector}/board': {
        get: op('A sector board: calls (with history and holds), units, inbox; presence, alerts, units expected on duty', {
          parameters: [{ name: 'sector', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'board' }, ...errors },
        }),
      },
      '/api/v1/sectors/{sector}/epoch/cut': {
        post: op('Cut a sector board\'s epoch now (watch_commander): the nightly cut on demand; open calls, units and unread reports carry over and cars follow', {
          parameters: [{ name: 'sector', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: json(epochCutSchema),
          responses: { 200: { description: '{ sector, from, to, carried: { calls, units, reports } }' }, ...errors },
        }),
      },
      '/api/v1/calls': { post: op('Create a call (dispatcher, watch_commander); the policy decides before the answer', { requestBody: json(newCallSchema), responses: { 201: callResponse, ...errors } }) },
      '/api/v1/calls/{id}': {
        get: op('A call, wherever it is in the precinct', { parameters: idParam, responses: { 200: callResponse, ...errors } }),
        patch: op('Update a call (dispatcher, watch_commander): type, priority, late flag, address, location, beat, caller notes; each change is written to its history with who and old -> new, and the policy decides again at once', { parameters: idParam, requestBody: json(updateCallSchema), responses: { 200: callResponse, ...errors } }),
      },
      '/api/v1/calls/{id}/transfer': {
        post: op('Override: transfer a call to another sector of this precinct; it appears on that board with a reference, and shows as transferred on this one', { parameters: idParam, requestBody: json(transferSchema), responses: { 200: callResponse, ...errors } }),
      },
      '/api/v1/calls/{id}/cancel': { post: op('Cancel a call', { parameters: idParam, requestBody: json(reasonSchema), responses: { 200: callResponse, ...errors } }) },
      '/api/v1/calls/{id}/assign': { post: op('Override: assign a unit by hand (recorded with the operator and reason)', { parameters: idParam, requestBody: json(assignSchema), responses: { 200: callResponse, ...errors } }) },
      '/api/v1/calls/{id}/release': { post: op('Override: release a hold; the nearest available unit of the sector gets the call', { parameters: idParam, requestBody: json(reasonSchema), responses: { 200: callResponse, ...errors } }) },
      '/api/v1/calls/{id}/extend': { post: op('Override: extend a hold by some minutes', { parameters: idParam, requestBody: json(extendSchema), responses: { 200: callResponse, ...errors } }) },
      '/api/v1/reports': {
        post: op('Enter a CARE report (care, watch_commander): delivered to the beat officers of the beat and the sector supervisors', {
          requestBody: json(reportSchema),
          responses: { 201: { description: '{ id, sector, recipients }' }, ...errors },
        }),
      },
      '/api/v1/messages': {
        post: op('Send a message from dispatch to units of a sector (dispatcher, watch_commander); it reaches their screens through the sector board', {
          requestBody: json(messageSchema),
          responses: { 201: { description: '{ sector, message }: the message as on the board' }, ...errors },
        }),
        get: op('Messages addressed to dispatch on the boards of this precinct, unread first', {
          parameters: [
            { name: 'sector', in: 'query', required: false, schema: { type: 'string' }, description: 'one sector only' },
            { name: 'unread', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: 'only those dispatch has not read' },
          ],
          responses: { 200: { description: '{ messages: [{ sector, id, from, to, text, sentAt, by, readBy }] }' }, ...errors },
        }),
      },
      '/api/v1/sectors/{sector}/messages/{id}/read': {
        post: op('Record that dispatch read a message addressed to it (dispatcher, watch_commander)', {
          parameters: [{ name: 'sector', in: 'path', required: true, schema: { type: 'string' } }, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'recorded' }, ...errors },
        }),
      },
      '/api/v1/notices': {
        post: op('Post a neighborhood watch meeting notice (dispatcher, watch_commander) to the inbox of every unit of the sector(s) it concerns', {
          requestBody: json(noticeSchema),
          responses: { 201: { description: '{ posted: [{ sector, notice }] }' }, ...errors },
        }),
      },
      '/api/v1/sectors/{sector}/reports/{id}/read': {
        post: op('Record that a supervisor read a report', {
          parameters: [{ name: 'sector', in: 'path', required: true, schema: { type: 'string' } }, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: json(readSchema),
          responses: { 200: { description: 'recorded' }, ...errors },
        }),
      },
    },
  };
}
