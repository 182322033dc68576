import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { GpsdSource, type GpsdSourceOptions } from '../../../hardware/gpsd-client.js';
import type { DeviceHealth, GpsFix } from '../../../hardware/types.js';
import { freePort } from '../../helpers/free-port.js';
import { sleep, waitFor } from '../../helpers/wait-for.js';
import { captureLog } from './capture-log.js';
import { DEVICE_PATH, FakeGpsd, WATCH_LINE, tpvLine } from './fake-gpsd.js';

// Timings are shrunk (backoff 20..200 ms, silence 400 ms) so faults play out in well under a second.
const FAST: GpsdSourceOptions = { backoff: { minMs: 20, maxMs: 200 }, silenceTimeoutMs: 400, staleAfterMs: 5000 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startGpsd(options: ConstructorParameters<typeof FakeGpsd>[0] = {}): Promise<FakeGpsd> {
  const gpsd = await new FakeGpsd(options).start();
  cleanups.push(() => gpsd.stop());
  return gpsd;
}

function client(port: number, extra: GpsdSourceOptions = {}) {
  const log = captureLog();
  const source = new GpsdSource({ ...FAST, port, log, ...extra });
  const fixes: GpsFix[] = [];
  const health: DeviceHealth[] = [];
  source.on('fix', (f) => fixes.push(f));
  source.on('health', (h) => health.push(h));
  cleanups.push(() => source.stop());
  return { source, log, fixes, health };
}

describe('GpsdSource against a scripted gpsd', () => {
  it('connects, sends ?WATCH, and turns TPV into fixes with satellites and clock offset', async () => {
    const gpsd = await startGpsd();
    let now = Date.parse('2026-11-27T08:00:02.500Z');
    const { source, fixes } = client(gpsd.port, { clock: { now: () => now } });
    await source.start();
    await waitFor(() => source.isConnected(), { what: 'connected' });
    expect(gpsd.commands).toEqual(['?WATCH={"enable":true,"json":true}']);
    gpsd.send('{"class":"SKY","device":"/dev/ttyGPS0","nSat":9,"uSat":7,"satellites":[]}', tpvLine());
    await waitFor(() => fixes.length === 1, { what: 'a fix' });
    expect(fixes[0]).toEqual({
      lat: 47.6062,
      lon: -122.3321,
      mode: '3d',
      speed: 12.3,
      track: 90.5,
      altMsl: 52.4,
      eph: 8.2,
      satellitesUsed: 7,
      fixTime: Date.parse('2026-11-27T08:00:00.000Z'),
      receivedAt: now,
    });
    expect(source.clockOffsetMs()).toBe(-2500); // system clock 2.5 s ahead of GPS
    expect(source.health()).toMatchObject({ state: 'ok', detail: '3d fix' });
    // The repeated TPV of the same cycle is not passed on twice.
    now += 100;
    gpsd.send(tpvLine());
    await sleep(50);
    expect(fixes).toHaveLength(1);
    expect(source.fixAgeMs()).toBe(0);
  });

  it('survives garbage, truncated JSON and an overlong line, and keeps serving fixes', async () => {
    const gpsd = await startGpsd();
    const { source, fixes, log } = client(gpsd.port);
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.write('\u0000\u00ff\u00fegarbage\n$GPGGA,,,,,,0,00,99.99,,,,,,*48\n{"class":"TPV","mode":3,"lat":47.6\n');
    gpsd.write(`{"class":"TPV","mode":1,"pad":"${'x'.repeat(8000)}`); // no newline for 8000 chars
    gpsd.write('","end":1}\n'); // the rest of the overlong line is dropped, not parsed
    gpsd.send('{"class":"TPV","mode":"3"}', '{"class":"ERROR","message":"Unrecognized request"}');
    gpsd.send(tpvLine({ time: '2026-11-27T08:00:01.000Z' }));
    await waitFor(() => fixes.length === 1, { what: 'fix after garbage' });
    expect(source.stats().linesRejected).toBe(5);
    expect(source.stats().connects).toBe(1);
    expect(log.messages('warn')).toContain('gpsd line rejected');
    expect(log.messages('warn')).toContain('gpsd reported an error');
    // Every rejection is logged with its reason and length, never the raw line.
    const rejected = log.lines.filter((l) => l.msg === 'gpsd line rejected');
    const reasons = rejected.map((l) => String(l.fields.reason));
    expect(reasons).toEqual(expect.arrayContaining(['not a JSON object (NMEA or noise?)', 'invalid JSON (truncated line?)', 'TPV mode: Invalid input']));
    // Depending on how TCP splits the writes, the overlong line is caught before or after its newline.
    expect(reasons.some((r) => /no newline within 6144 chars|exceeds gpsd's 1536-char cap/.test(r))).toBe(true);
  });

  it('waits for gpsd that is absent at start, backing off, then connects when it appears', async () => {
    const port = await freePort();
    const { source, health, log } = client(port);
    await source.start();
    await waitFor(() => health.find((h) => h.state === 'missing' && h.reason.includes('ECONNREFUSED')), { what: 'missing health' });
    expect(log.messages('warn')[0]).toMatch(/gpsd refused connection on 127\.0\.0\.1:\d+ \(is gpsd running/);
    await sleep(300);
    const gpsd = await startGpsd({ port });
    await waitFor(() => source.isConnected(), { what: 'late connect' });
    expect(gpsd.watchCount()).toBe(1);
    expect(source.health()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('no fix') });
  });

  it('reconnects after gpsd restarts and re-sends ?WATCH', async () => {
    const gpsd = await startGpsd();
    const port = gpsd.port;
    const { source, fixes, health } = client(port);
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.send(tpvLine());
    await waitFor(() => fixes.length === 1);
    await gpsd.stop();
    await waitFor(() => health.at(-1)?.state === 'missing', { what: 'missing after gpsd exit' });
    expect(source.latest()).toEqual(fixes[0]); // the last fix survives, with its age
    const again = await startGpsd({ port });
    await waitFor(() => again.watchCount() === 1 && source.isConnected(), { what: 're-watch' });
    again.send(tpvLine({ time: '2026-11-27T08:00:05.000Z', lat: 47.6063 }));
    await waitFor(() => fixes.length === 2, { what: 'fix after restart' });
    expect(source.stats().connects).toBe(2);
  });

  it('reconnects when a gpsd with a receiver goes silent, showing it as silent rather than missing', async () => {
    const gpsd = await startGpsd();
    const { source, log, health } = client(gpsd.port);
    await source.start();
    await waitFor(() => source.isConnected());
    await waitFor(() => gpsd.connections === 2, { what: 'reconnect after silence', timeoutMs: 3000 });
    // Measured where the connections arrive, so a test runner slow to poll cannot shorten it.
    expect(gpsd.connectedAt[1]! - gpsd.connectedAt[0]!).toBeGreaterThanOrEqual(350);
    expect(log.messages('warn')).toContain('gpsd silent; reconnecting');
    expect(gpsd.watchCount()).toBe(2);
    const afterSilence = health.slice(health.findIndex((h) => h.state === 'degraded' && h.reason.includes('sends nothing')));
    expect(afterSilence.length).toBeGreaterThan(0);
    expect(afterSilence.map((h) => h.state)).not.toContain('missing');
  });

  it('without a receiver, probes with ?DEVICES instead of dropping a quiet but healthy gpsd', async () => {
    const empty = '{"class":"DEVICES","devices":[]}';
    const gpsd = await startGpsd({ onWatch: [empty, WATCH_LINE], onDevices: [empty] });
    const { source } = client(gpsd.port);
    await source.start();
    // Connected on VERSION; the empty DEVICES answer to ?WATCH follows.
    await waitFor(() => source.isConnected() && source.health().state === 'missing', { what: 'no receiver' });
    expect(source.health()).toMatchObject({ state: 'missing', reason: expect.stringContaining('no GPS receiver attached') });
    await sleep(1300);
    expect(gpsd.connections).toBe(1);
    expect(gpsd.commands.filter((c) => c === '?DEVICES;').length).toBeGreaterThanOrEqual(2);
  });

  it('reports the receiver unplugged (DEVICE activated 0) as missing, and recovers when it returns', async () => {
    const gpsd = await startGpsd();
    const { source, fixes, health } = client(gpsd.port);
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.send(tpvLine());
    await waitFor(() => source.health().state === 'ok');
    gpsd.send(`{"class":"DEVICE","path":"${DEVICE_PATH}","activated":0}`);
    await waitFor(() => health.at(-1)?.state === 'missing', { what: 'missing on unplug' });
    expect(health.at(-1)).toMatchObject({ reason: expect.stringContaining('no GPS receiver attached to gpsd') });
    // Plugged back in far away: not judged as a jump from the old position.
    gpsd.send(`{"class":"DEVICE","path":"${DEVICE_PATH}","activated":"2026-11-27T08:05:00.000Z"}`);
    gpsd.send(tpvLine({ lat: 48.6, time: '2026-11-27T08:05:01.000Z' }));
    await waitFor(() => fixes.length === 2 && source.health().state === 'ok', { what: 'recovered' });
  });

  it('marks the last fix stale with its age when fixes stop', async () => {
    const gpsd = await startGpsd();
    let now = 1_800_000_000_000;
    // A long silence timeout: this test is about fixes stopping while gpsd keeps the link alive.
    const { source, health } = client(gpsd.port, { clock: { now: () => now }, staleAfterMs: 2000, silenceTimeoutMs: 10_000 });
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.send(tpvLine());
    await waitFor(() => source.health().state === 'ok');
    now += 42_000;
    await waitFor(() => health.at(-1)?.state === 'degraded', { what: 'stale', timeoutMs: 3000 });
    expect(source.isStale()).toBe(true);
    expect(source.fixAgeMs()).toBe(42_000);
    expect(source.health()).toMatchObject({ state: 'degraded', reason: 'stale fix: last fix 42 s old' });
    gpsd.send('{"class":"TPV","device":"/dev/ttyGPS0","mode":1}');
    await waitFor(() => source.health().state === 'degraded' && (source.health() as { reason: string }).reason.startsWith('no fix (gpsd mode 1); last fix 42 s old'));
  });

  it('drops implausible fixes (junk speed, teleport, no position) and says why', async () => {
    const gpsd = await startGpsd();
    const { source, fixes, log } = client(gpsd.port);
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.send(
      tpvLine({ time: '2026-11-27T08:00:00.000Z' }),
      tpvLine({ time: '2026-11-27T08:00:01.000Z', speed: 93.281 }),
      tpvLine({ time: '2026-11-27T08:00:02.000Z', lat: 47.7 }), // 10 km in 2 s
      tpvLine({ time: '2026-11-27T08:00:03.000Z', lat: undefined, lon: undefined }),
      tpvLine({ time: '2026-11-27T08:00:04.000Z', lat: 47.6063 }),
    );
    await waitFor(() => fixes.length === 2, { what: 'two plausible fixes' });
    expect(source.stats().fixesRejected).toBe(3);
    const reasons = log.lines.filter((l) => l.msg === 'GPS fix rejected as implausible').map((l) => l.fields.reason);
    expect(reasons).toEqual(['speed 93.3 m/s exceeds 70 m/s', expect.stringMatching(/^jump of 1043\d m in 2\.0 s$/)]);
  });

  it('refuses a gpsd speaking another protocol major version', async () => {
    const gpsd = await startGpsd({ greeting: '{"class":"VERSION","release":"9.0","proto_major":9,"proto_minor":0}' });
    const { source, health, log } = client(gpsd.port);
    await source.start();
    await waitFor(() => health.find((h) => h.state === 'missing' && h.reason.includes('protocol 9.0 unsupported')), { what: 'incompatible' });
    expect(log.messages('error')).toContain('gpsd speaks an unsupported protocol version; upgrade or replace gpsd');
    expect(source.isConnected()).toBe(false);
  });

  it('replays a recorded quectel-eg25-g session without passing its junk speeds on', async () => {
    const gpsd = await startGpsd({ onWatch: [] });
    const { source, fixes } = client(gpsd.port, { silenceTimeoutMs: 5000 });
    await source.start();
    await waitFor(() => gpsd.clientCount() === 1 && gpsd.watchCount() === 1);
    const recorded = readFileSync(new URL('./fixtures/quectel-eg25-g.gpsd.jsonl', import.meta.url), 'utf8');
    gpsd.write(recorded.split('\n').slice(1).join('\n')); // VERSION already sent by the fake
    // 76 TPVs with a fix, 26 distinct (gpsd repeats a cycle's fix per sentence); the recording
    // ends with the device's removal.
    await waitFor(() => source.health().state === 'missing', { what: 'end of the replay' });
    expect(fixes.length).toBe(source.stats().fixesAccepted);
    expect(fixes.length).toBeGreaterThanOrEqual(20);
    expect(Math.max(...fixes.map((f) => f.speed ?? 0))).toBeLessThanOrEqual(70);
    expect(source.stats().fixesRejected).toBeGreaterThanOrEqual(2); // the 93.3 and 72.9 m/s reports
  });

  it('keeps running when a fix listener throws', async () => {
    const gpsd = await startGpsd();
    const { source, fixes, log } = client(gpsd.port);
    source.prependListener('fix', () => {
      throw new Error('consumer bug');
    });
    await source.start();
    await waitFor(() => source.isConnected());
    gpsd.send(tpvLine(), tpvLine({ time: '2026-11-27T08:00:01.000Z', lat: 47.6063 }));
    await waitFor(() => source.stats().fixesAccepted === 2);
    expect(fixes).toHaveLength(2); // the listeners after the throwing one still got each fix
    expect(log.messages('error')).toContain('hardware event listener threw; adapter continues');
    expect(source.isConnected()).toBe(true);
  });

  it('stop() closes the socket and stops reconnecting', async () => {
    const gpsd = await startGpsd();
    const { source } = client(gpsd.port);
    await source.start();
    await waitFor(() => gpsd.clientCount() === 1);
    await source.stop();
    await waitFor(() => gpsd.clientCount() === 0, { what: 'client closed' });
    await sleep(300);
    expect(gpsd.connections).toBe(1);
    expect(source.health()).toMatchObject({ state: 'missing', reason: 'stopped' });
  });
});
