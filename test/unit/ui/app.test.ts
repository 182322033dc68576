// The screen's routes through app.request(): security headers, CSRF, Host, session gating,
// rendering of the fragments, and that no secret reaches the page.
import { afterEach, describe, expect, it } from 'vitest';
import { openUi, OFFICER, type UiFixture } from './fixture.js';

let fx: UiFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function signedOn(): Promise<UiFixture> {
  fx = await openUi();
  const res = await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: OFFICER.pin });
  expect(res.status).toBe(200);
  return fx;
}

describe('in-car screen routes', () => {
  it('serves the page with a strict CSP, no PIN hash, and the sign-on form while nobody is signed on', async () => {
    fx = await openUi();
    const res = await fx.ui.app.request('/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const page = await res.text();
    expect(page).toContain('data-session="signed_off"');
    expect(page).toContain('id="signon-form"');
    expect(page).not.toMatch(/scrypt\$/);
    expect(page).not.toContain('1200 NW Market St');
    // No external resource anywhere: every src/href is same-origin.
    for (const m of page.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).toMatch(/^\//);
  });

  it('refuses state-changing requests without the CSRF token, or cross-site, and a foreign Host', async () => {
    fx = await openUi();
    const noToken = await fx.ui.app.request('/api/session/sign-on', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ badge: OFFICER.badge, pin: OFFICER.pin }) });
    expect(noToken.status).toBe(403);
    const crossSite = await fx.post('/api/emergency', {}, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(fx.sa.emergencies).toBe(0);
    const rebinding = await fx.ui.app.request('http://evil.example/', { headers: { host: 'evil.example' } });
    expect(rebinding.status).toBe(421);
  });

  it('keeps the board off the page and refuses officer actions until sign-on', async () => {
    fx = await openUi();
    await fx.sa.dispatcher.createCall({ cadNumber: 'C9', type: 'Theft', priority: 3, address: '1 Test St', beat: 'B1' });
    const state = (await (await fx.ui.app.request('/api/state')).json()) as { board: unknown; session: { state: string } };
    expect(state.board).toBeNull();
    expect(state.session.state).toBe('signed_off');
    expect((await fx.post('/api/status', { status: 'en_route' })).status).toBe(403);
    expect((await fx.post('/api/calls/C9/accept')).status).toBe(403);
  });

  it('signs on, renders the queue with priority as text, and accepts a call with one request', async () => {
    fx = await signedOn();
    await fx.sa.dispatcher.createCall({ cadNumber: 'C1', type: 'Burglary in progress', priority: 2, address: '1200 NW Market St', beat: 'B1', lat: 47.6686, lon: -122.379 });
    await fx.sa.dispatcher.assign('C1', 'NB11');
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toContain('data-session="active"');
    expect(page).toMatch(/<tr data-call="C1"[^>]*>[\s\S]*P2<\/b> Urgent/);
    expect(page).toContain('NEW CALL');
    expect(page).toMatch(/<g class="call p2 mine"/);
    expect((await fx.post('/api/calls/C1/accept')).status).toBe(200);
    expect(fx.sa.replica.view().units.NB11?.status).toBe('en_route');
    expect((await fx.post('/api/status', { status: 'on_scene' })).status).toBe(200);
    expect(fx.sa.replica.view().calls.C1?.state).toBe('on_scene');
    expect((await fx.post('/api/calls/C1/notes', { text: 'Rear door forced.' })).status).toBe(200);
    expect((await fx.post('/api/calls/C1/clear', { disposition: 'NOPE' })).status).toBe(409);
    expect((await fx.post('/api/calls/C1/clear', { disposition: 'RPT' })).status).toBe(200);
    expect(fx.sa.replica.view().calls.C1?.disposition).toBe('RPT');
  });

  it('shows a held call with its countdown and reason, and out of service needs a reason', async () => {
    fx = await signedOn();
    await fx.sa.dispatcher.createCall({ cadNumber: 'H1', type: 'Noise', priority: 4, address: '2 Test St', beat: 'B2' });
    await fx.sa.dispatcher.hold('H1', 30, 'beat officer out of service', 'NB21');
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toMatch(/Held <span class="countdown" data-until="\d+">30 min<\/span>/);
    expect(page).toContain('beat officer out of service');
    expect((await fx.post('/api/status', { status: 'out_of_service' })).status).toBe(409);
    expect((await fx.post('/api/status', { status: 'out_of_service', reason: 'Meal break' })).status).toBe(200);
    expect((await fx.post('/api/status', { status: 'off_duty' })).status).toBe(400);
  });

  it('marks a CARE report read and lists beat profile, plan and stations', async () => {
    fx = await signedOn();
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toContain('data-markread="CARE-B1-0001"');
    expect(page).toContain('Vehicle prowls in the Shilshole marina lots');
    expect(page).toContain('Ballard Neighborhood Station');
    expect(page).toContain('(555) 010-4411');
    expect(page).toContain('Ballard block watch captains'); // a seeded watch meeting notice
    expect((await fx.post('/api/reports/CARE-B1-0001/read')).status).toBe(200);
    expect(fx.sa.replica.view().inbox['CARE-B1-0001']?.readBy.NB11).toBeTypeOf('number');
  });

  it('sends a message to a unit and to dispatch; bad input names the field and writes nothing', async () => {
    fx = await signedOn();
    const page = await (await fx.ui.app.request('/')).text();
    // The compose dialog offers dispatch and the other unit of the sector, never this unit.
    expect(page).toMatch(/id="msg-to"[\s\S]*value="dispatch"[\s\S]*value="NB21"/);
    expect(page).not.toContain('name="to" value="NB11"');
    expect((await fx.post('/api/messages', { to: [{ kind: 'unit', id: 'NB21' }, { kind: 'dispatch' }], text: '  Covering B2 until 15:00 ' })).status).toBe(200);
    const sent = Object.values(fx.sa.replica.view().messages);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ from: { kind: 'unit', id: 'NB11' }, to: [{ kind: 'unit', id: 'NB21' }, { kind: 'dispatch', id: 'dispatch' }], text: 'Covering B2 until 15:00' });
    const refused = async (b: unknown) => {
      const res = await fx!.post('/api/messages', b);
      return { status: res.status, body: (await res.json()) as { field?: string } };
    };
    expect(await refused({ to: [], text: 'x' })).toMatchObject({ status: 400, body: { field: 'to' } });
    expect(await refused({ to: [{ kind: 'dispatch' }], text: '   ' })).toMatchObject({ status: 400, body: { field: 'text' } });
    expect(await refused({ to: [{ kind: 'unit', id: '<b>' }], text: 'x' })).toMatchObject({ status: 400, body: { field: 'to.0.id' } });
    expect(await refused({ to: [{ kind: 'unit', id: 'NB99' }], text: 'x' })).toMatchObject({ status: 409, body: { field: 'to[0].id' } });
    expect(await refused({ to: [{ kind: 'unit', id: 'NB11' }], text: 'x' })).toMatchObject({ status: 409, body: { field: 'to[0]' } });
    expect(Object.keys(fx.sa.replica.view().messages)).toHaveLength(1);
    // Without the CSRF token nothing is sent.
    const noToken = await fx.ui.app.request('/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: [{ kind: 'dispatch' }], text: 'x' }) });
    expect(noToken.status).toBe(403);
  });

  it('a message to this unit alerts on every view, counts on the inbox tab, and is marked read', async () => {
    fx = await signedOn();
    const unread = (page: string) => Number(/<span id="inbox-count"><span class="badge" aria-label="(\d+) unread">\1<\/span>/.exec(page)?.[1]);
    // The seeded sample: one CARE report and the sector's three watch meetings.
    expect(unread(await (await fx.ui.app.request('/')).text())).toBe(4);
    await fx.sa.dispatcher.sendMessage(['NB11'], 'Call the desk about the <b>tow</b>');
    const id = Object.keys(fx.sa.replica.view().messages)[0]!;
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toContain(`data-new-message="${id}"`);
    expect(page).toContain('Call the desk about the &lt;b&gt;tow&lt;/b&gt;');
    expect(unread(page)).toBe(5);
    expect((await fx.post(`/api/messages/${id}/read`)).status).toBe(200);
    expect(fx.sa.replica.view().messages[id]?.readBy.NB11).toBeTypeOf('number');
    const after = await (await fx.ui.app.request('/')).text();
    expect(after).not.toContain('data-new-message=');
    expect(unread(after)).toBe(4);
    expect((await fx.post('/api/messages/NOPE/read')).status).toBe(409);
  });

  it('lists watch meeting notices from the board and marks them read', async () => {
    fx = await signedOn();
    const startsAt = Date.now() + 3 * 86_400_000;
    await fx.sa.dispatcher.postNotice({ id: 'W-1', title: 'Ballard block watch captains', beat: 'B1', startsAt, place: 'Ballard Neighborhood Station', details: 'Vehicle prowls at the marina' });
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toContain('Ballard block watch captains');
    expect(page).toContain('data-markread="W-1"');
    expect((await fx.post('/api/reports/W-1/read')).status).toBe(200);
    expect(fx.sa.replica.view().notices['W-1']?.readBy.NB11).toBeTypeOf('number');
  });

  it('says where the call detail\'s hazards come from', async () => {
    fx = await signedOn();
    await fx.sa.dispatcher.createCall({ cadNumber: 'C7', type: 'Prowler', priority: 3, address: '6500 24th Ave NW', beat: 'B1' });
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).toMatch(/From the beat profile of B1[^<]*: the beat's crime problems, not a premise history of this address/);
  });

  it('escapes what comes from the board: a call type cannot inject markup', async () => {
    fx = await signedOn();
    await fx.sa.dispatcher.createCall({ cadNumber: 'X1', type: '<img src=x onerror=alert(1)>', priority: 3, address: '"><script>alert(1)</script>', beat: 'B1' });
    const page = await (await fx.ui.app.request('/')).text();
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('takes the emergency in every session state, locked and signed off included', async () => {
    fx = await openUi();
    expect((await fx.post('/api/emergency')).status).toBe(200);
    await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: OFFICER.pin });
    await fx.post('/api/session/lock');
    expect((await fx.post('/api/emergency')).status).toBe(200);
    expect(fx.sa.emergencies).toBe(2);
  });

  it('pushes only the fragments that changed over the event stream', async () => {
    fx = await signedOn();
    const res = await fx.ui.app.request('/events');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    const next = async (pred: (s: string) => boolean) => {
      while (!pred(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += dec.decode(value);
      }
    };
    await next((s) => s.includes('event: frag'));
    text = '';
    await fx.sa.dispatcher.createCall({ cadNumber: 'L1', type: 'Alarm', priority: 3, address: '3 Test St', beat: 'B3' });
    await next((s) => s.includes('L1') && s.endsWith('\n\n'));
    const data = JSON.parse(/data: (.*)/.exec(text)![1]!) as { f: Record<string, string>; m: { session: string } };
    expect(Object.keys(data.f)).toContain('queue');
    expect(Object.keys(data.f)).not.toContain('beat');
    expect(data.m.session).toBe('active');
    // A position fix moves a dot on the map and touches nothing else.
    text = '';
    fx.sa.setPosition({ v: 1, unit: 'NB21', lat: 47.68, lon: -122.39, mode: '3d', at: Date.now() });
    await next((s) => s.includes('event: frag') && s.endsWith('\n\n'));
    const avl = JSON.parse(/data: (.*)/.exec(text)![1]!) as { f: Record<string, string> };
    expect(Object.keys(avl.f)).toEqual(['map-dyn']);
    await reader.cancel();
  });
});
