// Updating and transferring calls through the precinct API and the console (app.request, no
// port), on real boards with the real dispatcher in simulated time: validation names the field,
// a held call raised to P1 is dispatched in the same request, a transfer by hand lands on the
// other sector's board with its reference, and every request is in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import type { CallView } from '../../../sync/schema.js';
import { spyLogger } from '../../helpers/board-log-spy.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';
import { at, car, MIN, operator } from './fixtures.js';

// Monday 2026-03-02 10:00 Pacific: first watch of the sample schedule (NB11, NB21, NB31 in sector B).
let fx: ApiFixture;
let app: ApiFixture['app'];
let dispatch: ApiFixture['dispatch'];
let clock: ApiFixture['clock'];
let sectors: ApiFixture['sectors'];
let tokens: ApiFixture['tokens'];
const req: ApiFixture['req'] = (...a) => fx.req(...a);
const log = spyLogger();

const post = (path: string, form: Record<string, string>) =>
  app.request(path, { method: 'POST', headers: { authorization: `Bearer ${tokens.dispatcher}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
const view = (sector: string) => sectors.get(sector)!.replica.view();
const newCall = async (body: Record<string, unknown>) => {
  clock.advance(MIN);
  const res = await req('POST', '/api/v1/calls', tokens.dispatcher, body);
  expect(res.status).toBe(201);
  return (await res.json()) as { call: CallView; decision: string };
};
type CallJson = { sector: string; call: CallView; decision: string | null };

beforeAll(async () => {
  fx = await startApiFixture({ log });
  ({ app, dispatch, clock, sectors, tokens } = fx);
  await fx.signOn('B', ['NB11', 'NB21', 'NB31']);
  // Sector J has no schedule: its roster names the beat officers.
  clock.advance(10);
  await sectors.get('J')!.replica.update((d) => board.signOn(board.upsertUnit(d, { id: 'NJ11', callSign: 'NJ11', homeBeat: 'J1', mode: 'car' }, at(operator, clock.now())), { unitId: 'NJ11', officers: ['Ofc. NJ11'] }, at(car('NJ11'), clock.now())));
  await dispatch.dispatcher.evaluate();
  // NB11 busy on C-1, so the next B1 calls are held for it.
  expect((await newCall({ cadNumber: 'C-1', type: 'Burglary', priority: 3, address: '1200 NW Market St', beat: 'B1' })).call.assigned).toEqual(['NB11']);
});
afterAll(() => fx.close());

describe('PATCH /api/v1/calls/{id}', () => {
  it('names the field at fault', async () => {
    await newCall({ cadNumber: 'C-2', type: 'Noise', priority: 4, address: '5400 Ballard Ave NW', beat: 'B1' });
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ priority: 0 }, 400, 'priority', /./],
      [{ lat: 47.6 }, 400, 'lon', /lat and lon come together/],
      [{ type: '' }, 400, 'type', /./],
      [{}, 400, '(body)', /nothing to update/],
      [{ colour: 'red' }, 400, '(body)', /unknown field\(s\) colour/],
      [{ beat: 'Z9' }, 400, 'beat', /unknown beat Z9/],
      [{ beat: 'J1' }, 400, 'beat', /beat J1 is in sector J, call C-2 is on sector B's board: transfer the call/],
      [{ priority: 4 }, 400, '(update)', /nothing to change/],
    ];
    for (const [body, status, field, message] of cases) {
      const res = await req('PATCH', '/api/v1/calls/C-2', tokens.dispatcher, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const e = (await res.json()) as { field: string; message: string };
      expect(e.field, JSON.stringify(body)).toBe(field);
      expect(e.message).toMatch(message);
    }
    expect((await req('PATCH', '/api/v1/calls/NOPE', tokens.dispatcher, { priority: 1 })).status).toBe(404);
    expect((await req('PATCH', '/api/v1/calls/C-2', tokens.care, { priority: 1 })).status).toBe(403);
    expect(view('B').calls['C-2']!.history.some((h) => h.event === 'updated')).toBe(false);
  });

  it('raises a held call to P1: dispatched in the same request, the update and decision in the history, audit-logged', async () => {
    expect(view('B').calls['C-2']!.state).toBe('held');
    clock.advance(3 * MIN);
    const res = await req('PATCH', '/api/v1/calls/C-2', tokens.dispatcher, { priority: 1, reason: 'caller reports a fight' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CallJson;
    expect(body.call.assigned).toHaveLength(1);
    expect(['NB21', 'NB31']).toContain(body.call.assigned[0]);
    expect(body.decision).toMatch(/^dispatched to NB[23]1: P1 emergency, beat officer NB11 on call C-1; nearest available unit of sector B .*\(after update by op-dispatcher: priority 4 -> 1\)$/);
    expect(body.call.history.find((h) => h.event === 'updated')).toMatchObject({
      by: { kind: 'operator', operatorId: 'op-dispatcher', role: 'dispatcher' },
      changes: [{ field: 'priority', from: 4, to: 1 }],
      reason: 'updated: priority 4 -> 1: caller reports a fight',
    });
    const audit = log.entries.filter((e) => (e.obj as { audit?: boolean }).audit && (e.obj as { callId?: string }).callId === 'C-2');
    expect(audit.map((e) => [e.msg, (e.obj as { operator: string }).operator, (e.obj as { fields?: string[] }).fields])).toEqual([['call updated', 'op-dispatcher', ['priority']]]);
    expect(log.entries.some((e) => e.msg === 'audit' && (e.obj as { method: string; path: string; status: number }).method === 'PATCH' && (e.obj as { path: string }).path === '/api/v1/calls/C-2' && (e.obj as { status: number }).status === 200)).toBe(true);
  });

  it('adds a CAD supplement as a note alongside an update, and refuses a closed call', async () => {
    const res = await req('PATCH', '/api/v1/calls/C-2', tokens.dispatcher, { address: '5410 Ballard Ave NW', note: 'second caller' });
    const call = ((await res.json()) as CallJson).call;
    expect(call.address).toBe('5410 Ballard Ave NW');
    expect(call.notes.at(-1)?.text).toBe('CAD update by op-dispatcher: second caller');
    await req('POST', '/api/v1/calls/C-2/cancel', tokens.dispatcher, { reason: 'duplicate' });
    const closed = await req('PATCH', '/api/v1/calls/C-2', tokens.dispatcher, { priority: 2 });
    expect(closed.status).toBe(409);
    expect(await closed.json()).toMatchObject({ error: 'call_closed', field: 'callId' });
  });
});

describe('POST /api/v1/calls/{id}/transfer', () => {
  it('moves a call to another sector\'s board with a unit of that sector; the home board shows it transferred', async () => {
    await newCall({ cadNumber: 'C-3', type: 'Suspicious person', priority: 3, address: 'NW 85th St & 8th Ave NW', beat: 'B1' });
    expect(view('B').calls['C-3']!.state).toBe('held');
    clock.advance(MIN);
    const res = await req('POST', '/api/v1/calls/C-3/transfer', tokens.watch_commander, { toSector: 'J', reason: 'caller is across the sector line', unitId: 'NJ11' });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as CallJson;
    expect(body.sector).toBe('J');
    expect(body.call).toMatchObject({ assigned: ['NJ11'], transferredFrom: { sector: 'B', callId: 'C-3' }, beat: 'B1', priority: 3 });
    expect(body.call.history.find((h) => h.event === 'assigned')?.reason).toBe('override by op-watch_commander (watch_commander): assigned NJ11 with the transfer: caller is across the sector line');
    const home = view('B').calls['C-3']!;
    expect(home).toMatchObject({ state: 'transferred', transferredTo: { sector: 'J', reason: 'transferred by op-watch_commander (watch_commander) to sector J: caller is across the sector line' } });
    expect(view('B').units.NB11!.stacked).not.toContain('C-3');
    // The call is found where it is worked now.
    expect(((await (await req('GET', '/api/v1/calls/C-3', tokens.dispatcher)).json()) as CallJson).sector).toBe('J');
    expect(log.entries.some((e) => e.msg === 'override: call transferred' && (e.obj as { from: string; to: string; operator: string }).from === 'B' && (e.obj as { to: string }).to === 'J')).toBe(true);
  });

  it('without a unit, the receiving sector\'s policy decides the call', async () => {
    // NJ11 is busy on C-3: a P1 sent to J waits there for the first unit to come free.
    await newCall({ cadNumber: 'C-4', type: 'Prowler', priority: 3, address: 'x', beat: 'B1' });
    const res = await req('POST', '/api/v1/calls/C-4/transfer', tokens.dispatcher, { toSector: 'J', reason: 'J asked for it' });
    const body = (await res.json()) as CallJson;
    expect(body.sector).toBe('J');
    expect(body.call.state).toMatch(/^(held|pending)$/);
    expect(view('B').calls['C-4']!.state).toBe('transferred');
  });

  it('names the field at fault and refuses what cannot move', async () => {
    await newCall({ cadNumber: 'C-5', type: 'Theft', priority: 4, address: 'y', beat: 'B1' });
    const cases: Array<[string, unknown, number, string | undefined]> = [
      ['C-5', { toSector: 'Q', reason: 'r' }, 400, 'toSector'],
      ['C-5', { toSector: 'B', reason: 'r' }, 400, 'toSector'],
      ['C-5', { toSector: 'J' }, 400, 'reason'],
      ['C-5', { toSector: 'J', reason: 'r', unitId: 'NJ11' }, 409, 'unitId'], // NJ11 is on C-3
      ['C-1', { toSector: 'J', reason: 'r' }, 409, 'callId'], // NB11 is working it
      ['C-3', { toSector: 'B', reason: 'back' }, 409, 'callId'], // worked by NJ11 on J's board
    ];
    for (const [id, b, status, field] of cases) {
      const res = await req('POST', `/api/v1/calls/${id}/transfer`, tokens.dispatcher, b);
      expect(res.status, `${id} ${JSON.stringify(b)}`).toBe(status);
      expect(((await res.json()) as { field?: string }).field, `${id} ${JSON.stringify(b)}`).toBe(field);
    }
    expect((await req('POST', '/api/v1/calls/C-5/transfer', tokens.care, { toSector: 'J', reason: 'r' })).status).toBe(403);
    // Nothing half-done: C-5 is still B's and not on J's board.
    expect(view('B').calls['C-5']!.state).toBe('held');
    expect(view('J').calls['C-5']).toBeUndefined();
  });

  it('is described in the OpenAPI document with the validators as schemas', async () => {
    const doc = (await (await app.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> } }>> };
    expect(doc.paths['/api/v1/calls/{id}/transfer']!.post!.requestBody!.content['application/json']!.schema.required).toEqual(['toSector', 'reason']);
    expect(Object.keys(doc.paths['/api/v1/calls/{id}']!.patch!.requestBody!.content['application/json']!.schema.properties!)).toEqual(
      expect.arrayContaining(['type', 'priority', 'late', 'address', 'beat', 'lat', 'lon', 'callerNotes', 'reason', 'note']),
    );
  });
});

describe('console', () => {
  it('updates and transfers a call from the forms, and lists the transfer on the home sector', async () => {
    const upd = await post('/console/calls/C-5/update', { priority: '2', beat: 'B1', type: 'Theft', address: 'y', reason: 'value over $5000' });
    expect(upd.status).toBe(303);
    expect(decodeURIComponent(upd.headers.get('location')!)).toMatch(/^\/\?ok=call C-5 updated: /);
    expect(view('B').calls['C-5']!.history.find((h) => h.event === 'updated')).toMatchObject({ changes: [{ field: 'priority', from: 4, to: 2 }], by: { operatorId: 'op-dispatcher' } });
    const noReason = await post('/console/calls/C-5/update', { priority: '1', beat: 'B1' });
    expect(decodeURIComponent(noReason.headers.get('location')!)).toContain('error=reason: give a reason');

    const tr = await post('/console/calls/C-5/transfer', { toSector: 'J', reason: 'J covers it today' });
    expect(decodeURIComponent(tr.headers.get('location')!)).toMatch(/^\/\?ok=call C-5 transferred to sector J: .*#sector-J$/);
    const page = await (await req('GET', '/', tokens.watch_commander)).text();
    expect(page).toMatch(/Transferred to other sectors \(\d\)[\s\S]*<li data-call="C-5">C-5 P2 Theft: to sector J/);
    expect(page).toMatch(/<tr data-call="C-5">\s*<td>C-5<br><small class="transfer">from sector B/);
    expect(page).toContain('action="/console/calls/C-4/update"');
  });
});
