// `mdt selftest` as a technician runs it after provisioning: real gpsd reading a live NMEA feed
// (sentences stamped with the current time, so the clock check is real), the simulated modem and
// inputs, the home precinct's broker with the car's credentials, and a neighbour's broker that
// does not know the car (a warning, not a failure). Then the failures a technician must see:
// gpsd gone, the car revoked.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { startGpsd, type GpsdProcess } from '../../helpers/gpsd.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import { mdt } from './cli.js';

function nmea(body: string): string {
  let sum = 0;
  for (const ch of body) sum ^= ch.charCodeAt(0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

/** A receiver with a 3D fix in beat B1 (Ballard, Seattle), stamping each burst with the time now. */
async function startLiveReceiver(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const timer = setInterval(() => {
      const d = new Date();
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      const hms = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(Math.floor(d.getUTCMilliseconds() / 10))}`;
      const date = `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
      socket.write(nmea(`GPGGA,${hms},4740.2000,N,12222.8000,W,1,08,0.9,50.0,M,-17.0,M,,`));
      socket.write(nmea(`GPGSA,A,3,01,03,06,09,12,17,19,22,,,,,1.6,0.9,1.3`));
      socket.write(nmea(`GPRMC,${hms},A,4740.2000,N,12222.8000,W,0.0,0.0,${date},,,A`));
    }, 200);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('mdt selftest', () => {
  let fleet: Fleet;
  let home: RunningPrecinct;
  let neighbour: RunningPrecinct;
  let receiver: Awaited<ReturnType<typeof startLiveReceiver>>;
  let gpsd: GpsdProcess;
  let dir: string;
  let config: string;
  let tokenFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-selftest-'));
    fleet = await createFleet();
    home = await fleet.addPrecinct({ id: 'N', sectors: ['B'] });
    neighbour = await fleet.addPrecinct({ id: 'W', sectors: ['Q'] });
    receiver = await startLiveReceiver();
    gpsd = await startGpsd(`tcp://127.0.0.1:${receiver.port}`);
    tokenFile = join(dir, 'fleet.token');
    await writeFile(tokenFile, await home.operators.add('tech-1', 'fleet'), { mode: 0o600 });
    const hardware = join(dir, 'hardware.json');
    await writeFile(hardware, JSON.stringify({ gps: { kind: 'gpsd', host: '127.0.0.1', port: gpsd.port }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } }));
    config = join(dir, 'etc', 'vehicle.json');
    const p = await mdt([
      'provision', '--config', config, '--vehicle', 'V1001', '--unit', 'NB11', '--beat', 'B1',
      '--broker', `N=${home.brokerUrl}`, '--broker', `W=${neighbour.brokerUrl}`,
      '--precinct-api', home.apiUrl, '--token-file', tokenFile, '--hardware', hardware, '--state-dir', join(dir, 'state'),
    ]);
    expect(p.stderr).toBe('');
  });
  afterAll(async () => {
    await gpsd?.stop();
    await receiver?.close();
    await fleet?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes with real gpsd, the modem, the inputs and the home broker; the neighbour is a warning', async () => {
    const r = await mdt(['selftest', '--config', config, '--timeout', '15']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const row = (check: string) => r.stdout.split('\n').find((l) => l.startsWith(check)) ?? `(no row ${check})\n${r.stdout}`;
    expect(row('CHECK')).toMatch(/^CHECK +RESULT +DETAIL$/);
    expect(row('config ')).toMatch(/PASS +.*vehicle V1001, unit NB11, beat B1, sector B, precinct N/);
    expect(row('credentials')).toMatch(/PASS +broker secret readable from .*broker-password/);
    expect(row('gps: gpsd reachable')).toMatch(/PASS +gpsd at 127\.0\.0\.1:\d+/);
    expect(row('gps: fix')).toMatch(/PASS +3d fix, .*47\.67000,-122\.38000/);
    expect(row('gps: time')).toMatch(/PASS +system clock within/);
    expect(row('modem: registration')).toMatch(/PASS/);
    expect(row('inputs: responding')).toMatch(/PASS/);
    expect(row(`broker ${home.brokerUrl} (home)`)).toMatch(/PASS +connected as V1001 in \d+ ms; sector B subscription granted/);
    expect(row(`broker ${neighbour.brokerUrl} (W)`)).toMatch(/WARN +.*Bad username or password.*not registered at this precinct/);
    expect(r.stdout).toMatch(/\n\nselftest PASSED for vehicle V1001: \d+ checks, 1 warning\(s\)$/m);
  });

  it('fails, naming what to look at, when gpsd is gone', async () => {
    await gpsd.stop();
    const r = await mdt(['selftest', '--config', config, '--timeout', '2', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; rows: Array<{ check: string; status: string; detail: string }> };
    expect(report.ok).toBe(false);
    expect(report.rows.find((x) => x.check === 'gps: gpsd reachable')).toMatchObject({ status: 'fail', detail: expect.stringContaining('is gpsd running and listening on 127.0.0.1:') });
    expect(report.rows.find((x) => x.check.endsWith('(home)'))).toMatchObject({ status: 'pass' });
  });

  it('fails on the home broker once the car is revoked', async () => {
    const revoke = await mdt(['precinct-admin', 'revoke', 'V1001', '--api', home.apiUrl, '--token-file', tokenFile]);
    expect(revoke.code).toBe(0);
    const r = await mdt(['selftest', '--config', config, '--timeout', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^broker ${home.brokerUrl.replace(/[.]/g, '\\.')} \\(home\\) +FAIL +Connection refused: Bad username or password \\(not registered at this precinct, revoked`, 'm'));
    expect(r.stdout).toMatch(/^selftest FAILED for vehicle V1001: .*broker mqtt:\/\/.*\(home\)/m);
  });
});
