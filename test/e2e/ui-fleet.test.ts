// The in-car screen in the real system: a precinct (aedes, board, CAD API, roster file) and two
// cars built through the composition roots, their screens in headless Chromium. A call posted at
// the precinct reaches the car's queue; the officer accepts, goes on scene; the second car's
// screen and the precinct's board agree. Then the broker goes away: the screen says offline,
// status changes still work, and reach the precinct after it comes back on the same port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createFleet, postCall, type Fleet } from '../helpers/fleet.js';
import { launchChromium } from '../helpers/chromium.js';
import { waitFor } from '../helpers/wait-for.js';
import { OFFICER, SUPERVISOR, signOnPage, writePrecinctRoster } from '../unit/ui/fixture.js';
import type { RunningPrecinct } from '../../daemon/precinct.js';
import type { RunningVehicle } from '../../daemon/vehicle.js';

const CAR1_SECRET = 'car-one-test-secret-0123456789';

describe('in-car screen with a precinct and two cars', () => {
  let fleet: Fleet;
  let browser: Browser;
  let precinct: RunningPrecinct;
  let car1: RunningVehicle;
  let car2: RunningVehicle;
  let page1: Page;
  let page2: Page;

  beforeAll(async () => {
    fleet = await createFleet();
    browser = await launchChromium();
    await writePrecinctRoster(join(fleet.dir, 'precinct-N'));
    precinct = await fleet.addPrecinct({ id: 'N' });
    // Car 1's secret is ours, so the test can restart the same car later.
    await precinct.registry.register('V3001', { unitId: 'NB11', sector: 'B', precinct: 'N' }, CAR1_SECRET);
    car1 = await fleet.addVehicle({ precinct, vehicleId: 'V3001', unit: 'NB11', beat: 'B1', password: CAR1_SECRET });
    car2 = await fleet.addVehicle({ precinct, vehicleId: 'V3002', unit: 'NB21', beat: 'B2' });
    await waitFor(() => car1.screen.roster() && car2.screen.roster(), { what: 'roster on both cars' });
    page1 = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page2 = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page1.goto(car1.url);
    await page2.goto(car2.url);
    await signOnPage(page1, OFFICER);
    await signOnPage(page2, SUPERVISOR);
  });
  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it('a precinct call reaches the queue; accept, en route, on scene show on the other car and at the precinct', async () => {
    const board = () => fleet.precincts.at(-1)!.sectors.get('B')!.replica.view();
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Burglary in progress', priority: 2, address: '1200 NW Market St', beat: 'B1' });
    const row1 = page1.locator(`tr[data-call="${id}"]`);
    await row1.waitFor({ timeout: 10_000 });
    expect(await row1.textContent()).toContain('Burglary in progress');
    expect(await row1.textContent()).toContain('Urgent');

    // One touch: accept (the board puts the unit en route on the call).
    await row1.locator(`[data-accept="${id}"]`).click();
    await page1.locator('#hdr-status').getByText('En route').waitFor();
    await page1.locator('#hdr-call').getByText('Burglary in progress').waitFor();
    await page1.locator('.rail [data-status="on_scene"]').click();
    await page1.locator('#hdr-status').getByText('On scene').waitFor();
    expect(await page1.locator('.rail [data-status="on_scene"]').getAttribute('aria-pressed')).toBe('true');

    // The second car sees the call on scene with unit NB11 on it.
    const row2 = page2.locator(`tr[data-call="${id}"]`);
    await waitFor(async () => /On scene/.test((await row2.textContent()) ?? '') && /NB11/.test((await row2.textContent()) ?? ''), { what: 'second car shows on scene' });

    // The precinct's board agrees.
    await waitFor(() => board().calls[id]?.state === 'on_scene' && board().units.NB11?.status === 'on_scene', { what: 'precinct board on scene' });
    expect(board().calls[id]?.assigned).toEqual(['NB11']);
  });

  it('offline: the screen says so, a status change still works and reaches the precinct after reconnect', async () => {
    const port = precinct.broker!.port;
    await precinct.stop();
    fleet.precincts.splice(fleet.precincts.indexOf(precinct), 1);
    await page1.locator('#hdr-link').getByText('OFFLINE').waitFor({ timeout: 30_000 });

    await page1.locator('.rail [data-status="transporting"]').click();
    await page1.locator('#hdr-status').getByText('Transporting').waitFor();
    await page1.locator('#hdr-link').getByText('1 waiting').waitFor();
    expect(car1.replica.view().units.NB11?.status).toBe('transporting');

    // The precinct comes back on the same port with its board from disk.
    precinct = await fleet.addPrecinct({ id: 'N', mqttPort: port });
    const board = () => precinct.sectors.get('B')!.replica.view();
    await waitFor(() => board().units.NB11?.status === 'transporting', { timeoutMs: 30_000, what: 'status change at the precinct after reconnect' });
    await page1.locator('#hdr-link').getByText('Online').waitFor({ timeout: 30_000 });
    await waitFor(async () => !/waiting/.test((await page1.locator('#hdr-link').textContent()) ?? ''), { what: 'nothing waiting' });
  });

  it('a restarted car with no precinct reachable signs on from the roster cached on its disk', async () => {
    await precinct.stop();
    fleet.precincts.splice(fleet.precincts.indexOf(precinct), 1);
    await car1.stop();
    fleet.vehicles.splice(fleet.vehicles.indexOf(car1), 1);
    const again = await fleet.addVehicle({ precinct, vehicleId: 'V3001', unit: 'NB11', beat: 'B1', password: CAR1_SECRET });
    expect(again.transport.isOnline()).toBe(false);
    expect(again.screen.roster()?.officers.map((o) => o.badge)).toContain(OFFICER.badge);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(again.url);
    await signOnPage(page, OFFICER);
    await page.locator('#hdr-link').getByText('OFFLINE').waitFor();
    // The board was already signed on to this officer before the restart: the queue is back.
    await page.locator('#queue caption').waitFor();
    await page.close();
  });
});
