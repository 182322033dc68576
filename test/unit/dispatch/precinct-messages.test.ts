// Dispatch's side of the inbox through the precinct API and the console (app.request, no port),
// on real boards: messages to units, the messages cars send to dispatch and their read receipt,
// watch meeting notices to the sectors; who may do it, errors that name the field, audit lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { spyLogger } from '../../helpers/board-log-spy.js';
import { startApiFixture, T, type ApiFixture } from './api-fixture.js';
import { at, car } from './fixtures.js';

let fx: ApiFixture;
let app: ApiFixture['app'];
let clock: ApiFixture['clock'];
let sectors: ApiFixture['sectors'];
let tokens: ApiFixture['tokens'];
const req: ApiFixture['req'] = (...a) => fx.req(...a);
const logged = spyLogger();
const audited = (msg: string, operator: string) => logged.entries.some((e) => e.msg === msg && (e.obj as { audit?: boolean; operator?: string }).audit === true && (e.obj as { operator?: string }).operator === operator);

const form = (path: string, token: string | undefined, fields: Array<[string, string]>) =>
  app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
const B = () => sectors.get('B')!.replica;

beforeAll(async () => {
  fx = await startApiFixture({ log: logged });
  ({ app, clock, sectors, tokens } = fx);
  await fx.signOn('B', ['NB11', 'NB21']);
});
afterAll(() => fx.close());

describe('messages through the precinct API', () => {
  it('dispatch sends to units; the message is on the board from dispatch, audit-logged', async () => {
    const res = await req('POST', '/api/v1/messages', tokens.dispatcher, { sector: 'B', to: ['NB11', 'NB21'], text: 'Briefing moved to 14:30' });
    expect(res.status).toBe(201);
    const { message } = (await res.json()) as { message: { id: string } };
    expect(B().view().messages[message.id]).toMatchObject({ from: { kind: 'dispatch' }, to: [{ kind: 'unit', id: 'NB11' }, { kind: 'unit', id: 'NB21' }], text: 'Briefing moved to 14:30', by: { kind: 'operator', operatorId: 'op-dispatcher' } });
    expect(audited('message to units sent', 'op-dispatcher')).toBe(true);
  });

  it('lists messages to dispatch, unread first, and records dispatch reading one', async () => {
    clock.advance(1000);
    await B().update((d) => board.sendMessage(d, { id: 'M-car-1', to: [{ kind: 'dispatch' }], text: 'Out at 1200 NW Market, suspicious van' }, at(car('NB11'), clock.now())));
    clock.advance(1000);
    await B().update((d) => board.sendMessage(d, { id: 'M-car-2', to: [{ kind: 'unit', id: 'NB11' }], text: 'not for dispatch' }, at(car('NB21'), clock.now())));
    const list = async (q = '') => ((await (await req('GET', `/api/v1/messages${q}`, tokens.watch_commander)).json()) as { messages: Array<{ id: string; sector: string }> }).messages.map((m) => `${m.sector}/${m.id}`);
    expect(await list()).toEqual(['B/M-car-1']);
    expect(await list('?sector=B&unread=true')).toEqual(['B/M-car-1']);
    expect((await req('POST', '/api/v1/sectors/B/messages/M-car-1/read', tokens.dispatcher)).status).toBe(200);
    expect(B().view().messages['M-car-1']!.readBy).toEqual({ dispatch: clock.now() });
    expect(await list('?unread=true')).toEqual([]);
    expect(await list('?unread=false')).toEqual(['B/M-car-1']);
    // Dispatch is not a recipient of a message between units.
    const notMine = await req('POST', '/api/v1/sectors/B/messages/M-car-2/read', tokens.dispatcher);
    expect(notMine.status).toBe(403);
  });

  it('names the field at fault and refuses a CARE operator and no credential', async () => {
    const bad = async (b: unknown, token = tokens.dispatcher) => {
      const res = await req('POST', '/api/v1/messages', token, b);
      return { status: res.status, ...((await res.json()) as { field?: string }) };
    };
    expect(await bad({ sector: 'B', to: [], text: 'x' })).toMatchObject({ status: 400, field: 'to' });
    expect(await bad({ sector: 'B', to: ['NB11'], text: ' ' })).toMatchObject({ status: 400, field: 'text' });
    expect(await bad({ sector: 'B', to: ['NB99'], text: 'x' })).toMatchObject({ status: 404, field: 'to[0].id' });
    expect(await bad({ sector: 'Q', to: ['NB11'], text: 'x' })).toMatchObject({ status: 404, field: 'sector' });
    expect(await bad({ sector: 'B', to: ['NB11'], text: 'x', from: 'NB21' })).toMatchObject({ status: 400, field: '(body)' });
    expect(await bad({ sector: 'B', to: ['NB11'], text: 'x' }, tokens.care)).toMatchObject({ status: 403 });
    expect((await req('GET', '/api/v1/messages', undefined)).status).toBe(401);
    expect((await req('GET', '/api/v1/messages?unread=maybe', tokens.dispatcher)).status).toBe(400);
  });
});

describe('watch meeting notices through the precinct API', () => {
  it('posts to the sector of the beat, or to every sector of the precinct', async () => {
    const startsAt = T + 3 * 86_400_000;
    const one = await req('POST', '/api/v1/notices', tokens.watch_commander, { title: 'Ballard block watch captains', beat: 'B1', startsAt, place: 'Ballard Neighborhood Station', details: 'Marina prowls' });
    expect(one.status).toBe(201);
    const posted = ((await one.json()) as { posted: Array<{ sector: string; notice: { id: string } }> }).posted;
    expect(posted.map((p) => p.sector)).toEqual(['B']);
    expect(B().view().notices[posted[0]!.notice.id]).toMatchObject({ title: 'Ballard block watch captains', beat: 'B1', startsAt, place: 'Ballard Neighborhood Station', details: 'Marina prowls' });
    const all = await req('POST', '/api/v1/notices', tokens.dispatcher, { title: 'Precinct advisory council', startsAt: new Date(startsAt).toISOString(), place: 'North Precinct' });
    const sectorsPosted = ((await all.json()) as { posted: Array<{ sector: string }> }).posted.map((p) => p.sector);
    expect(sectorsPosted.sort()).toEqual([...sectors.keys()].sort());
    expect(audited('watch meeting notice posted', 'op-dispatcher')).toBe(true);
  });

  it('names the field at fault', async () => {
    const bad = async (b: unknown) => {
      const res = await req('POST', '/api/v1/notices', tokens.watch_commander, b);
      return { status: res.status, ...((await res.json()) as { field?: string }) };
    };
    expect(await bad({ title: 't', startsAt: T, place: 'p', beat: 'K1' })).toMatchObject({ status: 400, field: 'beat' });
    expect(await bad({ title: 't', startsAt: T, place: 'p', beat: 'B1', sector: 'L' })).toMatchObject({ status: 400, field: 'sector' });
    expect(await bad({ title: '', startsAt: T, place: 'p' })).toMatchObject({ status: 400, field: 'title' });
    expect(await bad({ title: 't', startsAt: 'tomorrow', place: 'p' })).toMatchObject({ status: 400, field: 'startsAt' });
    expect(await bad({ title: 't', startsAt: T - 3 * 86_400_000, place: 'p' })).toMatchObject({ status: 400, field: 'startsAt' });
    expect((await req('POST', '/api/v1/notices', tokens.care, { title: 't', startsAt: T, place: 'p' })).status).toBe(403);
  });

  it('are described in the OpenAPI document', async () => {
    const doc = (await (await app.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/messages']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/api/v1/notices']!.post).toBeDefined();
    expect(doc.paths['/api/v1/sectors/{sector}/messages/{id}/read']!.post).toBeDefined();
  });
});

describe('console', () => {
  it('shows messages to dispatch, marks one read, sends to units and posts a notice', async () => {
    clock.advance(1000);
    await B().update((d) => board.sendMessage(d, { id: 'M-car-3', to: [{ kind: 'dispatch' }], text: 'Need a <tow> at B1' }, at(car('NB21'), clock.now())));
    const page = await (await req('GET', '/', tokens.watch_commander)).text();
    expect(page).toMatch(/Messages to dispatch \(1 unread\)[\s\S]*<li data-message="M-car-3" class="unread"><b>NB21<\/b>[^<]*: Need a &lt;tow&gt; at B1/);
    expect(page).toContain('action="/console/messages/B/M-car-3/read"');
    expect(page).toContain('Neighborhood watch meeting notice');

    const read = await form('/console/messages/B/M-car-3/read', tokens.watch_commander, []);
    expect(read.status).toBe(303);
    expect(B().view().messages['M-car-3']!.readBy.dispatch).toBe(clock.now());

    const sent = await form('/console/messages', tokens.watch_commander, [['to', 'B/NB11'], ['to', 'B/NB21'], ['text', 'Code 4 at the school']]);
    expect(decodeURIComponent(sent.headers.get('location')!)).toBe('/?ok=message sent to NB11, NB21#dispatch-message');
    expect(Object.values(B().view().messages).some((m) => m.text === 'Code 4 at the school' && m.to.length === 2)).toBe(true);
    const none = await form('/console/messages', tokens.watch_commander, [['text', 'to nobody']]);
    expect(decodeURIComponent(none.headers.get('location')!)).toContain('error=to: choose at least one unit');

    const notice = await form('/console/notices', tokens.watch_commander, [['title', 'Sunset Hill watch'], ['beat', 'B2'], ['startsAt', '2026-03-05T18:30'], ['place', 'Community club'], ['details', '']]);
    expect(decodeURIComponent(notice.headers.get('location')!)).toBe('/?ok=notice posted to sector B#notice');
    expect(Object.values(B().view().notices).find((n) => n.title === 'Sunset Hill watch')?.startsAt).toBe(Date.parse('2026-03-05T18:30Z'));
  });
});
