// The Watch Commander console in headless Chromium against a real precinct: sign in with an
// operator token, watch a held call's countdown tick, release the hold from the page (the policy
// then dispatches and the history names the operator), enter a CARE report, raise a held call to
// P1 from its update form (dispatched at once) and transfer a held call to another sector.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import * as board from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { launchChromium } from '../../helpers/chromium.js';
import { startScheduledPrecinct } from './scheduled-precinct.js';

describe('Watch Commander console', () => {
  let fleet: Fleet;
  let browser: Browser;
  let precinct: RunningPrecinct;
  let page: Page;
  let token: string;
  let b1: string; // beat officers of B1 and B2 on duty now, by the schedule
  let b2: string;

  const B = () => precinct.sectors.get('B')!.replica;
  const carCtx = (unit: string): OpContext => ({ by: { kind: 'vehicle', vehicleId: `V-${unit}` as VehicleId, unitId: unit as UnitId }, at: Date.now() });

  beforeAll(async () => {
    fleet = await createFleet();
    browser = await launchChromium();
    const scheduled = await startScheduledPrecinct(fleet);
    precinct = scheduled.precinct;
    b1 = scheduled.officer('B1');
    b2 = scheduled.officer('B2');
    token = await precinct.operators.add('wc-1', 'watch_commander');
    // The two beat officers on duty sign on, as their cars would write it.
    for (const [unit, beat] of [[b1, 'B1'], [b2, 'B2']] as const) {
      await B().update((d) => board.signOn(board.upsertUnit(d, { id: unit, callSign: unit, homeBeat: beat, mode: 'car' }, carCtx(unit)), { unitId: unit, officers: [`Ofc. ${unit}`] }, { ...carCtx(unit), at: Date.now() + 1 }));
    }
    const post = (body: unknown) =>
      fetch(new URL('/api/v1/calls', precinct.apiUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ cadNumber: 'W-1', type: 'Assault report', priority: 2, address: '1 Leary Way', beat: 'B1' })).status).toBe(201);
    expect((await post({ cadNumber: 'W-2', type: 'Noise', priority: 4, address: '2 Market St', beat: 'B1' })).status).toBe(201);
    expect(B().view().calls['W-2']?.state).toBe('held');
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it('signs in with the operator token and shows the held call ticking down with its reason', async () => {
    await page.goto(precinct.apiUrl);
    expect(page.url()).toContain('/login');
    await page.fill('input[name=token]', token);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
    const row = page.locator('table.held tr[data-call="W-2"]');
    await row.waitFor();
    expect(await row.textContent()).toContain(`held: beat officer ${b1} on call W-1`);
    const countdown = row.locator('.countdown');
    const first = await countdown.textContent();
    // Evaluated in the page (a string: this project's TypeScript has no DOM types).
    await page.waitForFunction(`document.querySelector('tr[data-call="W-2"] .countdown')?.textContent !== ${JSON.stringify(first)}`, undefined, { timeout: 5000 });
    expect(await countdown.textContent()).toMatch(/^(29|30):\d\d$/);
    expect(await page.locator(`tr[data-unit="${b1}"]`).textContent()).toContain('dispatched');
  });

  it('releases the hold from the page: the nearest free unit gets the call, recorded with the operator', async () => {
    const row = page.locator('table.held tr[data-call="W-2"]');
    await row.locator('form[action$="/release"] input[name=reason]').fill('caller waiting in the street');
    await Promise.all([page.waitForURL(/ok=/), row.locator('form[action$="/release"] button').click()]);
    expect(await page.locator('.flash-ok').textContent()).toContain('hold on call W-2 released');
    expect(await page.locator('table.held tr[data-call="W-2"]').count()).toBe(0);
    const call = B().view().calls['W-2']!;
    expect(call.assigned).toEqual([b2]);
    expect(call.history.find((h) => h.event === 'released' && h.by.kind === 'operator')?.reason).toBe('hold released by wc-1 (watch_commander): caller waiting in the street');
  });

  it('enters a CARE report delivered to the beat officer and the Watch Commander', async () => {
    await page.selectOption('#care select[name=beat]', 'B2');
    await page.fill('#care input[name=incidentAt]', new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
    await page.fill('#care input[name=title]', 'Bicycle theft, insurance report');
    await page.fill('#care textarea[name=body]', 'Locked bicycle taken from the rack overnight.');
    await Promise.all([page.waitForURL(/ok=/), page.click('#care button')]);
    // Every watch's beat officer of B2 that day, and the sector's sergeant and Watch Commander.
    const expected = ['NB21', 'NB22', 'NB23', 'SGT-B', 'WC-N'];
    expect(await page.locator('.flash-ok').textContent()).toMatch(new RegExp(`report R-\\S+ delivered to ${expected.join(', ')}`));
    const report = Object.values(B().view().inbox).find((r) => r.title === 'Bicycle theft, insurance report');
    expect(report?.recipients.map((r) => r.id)).toEqual(expected);
  });

  it('raises a held call to P1 from its update form: dispatched at once, the update and decision in its history', async () => {
    // b2 clears W-2 (as its car would write it) and is free; W-3 waits for b1, the beat officer.
    await B().update((d) => board.clearCall(d, { callId: 'W-2', disposition: 'RPT' }, carCtx(b2)));
    const post = await fetch(new URL('/api/v1/calls', precinct.apiUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cadNumber: 'W-3', type: 'Suspicious vehicle', priority: 4, address: '3 Shilshole Ave', beat: 'B1' }) });
    expect(post.status).toBe(201);
    expect(B().view().calls['W-3']?.state).toBe('held');
    await page.goto(precinct.apiUrl);
    const row = page.locator('table.held tr[data-call="W-3"]');
    await row.locator('details.update summary').click();
    await row.locator('details.update select[name=priority]').selectOption('1');
    await row.locator('details.update input[name=reason]').fill('caller now sees a weapon');
    await Promise.all([page.waitForURL(/ok=/), row.locator('details.update button').click()]);
    expect(await page.locator('.flash-ok').textContent()).toMatch(new RegExp(`call W-3 updated: dispatched to ${b2}: P1 emergency.*\\(after update by wc-1: priority 4 -> 1\\)`));
    const call = B().view().calls['W-3']!;
    expect(call.assigned).toEqual([b2]);
    expect(call.history.map((h) => h.event)).toEqual(['created', 'held', 'updated', 'assigned']);
    expect(call.history[2]).toMatchObject({ by: { kind: 'operator', operatorId: 'wc-1' }, changes: [{ field: 'priority', from: 4, to: 1 }] });
  });

  it('transfers a held call to another sector from the page; the home sector lists it as transferred', async () => {
    const post = await fetch(new URL('/api/v1/calls', precinct.apiUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cadNumber: 'W-4', type: 'Noise', priority: 4, address: '4 Ballard Ave', beat: 'B1' }) });
    expect(post.status).toBe(201);
    await page.goto(precinct.apiUrl);
    const row = page.locator('table.held tr[data-call="W-4"]');
    await row.locator('form[action$="/transfer"] select[name=toSector]').selectOption('J');
    await row.locator('form[action$="/transfer"] input[name=reason]').fill('J covers Ballard Ave tonight');
    await Promise.all([page.waitForURL(/ok=/), row.locator('form[action$="/transfer"] button').click()]);
    expect(await page.locator('.flash-ok').textContent()).toContain('call W-4 transferred to sector J');
    expect(await page.locator('#sector-B ul.transferred li[data-call="W-4"]').textContent()).toContain('to sector J');
    expect(await page.locator('#sector-J tr[data-call="W-4"] .transfer').textContent()).toContain('from sector B');
    expect(B().view().calls['W-4']).toMatchObject({ state: 'transferred', transferredTo: { sector: 'J', reason: 'transferred by wc-1 (watch_commander) to sector J: J covers Ballard Ave tonight' } });
  });
});
