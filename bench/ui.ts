// The in-car screen in headless Chromium: page weight, time to interactive (first live frame on
// screen), and the latency from a board change to the DOM, on an unthrottled CPU and with
// Chromium's CPU throttling at 4x to stand in for a weak MDT processor. The daemon side is the
// real screen (ui/app.ts) over a real board on disk (ui/standalone.ts), signed on, 20 open calls.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createVehicleUi } from '../ui/app.js';
import { openStandalone } from '../ui/standalone.js';
import { loadDepartment, loadStations } from '../daemon/department.js';
import { SAMPLE_DEPARTMENT, SAMPLE_STATIONS } from '../daemon/config.js';
import { hashPin } from '../sync/roster.js';
import { silentLogger } from '../sync/schema.js';
import type { BenchTable } from './table.js';

const CALLS = 20;
const UPDATES = 20;

const OBSERVE_ROWS = `(() => {
  window.seen = {};
  new MutationObserver(() => {
    for (const tr of document.querySelectorAll('tr[data-call]')) window.seen[tr.dataset.call] ??= Date.now();
  }).observe(document.getElementById('queue'), { childList: true, subtree: true });
})()`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function measure(browser: Browser, url: string, throttle: number, bump: (i: number) => Promise<void>, tag: string) {
  const page: Page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  const bytes: Record<string, number> = {};
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (u.pathname === '/events') return;
    void res.body().then((b) => (bytes[u.pathname] = b.length)).catch(() => undefined);
  });
  const timing = async () =>
    (await page.evaluate(`(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const live = performance.getEntriesByName('mdt-live')[0];
      return { domInteractive: n.domInteractive, dcl: n.domContentLoadedEventEnd, live: live ? live.startTime : NaN };
    })()`)) as { domInteractive: number; dcl: number; live: number };
  // Cold: the first page of a fresh browser tab; warm: a reload (what a kiosk does after a crash).
  await page.goto(url);
  await page.locator('body[data-live="true"]').waitFor();
  const cold = await timing();
  await page.reload();
  await page.locator('body[data-live="true"]').waitFor();
  const nav = await timing();
  await page.evaluate(OBSERVE_ROWS);
  const lat: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const t0 = Date.now();
    await bump(i);
    const id = `${tag}${i}`;
    await page.locator(`tr[data-call="${id}"]`).waitFor({ timeout: 5000 });
    const seen = (await page.evaluate(`window.seen[${JSON.stringify(id)}]`)) as number;
    lat.push(seen - t0);
  }
  lat.sort((a, b) => a - b);
  await page.close();
  return { bytes, cold, nav, lat };
}

export async function benchUi(): Promise<BenchTable[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-bench-ui-'));
  const department = await loadDepartment(SAMPLE_DEPARTMENT);
  const pinHash = await hashPin('2468');
  const sa = await openStandalone({
    dir,
    department,
    identity: { vehicleId: 'V1001', unitId: 'NB11', callSign: 'B1-1', sector: 'B', precinct: 'N', homeBeat: 'B1' },
    roster: { v: 1, sector: 'B', precinct: 'N', at: Date.now(), officers: [{ badge: '4711', name: 'Bench', pinHash, role: 'officer' }] },
    stations: await loadStations(SAMPLE_STATIONS),
    otherUnits: [{ id: 'NB21', homeBeat: 'B2' }],
  });
  const ui = createVehicleUi(sa.screen, silentLogger, { lockAfterMs: 3_600_000 });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: ui.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const a = server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
  const browser = await chromium.launch({
    executablePath: process.env.MDT_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await (await ui.app.request('/')).text();
    const csrf = /name="mdt-csrf" content="([^"]+)"/.exec(page)?.[1] ?? '';
    await ui.app.request('/api/session/sign-on', { method: 'POST', headers: { 'content-type': 'application/json', 'x-mdt-csrf': csrf }, body: JSON.stringify({ badge: '4711', pin: '2468' }) });
    const beats = department.sectors.B?.beats ?? ['B1'];
    for (let i = 0; i < CALLS; i++) {
      const beat = beats[i % beats.length]!;
      const [lon, lat] = department.beats[beat]!.center;
      await sa.dispatcher.createCall({ cadNumber: `Q${i}`, type: 'Suspicious person', priority: ((i % 4) + 1) as 1 | 2 | 3 | 4, address: `${100 + i} NW Market St`, beat, lat, lon, callerNotes: 'Caller describes a person checking car doors along the block.' });
    }
    // Server side: one full render of every fragment (what each board change costs the daemon).
    const renders: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      ui.live.render();
      renders.push(performance.now() - t);
    }
    renders.sort((x, y) => x - y);

    const rows: Array<Array<string | number>> = [];
    const weights: Array<Array<string | number>> = [];
    for (const throttle of [1, 4]) {
      const tag = `U${throttle}x`;
      const m = await measure(browser, url, throttle, (i) => sa.dispatcher.createCall({ cadNumber: `${tag}${i}`, type: 'Alarm', priority: 3, address: `${i} Bench St`, beat: 'B3' }), tag);
      rows.push([`${throttle}x CPU`, m.cold.domInteractive, m.cold.live, m.nav.domInteractive, m.nav.live, pct(m.lat, 0.5), pct(m.lat, 0.95), pct(m.lat, 1)]);
      if (throttle === 1) {
        const total = Object.values(m.bytes).reduce((x, y) => x + y, 0);
        for (const [path, n] of Object.entries(m.bytes).sort()) weights.push([path, n]);
        weights.push(['total', total]);
      }
    }
    return [
      {
        title: 'In-car screen: page weight (signed on, 20 open calls, uncompressed)',
        columns: ['resource', 'bytes'],
        rows: weights,
        notes: ['Every asset is served by the daemon; no fonts, images, frameworks or tiles are fetched.', 'The SSE stream (/events) is not counted.'],
      },
      {
        title: 'In-car screen: time to interactive and board change -> screen latency (ms)',
        columns: ['Chromium CPU', 'cold: DOM interactive', 'cold: first live frame', 'reload: DOM interactive', 'reload: first live frame', 'update p50', 'update p95', 'update max'],
        rows,
        notes: [
          `update = ${UPDATES} calls created on the board (durable write with fsync included) until the row is in the DOM (MutationObserver)`,
          '4x = Chromium CPU throttling, standing in for a low-power MDT processor; cold = first page of a new tab (includes font and renderer start-up)',
          `daemon render of every fragment: p50 ${pct(renders, 0.5).toFixed(2)} ms, p95 ${pct(renders, 0.95).toFixed(2)} ms (${CALLS + 0} calls)`,
        ],
      },
    ];
  } finally {
    await browser.close();
    ui.dispose();
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}
