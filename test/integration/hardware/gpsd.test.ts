// GpsdSource against the REAL gpsd 3.22, fed recorded NMEA from test/fixtures/nmea/ through a
// loopback TCP feeder (recipe C in docs/hardware.md), plus one run through gpsfake's server mode.
import { afterEach, describe, expect, it } from 'vitest';
import { distanceM } from '../../../hardware/geo.js';
import { GpsdSource, type GpsdSourceOptions } from '../../../hardware/gpsd-client.js';
import type { DeviceHealth, GpsFix } from '../../../hardware/types.js';
import { type GpsdProcess, type NmeaFeeder, nmeaFixture, startGpsd, startGpsfake, startNmeaFeeder } from '../../helpers/gpsd.js';
import { waitFor } from '../../helpers/wait-for.js';
import { captureLog } from '../../unit/hardware/capture-log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function feeder(log: string, intervalMs = 10, loop = false): Promise<NmeaFeeder> {
  const f = await startNmeaFeeder(nmeaFixture(log), { intervalMs, loop });
  cleanups.push(() => f.close());
  return f;
}

async function gpsdOn(feed: NmeaFeeder, port?: number): Promise<GpsdProcess> {
  const g = await startGpsd(`tcp://127.0.0.1:${feed.port}`, { port });
  cleanups.push(() => g.stop());
  return g;
}

function watch(port: number, extra: GpsdSourceOptions = {}) {
  const log = captureLog();
  const source = new GpsdSource({ port, log, backoff: { minMs: 50, maxMs: 500 }, ...extra });
  const fixes: GpsFix[] = [];
  const health: DeviceHealth[] = [];
  source.on('fix', (f) => fixes.push(f));
  source.on('health', (h) => health.push(h));
  cleanups.push(() => source.stop());
  return { source, log, fixes, health };
}

describe('GpsdSource with real gpsd', () => {
  it('bt451.log: follows a moving car, with speeds and positions that agree', async () => {
    const gpsd = await gpsdOn(await feeder('bt451.log'));
    const { source, fixes, health, log } = watch(gpsd.port);
    await source.start();
    await waitFor(() => fixes.filter((f) => f.speed! > 1).length >= 3, { what: 'bt451 driving fixes', timeoutMs: 15_000 });
    expect(health.map((h) => h.state)).toContain('ok');
    // The capture starts parked (< 0.2 m/s), then drives south-west at about 16 m/s.
    const driving = fixes.filter((f) => f.speed! > 1);
    expect(driving.length).toBeGreaterThanOrEqual(3);
    for (const f of fixes) {
      expect(f.mode).toBe('3d');
      expect(f.satellitesUsed).toBeGreaterThan(0);
    }
    for (const f of driving) {
      expect(f.speed!).toBeGreaterThan(14);
      expect(f.speed!).toBeLessThan(18);
      expect(f.track!).toBeGreaterThan(215);
      expect(f.track!).toBeLessThan(225);
    }
    // gpsd shifts this 2009 capture's dates by 1024 weeks, so compare differences only. The
    // capture splices a parked segment before a drive an hour earlier, and gpsd dates the drive's
    // first fix a day late; the filter rejects the next two (time ran backwards) and then resets.
    let checkedPairs = 0;
    for (let i = 1; i < fixes.length; i++) {
      const a = fixes[i - 1]!;
      const b = fixes[i]!;
      const dtS = (b.fixTime - a.fixTime) / 1000;
      if (Math.abs(dtS) > 5) continue; // across the splice or the reset
      expect(dtS).toBeGreaterThan(0);
      checkedPairs++;
      const impliedSpeed = distanceM([a.lon, a.lat], [b.lon, b.lat]) / dtS;
      expect(Math.abs(impliedSpeed - b.speed!)).toBeLessThan(3);
    }
    expect(checkedPairs).toBeGreaterThanOrEqual(3);
    const last = fixes.at(-1)!;
    expect(source.clockOffsetMs()).toBe(last.fixTime - last.receivedAt);
    // Only the cold-start fix (eph 1900 m) and the wrong-day fix's neighbours are dropped.
    const reasons = log.lines.filter((l) => l.msg === 'GPS fix rejected as implausible').map((l) => String(l.fields.reason));
    for (const r of reasons) expect(r).toMatch(/^horizontal error \d+ m exceeds 250 m$|earlier than the previous fix$/);
  });

  it('geos-1m.log: reports no fix first (degraded), then a fix (ok)', async () => {
    const gpsd = await gpsdOn(await feeder('geos-1m.log', 20));
    const { source, fixes, health } = watch(gpsd.port);
    await source.start();
    await waitFor(() => fixes.length >= 3, { what: 'geos fixes', timeoutMs: 15_000 });
    const states = health.map((h) => (h.state === 'ok' ? 'ok' : h.reason.split(' (')[0]));
    const noFix = states.indexOf('no fix');
    expect(noFix).toBeGreaterThanOrEqual(0);
    expect(states.indexOf('ok')).toBeGreaterThan(noFix);
  });

  it('firefly-II.log: bad GGA checksums leave 2D fixes only, and nothing crashes', async () => {
    const gpsd = await gpsdOn(await feeder('firefly-II.log'));
    const { source, fixes } = watch(gpsd.port);
    await source.start();
    await waitFor(() => fixes.length >= 5, { what: 'firefly fixes', timeoutMs: 15_000 });
    expect(new Set(fixes.map((f) => f.mode))).toEqual(new Set(['2d']));
    expect(source.health()).toMatchObject({ state: 'ok', detail: '2d fix' });
  });

  it('quectel-eg25-g.log: a stationary modem\'s junk speeds never reach the daemon', async () => {
    const feed = await feeder('quectel-eg25-g.log', 4);
    const gpsd = await gpsdOn(feed);
    const { source, fixes, log } = watch(gpsd.port);
    await source.start();
    const speedRejections = (): string[] =>
      log.lines.filter((l) => l.msg === 'GPS fix rejected as implausible').map((l) => String(l.fields.reason)).filter((r) => r.startsWith('speed'));
    // The junk comes 26 s into the capture; gpsd also dates the first fix years off, which the
    // filter rejects as time running backwards once the right date arrives.
    await waitFor(() => speedRejections().length >= 2, { what: 'junk speeds rejected', timeoutMs: 20_000 });
    expect(speedRejections()).toContainEqual(expect.stringMatching(/^speed 9\d\.\d m\/s exceeds 70 m\/s$/));
    expect(fixes.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...fixes.map((f) => f.speed ?? 0))).toBeLessThanOrEqual(70);
  });

  it('rides out a gpsd restart and a receiver unplug', async () => {
    const feed = await feeder('bt451.log', 5, true);
    const first = await gpsdOn(feed);
    const { source, fixes, health } = watch(first.port);
    await source.start();
    await waitFor(() => fixes.length >= 2, { what: 'first fixes', timeoutMs: 15_000 });

    await first.stop();
    await waitFor(() => health.at(-1)?.state === 'missing', { what: 'missing after gpsd stop' });
    const before = fixes.length;
    const second = await gpsdOn(feed, first.port);
    await waitFor(() => fixes.length > before + 2, { what: 'fixes after gpsd restart', timeoutMs: 15_000 });
    expect(source.stats().connects).toBeGreaterThanOrEqual(2);

    // Unplugging a USB receiver makes udev's hotplug script tell gpsd `-PATH` on its control
    // socket; gpsd then announces DEVICE with activated 0.
    const path = `tcp://127.0.0.1:${feed.port}`;
    expect(await second.control(`-${path}`)).toBe('OK');
    await waitFor(() => health.find((h) => h.state === 'missing' && h.reason.includes('no GPS receiver attached')), {
      what: 'receiver missing',
      timeoutMs: 10_000,
    });
    const unplugged = fixes.length;
    expect(await second.control(`+${path}`)).toBe('OK');
    await waitFor(() => fixes.length > unplugged && source.health().state === 'ok', { what: 'receiver back', timeoutMs: 15_000 });
  });

  it('a feed that stops without gpsd noticing: the fix goes stale with its age, the link is re-checked', async () => {
    const feed = await feeder('bt451.log', 10, true);
    const gpsd = await gpsdOn(feed);
    const { source, fixes, health, log } = watch(gpsd.port, { staleAfterMs: 1000, silenceTimeoutMs: 1500 });
    await source.start();
    await waitFor(() => fixes.length >= 2, { what: 'fixes', timeoutMs: 15_000 });
    // gpsd 3.22 does not notice a tcp:// or pty source going quiet; it simply stops reporting.
    await feed.close();
    await waitFor(() => health.find((h) => h.state === 'degraded' && h.reason.startsWith('stale fix')), { what: 'stale', timeoutMs: 10_000 });
    await waitFor(() => log.messages('warn').includes('gpsd silent; reconnecting'), { what: 'silence detected', timeoutMs: 10_000 });
    expect(source.fixAgeMs()!).toBeGreaterThanOrEqual(1000);
  });
});

describe('GpsdSource with gpsfake -P (server mode)', () => {
  it('reads a cycling bt451.log and reports a time offset the selftest can judge', async () => {
    const gpsfake = await startGpsfake(nmeaFixture('bt451.log'), { cycleS: 0.02 });
    cleanups.push(() => gpsfake.stop());
    const { source, fixes } = watch(gpsfake.port);
    await source.start();
    await waitFor(() => fixes.length >= 3 && source.clockOffsetMs() !== undefined, { what: 'gpsfake fixes with time', timeoutMs: 20_000 });
    expect(source.health().state).toBe('ok');
    // 2009 capture shifted 1024 weeks: GPS time is years away from the system clock.
    expect(Math.abs(source.clockOffsetMs()!)).toBeGreaterThan(24 * 3600 * 1000);
  });
});
