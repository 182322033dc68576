// The walking skeleton end to end: a precinct (real aedes on an ephemeral loopback port) and a car
// (real MQTT.js, Automerge board on disk, Hono screen). A call POSTed to the precinct's CAD API
// appears on the car's screen in a real browser without a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createFleet, postCall, type Fleet } from '../helpers/fleet.js';
import { launchChromium } from '../helpers/chromium.js';
import { waitFor } from '../helpers/wait-for.js';
import { join } from 'node:path';
import { signOnPage, writePrecinctRoster } from '../unit/ui/fixture.js';

describe('walking skeleton', () => {
  let fleet: Fleet;
  let browser: Browser;

  beforeAll(async () => {
    fleet = await createFleet();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it('shows a call created at the precinct on the car screen without a reload', async () => {
    // The screen shows the board only to a signed-on officer: the precinct needs a roster.
    await writePrecinctRoster(join(fleet.dir, 'precinct-N'));
    const precinct = await fleet.addPrecinct({ id: 'N' });
    const car = await fleet.addVehicle({ precinct, vehicleId: 'V2001', unit: 'NB11', beat: 'B1' });
    await waitFor(() => car.transport.isOnline(), { what: 'car online' });

    const page = await browser.newPage();
    await page.goto(car.url);
    expect(await page.locator('#unit').textContent()).toBe('NB11');
    await waitFor(() => car.screen.roster(), { what: 'roster on the car' });
    await signOnPage(page);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);

    const token = await fleet.operatorToken(precinct);
    const { id } = await postCall(precinct, token, { type: 'Burglary in progress', priority: 2, address: '1200 NW Market St', beat: 'B1' });
    const row = page.locator(`tr[data-call="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('Burglary in progress');
    expect(navigations).toBe(0);

    // The same call is on the car's own durable board, not only on screen.
    expect(car.replica.view().calls[id]?.address).toBe('1200 NW Market St');
    await page.close();
  });

  it('reports GPS, modem and broker link on /healthz', async () => {
    const car = fleet.vehicles[0]!;
    const health = await waitFor(async () => {
      const h = (await (await fetch(new URL('/healthz', car.url))).json()) as {
        gps: { state: string };
        modem: { state: string };
        broker: { state: string };
        unit: string;
      };
      return h.gps.state === 'ok' ? h : undefined;
    }, { what: 'gps ok in /healthz' });
    expect(health.unit).toBe('NB11');
    expect(health.broker.state).toBe('online');
    expect(['ok', 'degraded', 'missing']).toContain(health.modem.state);
  });

  it('refuses the CAD API without an operator token', async () => {
    const precinct = fleet.precincts[0]!;
    const res = await fetch(new URL('/api/v1/calls', precinct.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'x', priority: 2, address: 'y', beat: 'B1' }),
    });
    expect(res.status).toBe(401);
  });

  it('refuses a call for a beat outside the precinct with the field at fault', async () => {
    const precinct = fleet.precincts[0]!;
    const res = await fetch(new URL('/api/v1/calls', precinct.apiUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${await fleet.operatorToken(precinct)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'Noise', priority: 4, address: '1 Main St', beat: 'K2' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { field: string }).field).toBe('beat');
  });
});
