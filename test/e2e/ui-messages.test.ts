// The inbox in the real system: a precinct (aedes, boards, API, console, roster file) and two cars
// of sector B built through the composition roots, their screens and the Watch Commander console
// in headless Chromium. Car A writes to car B with the keyboard; B's screen alerts (visibly and
// with a tone) and B marks the message read; A sees the receipt. A message to dispatch shows in the
// console, which reads it and answers; a watch meeting notice posted in the console reaches the
// car's inbox. A new roster published by the precinct is used for sign-on at once, no restart.
// Screenshots of the inbox in day and night themes go to test-output/screens/ (not committed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createFleet, type Fleet } from '../helpers/fleet.js';
import { launchChromium } from '../helpers/chromium.js';
import { waitFor } from '../helpers/wait-for.js';
import { OFFICER, SUPERVISOR, signOnPage, testRoster, writePrecinctRoster } from '../unit/ui/fixture.js';
import { hashPin } from '../../sync/roster.js';
import { packagePath } from '../../daemon/paths.js';
import type { RunningPrecinct } from '../../daemon/precinct.js';
import type { RunningVehicle } from '../../daemon/vehicle.js';

const SHOTS = packagePath('test-output', 'screens');
const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';

describe('messages and notices between cars, dispatch and the precinct', () => {
  let fleet: Fleet;
  let browser: Browser;
  let precinct: RunningPrecinct;
  let carA: RunningVehicle;
  let carB: RunningVehicle;
  let pageA: Page;
  let pageB: Page;
  let console_: Page;
  const board = () => precinct.sectors.get('B')!.replica.view();

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    fleet = await createFleet();
    browser = await launchChromium();
    await writePrecinctRoster(join(fleet.dir, 'precinct-N'));
    precinct = await fleet.addPrecinct({ id: 'N' });
    carA = await fleet.addVehicle({ precinct, vehicleId: 'V5001', unit: 'NB11', beat: 'B1' });
    carB = await fleet.addVehicle({ precinct, vehicleId: 'V5002', unit: 'NB21', beat: 'B2' });
    await waitFor(() => carA.screen.roster() && carB.screen.roster(), { what: 'roster on both cars' });
    pageA = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    pageB = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await pageA.goto(carA.url);
    await pageB.goto(carB.url);
    await signOnPage(pageA, OFFICER);
    await signOnPage(pageB, SUPERVISOR);
    // Each car knows the other unit before A writes to B.
    await waitFor(() => carA.replica.view().units.NB21 && carB.replica.view().units.NB11, { timeoutMs: 20_000, what: 'both units on both boards' });
  });
  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it('car A writes to car B with the keyboard; B alerts, shows it, marks it read; A sees the receipt', async () => {
    await pageA.keyboard.press('Alt+4');
    await pageA.locator('#view-inbox:not([hidden])').waitFor();
    await pageA.locator('[data-compose=""]').click();
    await pageA.locator('#msg-dialog[open]').waitFor();
    // Keyboard only: the recipient checkbox with Space, the text, then Send.
    await pageA.locator('#msg-to input[value="NB21"]').focus();
    await pageA.keyboard.press('Space');
    expect(await pageA.locator('#msg-to input[value="NB21"]').isChecked()).toBe(true);
    // B changes status while A writes: the recipient list is re-rendered, A's tick and focus stay.
    await carB.screen.actions.setStatus('out_of_service', 'Report writing');
    await pageA.locator('#msg-to label', { hasText: 'NB21' }).getByText('Out of service').waitFor({ timeout: 20_000 });
    expect(await pageA.locator('#msg-to input[value="NB21"]').isChecked()).toBe(true);
    expect(await pageA.evaluate('document.activeElement && document.activeElement.value')).toBe('NB21');
    await carB.screen.actions.setStatus('available');
    await pageA.locator('#msg-text').focus();
    await pageA.keyboard.type('Covering your beat until 15:00, call me on the radio');
    await pageA.keyboard.press('Tab');
    await pageA.keyboard.press('Enter');
    await pageA.locator('#msg-dialog').waitFor({ state: 'hidden' });

    // B: the alert on the current view (the queue), a tone, the unread count on the Inbox tab.
    const alert = pageB.locator('#msg-alert [data-new-message]');
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toContain('Covering your beat until 15:00');
    expect(await alert.textContent()).toContain('NB11');
    await waitFor(async () => Number(await pageB.locator('body').getAttribute('data-message-beeps')) >= 1, { what: 'a message tone' });
    expect(await text(pageB, '#inbox-count')).toMatch(/\d/);
    const unreadBefore = Number(await text(pageB, '#inbox-count'));

    await pageB.locator('#tab-inbox').click();
    const row = pageB.locator('#inbox [data-message]').first();
    expect(await row.textContent()).toMatch(/Unread\s*From NB11 to this unit/);
    for (const theme of ['day', 'night'] as const) {
      if ((await pageB.locator('html').getAttribute('data-theme')) !== theme) await pageB.locator('#theme').click();
      await pageB.screenshot({ path: join(SHOTS, `inbox-message-${theme}.png`) });
    }
    await pageB.locator('#theme').click();

    await row.locator('[data-markmsg]').click();
    await pageB.locator('#msg-alert [data-new-message]').waitFor({ state: 'detached' });
    await waitFor(async () => Number((await text(pageB, '#inbox-count')) || 0) === unreadBefore - 1, { what: 'unread count down by one' });
    const id = Object.keys(carB.replica.view().messages)[0]!;
    await waitFor(() => board().messages[id]?.readBy.NB21, { timeoutMs: 20_000, what: 'receipt at the precinct' });
    await pageA.locator(`#inbox [data-message="${id}"]`).getByText('Read by NB21').waitFor({ timeout: 20_000 });
  });

  it('dispatch sees a message to dispatch in the console, reads it and answers; the car alerts', async () => {
    await pageA.locator('[data-compose=""]').click();
    await pageA.locator('#msg-to input[value="dispatch"]').check();
    await pageA.locator('#msg-text').fill('Requesting a tow at 1200 NW Market St');
    await pageA.locator('#msg-form button[type="submit"]').click();
    await waitFor(() => Object.values(board().messages).find((m) => m.text.startsWith('Requesting a tow')), { timeoutMs: 20_000, what: 'message at the precinct' });

    const token = await precinct.operators.add('wc-1', 'watch_commander');
    console_ = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await console_.goto(new URL('/login', precinct.apiUrl).toString());
    await console_.fill('input[name=token]', token);
    await Promise.all([console_.waitForURL((u) => !u.pathname.startsWith('/login')), console_.click('button[type=submit]')]);
    const item = console_.locator('#sector-B .messages li.unread', { hasText: 'Requesting a tow at 1200 NW Market St' });
    await item.waitFor();
    expect(await item.textContent()).toContain('NB11');
    await Promise.all([console_.waitForURL(/ok=/), item.locator('button').click()]);
    await console_.locator('#sector-B .messages li', { hasText: 'Requesting a tow' }).getByText(/read \d\d:\d\dZ/).waitFor();
    await pageA.locator('#inbox [data-message]', { hasText: 'Requesting a tow' }).getByText('Read by Dispatch').waitFor({ timeout: 20_000 });

    // Dispatch answers from the console's form.
    await console_.locator('#dispatch-message input[value="B/NB11"]').check();
    await console_.locator('#dispatch-message textarea[name=text]').fill('Tow on its way, 20 minutes');
    await Promise.all([console_.waitForURL(/ok=/), console_.locator('#dispatch-message button').click()]);
    const alert = pageA.locator('#msg-alert [data-new-message]', { hasText: 'Tow on its way' });
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toContain('Dispatch');
  });

  it('a watch meeting notice posted in the console reaches the car inbox', async () => {
    await console_.locator('#notice input[name=title]').fill('Sunset Hill neighborhood watch');
    await console_.locator('#notice select[name=beat]').selectOption('B2');
    await console_.locator('#notice input[name=startsAt]').fill('2030-03-05T18:30');
    await console_.locator('#notice input[name=place]').fill('Sunset Hill Community Club, 3003 NW 66th St');
    await Promise.all([console_.waitForURL(/ok=/), console_.locator('#notice button').click()]);
    expect(decodeURIComponent(console_.url())).toContain('notice posted to sector B');
    await pageB.locator('#tab-inbox').click();
    const notice = pageB.locator('#inbox [data-notice]', { hasText: 'Sunset Hill neighborhood watch' });
    await notice.waitFor({ timeout: 20_000 });
    expect(await notice.textContent()).toContain('3003 NW 66th St');
    await notice.locator('[data-markread]').click();
    await notice.getByText(/Read \d\d:\d\d/).waitFor();
  });

  it('a roster the precinct publishes is used for sign-on at once, and cached on disk', async () => {
    const newcomer = { badge: '5150', pin: '8642', name: 'Ofc. Sam Ortiz' };
    const r = await testRoster();
    // The admin edits the roster file; the precinct publishes it (retained) to every sector.
    await writeFile(join(fleet.dir, 'precinct-N', 'roster.json'), JSON.stringify({ v: 1, officers: [...r.officers, { badge: newcomer.badge, name: newcomer.name, role: 'officer', pinHash: await hashPin(newcomer.pin) }] }));
    await precinct.reloadRoster();
    await waitFor(() => carB.screen.roster()?.officers.some((o) => o.badge === newcomer.badge), { timeoutMs: 20_000, what: 'new roster on car B' });
    await pageB.locator('#signoff-btn').click();
    await pageB.locator('body[data-session="signed_off"]').waitFor();
    await pageB.locator('#lock-info').getByText('Roster of 3 officers').waitFor();
    await signOnPage(pageB, newcomer);
    await waitFor(() => board().units.NB21?.officers.includes(newcomer.badge), { timeoutMs: 20_000, what: 'new officer signed on at the precinct' });
    const cached = JSON.parse(await readFile(join(fleet.dir, 'V5002', 'roster.json'), 'utf8')) as { officers: Array<{ badge: string }> };
    expect(cached.officers.map((o) => o.badge)).toContain(newcomer.badge);
  });
});
