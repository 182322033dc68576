// The officer session: PIN checks against the roster, rate limiting with audit lines, idle lock
// on a fake clock, unlock, and sign-off writing the board.
import { afterEach, describe, expect, it } from 'vitest';
import { openUi, OFFICER, SUPERVISOR, type UiFixture } from './fixture.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';

let fx: UiFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}

describe('officer session', () => {
  it('refuses a wrong PIN and an unknown badge alike, audit-logs both without the PIN', async () => {
    const { lines, log } = captureLog();
    fx = await openUi({ log });
    const wrong = await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: '0000' });
    expect(wrong.status).toBe(401);
    const unknown = await fx.post('/api/session/sign-on', { badge: '1', pin: '0000' });
    expect(unknown.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toBe(((await unknown.json()) as { message: string }).message);
    const audit = lines.filter((l) => l.audit === true);
    expect(audit.map((l) => l.reason)).toEqual(['wrong PIN', 'badge not on roster']);
    expect(JSON.stringify(lines)).not.toContain('0000');
    expect(fx.sa.replica.view().units.NB11?.status).toBe('off_duty');
  });

  it('pauses sign-on after 5 failures, even for the right PIN, and says until when', async () => {
    fx = await openUi();
    for (let i = 0; i < 4; i++) expect((await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: `9${i}` })).status).toBe(401);
    const fifth = await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: '95' });
    expect(fifth.status).toBe(429);
    const right = await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: OFFICER.pin });
    expect(right.status).toBe(429);
    expect(((await right.json()) as { retryAt: number }).retryAt).toBeGreaterThan(Date.now());
    expect(await (await fx.ui.app.request('/')).text()).toContain('Too many failed attempts');
  });

  it('signs on to the board, locks after the idle time, unlocks only with the PIN, signs off', async () => {
    let now = Date.now();
    fx = await openUi({ lockAfterMs: 60_000, now: () => now });
    expect((await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: OFFICER.pin })).status).toBe(200);
    expect(fx.sa.replica.view().units.NB11).toMatchObject({ status: 'available', officers: [OFFICER.badge] });
    now += 30_000;
    await fx.post('/api/session/activity');
    now += 45_000;
    fx.ui.session.checkIdle();
    expect(fx.ui.session.view().state).toBe('active');
    now += 16_000;
    fx.ui.session.checkIdle();
    expect(fx.ui.session.view()).toMatchObject({ state: 'locked', lockedBy: 'idle' });
    expect((await fx.post('/api/status', { status: 'en_route' })).status).toBe(403);
    // Another officer's PIN does not unlock this officer's screen.
    expect((await fx.post('/api/session/unlock', { pin: SUPERVISOR.pin })).status).toBe(401);
    expect((await fx.post('/api/session/unlock', { pin: OFFICER.pin })).status).toBe(200);
    expect((await fx.post('/api/session/sign-off')).status).toBe(200);
    expect(fx.sa.replica.view().units.NB11?.status).toBe('off_duty');
  });

  it('explains that sign-on needs a roster when the car never received one', async () => {
    fx = await openUi({ roster: null });
    const res = await fx.post('/api/session/sign-on', { badge: OFFICER.badge, pin: OFFICER.pin });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe('no_roster');
    expect(await (await fx.ui.app.request('/')).text()).toContain('No roster on this car yet');
  });

});
