// The in-car screen over a real board on disk (ui/standalone.ts), with a roster of two officers,
// for the route tests (app.request) and the Chromium tests (served on an ephemeral port).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createVehicleUi, type VehicleUi, type VehicleUiOptions } from '../../../ui/app.js';
import { openStandalone, type Standalone } from '../../../ui/standalone.js';
import { loadStations } from '../../../daemon/department.js';
import { SAMPLE_STATIONS } from '../../../daemon/config.js';
import { hashPin, type Roster } from '../../../sync/roster.js';
import { sampleDepartment, testLogger } from '../../helpers/fleet.js';
import type { Logger } from '../../../sync/logger.js';

export const OFFICER = { badge: '4711', pin: '2468', name: 'Ofc. Dana Reyes' };
export const SUPERVISOR = { badge: '9001', pin: '1357', name: 'Sgt. Lee Park' };

let rosterCache: Promise<Roster> | undefined;
export function testRoster(): Promise<Roster> {
  rosterCache ??= (async () => ({
    v: 1 as const,
    sector: 'B',
    precinct: 'N',
    at: Date.UTC(2026, 10, 27, 6, 0),
    officers: [
      { badge: OFFICER.badge, name: OFFICER.name, pinHash: await hashPin(OFFICER.pin), role: 'officer' as const },
      { badge: SUPERVISOR.badge, name: SUPERVISOR.name, pinHash: await hashPin(SUPERVISOR.pin), role: 'supervisor' as const },
    ],
  }))();
  return rosterCache;
}

export interface UiFixture {
  dir: string;
  sa: Standalone;
  ui: VehicleUi;
  csrf: string;
  url?: string;
  /** app.request with the CSRF header and JSON body. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function openUi(opts: Partial<VehicleUiOptions> & { roster?: Roster | null; serve?: boolean; log?: Logger } = {}): Promise<UiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-ui-'));
  const department = await sampleDepartment();
  const roster = opts.roster === null ? undefined : (opts.roster ?? (await testRoster()));
  const sa = await openStandalone({
    dir,
    department,
    identity: { vehicleId: 'V1001', unitId: 'NB11', callSign: 'B1-1', sector: 'B', precinct: 'N', homeBeat: 'B1' },
    roster,
    stations: await loadStations(SAMPLE_STATIONS),
    otherUnits: [{ id: 'NB21', homeBeat: 'B2' }],
  });
  const log = opts.log ?? testLogger();
  const ui = createVehicleUi(sa.screen, log, { lockAfterMs: opts.lockAfterMs ?? 300_000, ...(opts.now ? { now: opts.now } : {}), ...(opts.limits ? { limits: opts.limits } : {}) });
  const page = await (await ui.app.request('/')).text();
  const csrf = /name="mdt-csrf" content="([^"]+)"/.exec(page)?.[1] ?? '';
  let server: ServerType | undefined;
  let url: string | undefined;
  if (opts.serve) {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: ui.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
  }
  return {
    dir,
    sa,
    ui,
    csrf,
    ...(url ? { url } : {}),
    post: async (path, body, headers = {}) =>
      ui.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mdt-csrf': csrf, ...headers }, body: JSON.stringify(body ?? {}) }),
    async close() {
      ui.dispose();
      if (server) {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((r) => server.close(() => r()));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes the test roster as the precinct's roster file (its state dir), before it starts. */
export async function writePrecinctRoster(stateDir: string): Promise<void> {
  const r = await testRoster();
  await mkdir(stateDir, { recursive: true });
  // Officer 4711 signs on in one car, supervisor 9001 in another.
  await writeFile(join(stateDir, 'roster.json'), JSON.stringify({ v: 1, officers: r.officers }));
}

/** Signs on through the page like an officer: badge, PIN, Sign on. */
export async function signOnPage(page: Page, who: { badge: string; pin: string } = OFFICER): Promise<void> {
  await page.locator('#badge').fill(who.badge);
  await page.locator('#pin').fill(who.pin);
  await page.locator('#signon-form button[type="submit"]').click();
  await page.locator('body[data-session="active"]').waitFor({ timeout: 10_000 });
}
