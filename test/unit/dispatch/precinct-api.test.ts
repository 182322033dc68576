// The precinct API and console through app.request (no port), on real boards with the real
// dispatcher in simulated time: the policy answers the CAD, errors name the field, overrides and
// CARE reports are recorded with who did them, the console shows held calls with their reasons.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import type { CallView } from '../../../sync/schema.js';
import { startApiFixture, T, type ApiFixture } from './api-fixture.js';
import { at, car, MIN } from './fixtures.js';

// Monday 2026-03-02 10:00 Pacific (T): first watch of the sample schedule (NB11, NB21, NB31).
let fx: ApiFixture;
let app: ApiFixture['app'];
let dispatch: ApiFixture['dispatch'];
let clock: ApiFixture['clock'];
let sectors: ApiFixture['sectors'];
let tokens: ApiFixture['tokens'];
const req: ApiFixture['req'] = (...a) => fx.req(...a);
const B = () => sectors.get('B')!.replica;

beforeAll(async () => {
  fx = await startApiFixture();
  ({ app, dispatch, clock, sectors, tokens } = fx);
  // The first watch signs on, as the cars would.
  await fx.signOn('B', ['NB11', 'NB21', 'NB31']);
  await dispatch.dispatcher.evaluate();
});
afterAll(() => fx.close());

describe('CAD intake', () => {
  it('creates a call and answers with the policy decision', async () => {
    clock.advance(MIN);
    const res = await req('POST', '/api/v1/calls', tokens.dispatcher, { cadNumber: 'C-100', type: 'Burglary', priority: 2, address: '1200 NW Market St', beat: 'B1' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; sector: string; call: CallView; decision: string };
    expect(body).toMatchObject({ id: 'C-100', sector: 'B', decision: 'dispatched to NB11: beat officer of beat B1 available' });
    expect(body.call.assigned).toEqual(['NB11']);
  });

  it('holds the next call for the busy beat officer and says why', async () => {
    clock.advance(MIN);
    const res = await req('POST', '/api/v1/calls', tokens.dispatcher, { cadNumber: 'C-101', type: 'Noise', priority: 4, address: '5400 Ballard Ave', beat: 'B1' });
    const body = (await res.json()) as { call: CallView; decision: string };
    expect(body.call.state).toBe('held');
    expect(body.decision).toBe('held: beat officer NB11 on call C-100');
  });

  it('makes a call reported long after the incident a late report', async () => {
    clock.advance(MIN);
    const res = await req('POST', '/api/v1/calls', tokens.dispatcher, { cadNumber: 'C-102', type: 'Theft from car', priority: 1, address: 'NW 56th St', beat: 'B1', occurredAt: new Date(clock.now() - 3 * 3_600_000).toISOString() });
    const body = (await res.json()) as { call: CallView; decision: string };
    expect(body.call.late).toBe(true);
    expect(body.call.state).toBe('held');
  });

  it('names the field at fault', async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'x', priority: 5, address: 'a', beat: 'B1' }, 'priority'],
      [{ type: 'x', priority: 2, address: 'a', beat: 'Z9' }, 'beat'],
      [{ type: 'x', priority: 2, address: 'a', beat: 'K2' }, 'beat'],
      [{ type: 'x', priority: 2, address: 'a', beat: 'B1', colour: 'red' }, '(body)'],
      [{ type: 'x', priority: 2, address: 'a', beat: 'B1', occurredAt: 'yesterday' }, 'occurredAt'],
    ];
    for (const [b, field] of cases) {
      const res = await req('POST', '/api/v1/calls', tokens.dispatcher, b);
      expect(res.status, JSON.stringify(b)).toBe(400);
      expect(((await res.json()) as { field: string }).field).toBe(field);
    }
    const none = await app.request('/api/v1/calls', { method: 'POST', headers: { authorization: `Bearer ${tokens.dispatcher}` }, body: 'not json' });
    expect(await none.json()).toMatchObject({ error: 'invalid', field: '(body)' });
  });

  it('refuses without a credential, and a CARE operator may not create calls', async () => {
    expect((await req('POST', '/api/v1/calls', undefined, {})).status).toBe(401);
    const res = await req('POST', '/api/v1/calls', tokens.care, { type: 'x', priority: 2, address: 'a', beat: 'B1' });
    expect(res.status).toBe(403);
  });

  it('updates a call with a CAD supplement and cancels it', async () => {
    const upd = await req('PATCH', '/api/v1/calls/C-102', tokens.dispatcher, { note: 'caller found the wallet' });
    expect(((await upd.json()) as { call: CallView }).call.notes.at(-1)?.text).toBe('CAD update by op-dispatcher: caller found the wallet');
    const bad = await req('PATCH', '/api/v1/calls/C-102', tokens.dispatcher, { note: 'now a robbery', severity: 1 });
    expect(await bad.json()).toMatchObject({ error: 'invalid', field: '(body)', message: 'unknown field(s) severity' });
    const res = await req('POST', '/api/v1/calls/C-102/cancel', tokens.dispatcher, { reason: 'caller withdrew' });
    expect(((await res.json()) as { call: CallView }).call).toMatchObject({ state: 'cancelled', cancelReason: 'cancelled by op-dispatcher: caller withdrew' });
    expect((await req('GET', '/api/v1/calls/NOPE', tokens.dispatcher)).status).toBe(404);
  });
});

describe('overrides', () => {
  it('extends a hold, recorded with who did it', async () => {
    const before = B().view().calls['C-101']!.hold!.deadline;
    const res = await req('POST', '/api/v1/calls/C-101/extend', tokens.watch_commander, { minutes: 10, reason: 'NB11 almost done' });
    const call = ((await res.json()) as { call: CallView }).call;
    expect(call.hold?.deadline).toBe(before + 10 * MIN);
    expect(call.hold?.reason).toBe('hold extended by op-watch_commander (watch_commander) +10:00: NB11 almost done');
    expect(call.history.at(-1)?.by).toEqual({ kind: 'operator', operatorId: 'op-watch_commander', role: 'watch_commander' });
  });

  it('releases a hold: the nearest available unit gets the call', async () => {
    clock.advance(MIN);
    const res = await req('POST', '/api/v1/calls/C-101/release', tokens.dispatcher, { reason: 'caller elderly, waiting outside' });
    const call = ((await res.json()) as { call: CallView }).call;
    expect(call.assigned).toHaveLength(1);
    expect(['NB21', 'NB31']).toContain(call.assigned[0]);
    const released = call.history.findLast((h) => h.event === 'released' && h.by.kind === 'operator');
    expect(released?.reason).toBe('hold released by op-dispatcher (dispatcher): caller elderly, waiting outside');
  });

  it('assigns a unit by hand, refusing an unknown or busy unit with the field', async () => {
    clock.advance(MIN);
    await req('POST', '/api/v1/calls', tokens.dispatcher, { cadNumber: 'C-103', type: 'Parking', priority: 4, address: 'x', beat: 'B1' });
    expect(B().view().calls['C-103']!.state).toBe('held');
    const unknown = await req('POST', '/api/v1/calls/C-103/assign', tokens.dispatcher, { unitId: 'ZZ99', reason: 'r' });
    expect(await unknown.json()).toMatchObject({ error: 'not_found', field: 'unitId' });
    const free = Object.values(B().view().units).find((u) => u.status === 'available')!;
    const res = await req('POST', '/api/v1/calls/C-103/assign', tokens.dispatcher, { unitId: free.id, reason: 'closest, I can see it on the map' });
    const call = ((await res.json()) as { call: CallView }).call;
    expect(call.assigned).toEqual([free.id]);
    // One history entry: the assignment, with the operator and the reason.
    expect(call.history.find((h) => h.event === 'assigned')).toMatchObject({ unitId: free.id, by: { kind: 'operator', operatorId: 'op-dispatcher' }, reason: `override by op-dispatcher (dispatcher): assigned ${free.id} by hand: closest, I can see it on the map` });
  });

  it('a CARE operator may not override', async () => {
    expect((await req('POST', '/api/v1/calls/C-103/release', tokens.care, { reason: 'r' })).status).toBe(403);
  });
});

describe('CARE reports', () => {
  it('are delivered to every beat officer of the beat that day and the sector supervisors', async () => {
    const res = await req('POST', '/api/v1/reports', tokens.care, { beat: 'B2', title: 'Vehicle prowl, insurance report', body: 'Window smashed overnight; laptop taken.', incidentAt: T - 10 * 3_600_000 });
    expect(res.status).toBe(201);
    const r = (await res.json()) as { id: string; sector: string; recipients: Array<{ kind: string; id: string }> };
    expect(r.sector).toBe('B');
    expect(r.recipients.map((x) => `${x.kind}:${x.id}`)).toEqual(['unit:NB21', 'unit:NB22', 'unit:NB23', 'supervisor:SGT-B1', 'supervisor:SGT-B3', 'supervisor:LT-N1']);
    const read = await req('POST', `/api/v1/sectors/B/reports/${r.id}/read`, tokens.watch_commander, { readerId: 'LT-N1' });
    expect(read.status).toBe(200);
    expect(B().view().inbox[r.id]!.readBy['LT-N1']).toBe(clock.now());
  });

  it('name the field at fault', async () => {
    const res = await req('POST', '/api/v1/reports', tokens.care, { beat: 'B2', title: 't', body: 'b', incidentAt: T + 86_400_000 });
    expect(await res.json()).toMatchObject({ field: 'incidentAt', message: 'is in the future' });
    const res2 = await req('POST', '/api/v1/reports', tokens.dispatcher, { beat: 'B2', title: 't', body: 'b', incidentAt: T });
    expect(res2.status).toBe(403);
  });
});

describe('OpenAPI and console', () => {
  it('serves an OpenAPI document whose schemas are the validators', async () => {
    const doc = (await (await app.request('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/calls', '/api/v1/calls/{id}/assign', '/api/v1/calls/{id}/release', '/api/v1/calls/{id}/extend', '/api/v1/reports']));
    expect(doc.paths['/api/v1/calls']!.post!.requestBody!.content['application/json']!.schema.required).toEqual(['type', 'priority', 'address', 'beat']);
  });

  it('shows held calls with countdown and reason, units with time in status, and the live shift', async () => {
    clock.advance(MIN);
    await req('POST', '/api/v1/calls', tokens.dispatcher, { cadNumber: 'C-104', type: 'Shoplift', priority: 3, address: 'y', beat: 'B1' });
    const page = await (await req('GET', '/', tokens.watch_commander)).text();
    expect(page).toContain('Watch Commander console');
    expect(page).toMatch(/<tr data-call="C-104">[\s\S]*held: beat officer NB11 on call C-100[\s\S]*data-deadline="\d+"/);
    expect(page).toMatch(/<tr data-unit="NB11"[\s\S]*dispatched[\s\S]*data-since=/);
    expect(page).toContain('Live shift (first watch since');
    expect(page).toContain('CARE report entry');
    expect(page).not.toMatch(/<(script|link)[^>]+src=/); // no external assets
  });

  it('records a console override and comes back with the outcome', async () => {
    // The unit on C-101 clears it; C-104 keeps waiting for its own beat officer until the override.
    const unit = B().view().calls['C-101']!.assigned[0]!;
    clock.advance(MIN);
    await B().update((d) => board.clearCall(d, { callId: 'C-101', disposition: 'RPT' }, at(car(unit), clock.now())));
    await dispatch.dispatcher.evaluate();
    expect(B().view().calls['C-104']!.state).toBe('held');
    const free = B().view().units[unit]!;
    const res = await app.request('/console/calls/C-104/assign', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.watch_commander}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ unitId: free.id, reason: 'from the console' }).toString(),
    });
    expect(res.status).toBe(303);
    expect(decodeURIComponent(res.headers.get('location')!)).toBe(`/?ok=${free.id} assigned to call C-104#sector-B`);
    expect(B().view().calls['C-104']!.history.some((h) => h.reason?.includes('override by op-watch_commander'))).toBe(true);
    const bad = await app.request('/console/calls/C-104/extend', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.watch_commander}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ minutes: '500', reason: 'x' }).toString(),
    });
    expect(decodeURIComponent(bad.headers.get('location')!)).toContain('error=minutes: a whole number of minutes, 1 to 120');
  });
});
