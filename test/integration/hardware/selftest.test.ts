// runHardwareSelftest against real components: gpsd (fed a current-time receiver, or gpsfake
// replaying an old capture), the AT modem simulator and the input-module simulator on socat ptys.
import { afterEach, describe, expect, it } from 'vitest';
import { AtModemSimulator } from '../../../hardware/at-modem-simulator.js';
import { parseHardwareConfig } from '../../../hardware/config.js';
import { createHardware } from '../../../hardware/factory.js';
import { InputModuleSimulator } from '../../../hardware/input-module-simulator.js';
import { runHardwareSelftest } from '../../../hardware/selftest.js';
import { freePort } from '../../helpers/free-port.js';
import { nmeaFixture, startGpsd, startGpsfake, startLiveNmeaFeeder } from '../../helpers/gpsd.js';
import { createPtyPair } from '../../helpers/socat-pty.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function later<T extends { close(): Promise<void> } | { stop(): Promise<void> }>(thing: T): Promise<T> {
  cleanups.push(() => ('close' in thing ? thing.close() : thing.stop()));
  return thing;
}

describe('runHardwareSelftest', () => {
  it('passes a healthy car: gpsd with a current fix, a registered modem, a responding input module', async () => {
    const feed = await later(await startLiveNmeaFeeder({ lat: 47.6062, lon: -122.3321, intervalMs: 250 }));
    const gpsd = await later(await startGpsd(`tcp://127.0.0.1:${feed.port}`));
    const modemPty = await later(await createPtyPair('modem'));
    await later(await openModem(modemPty.simulatorPath));
    const vimPty = await later(await createPtyPair('vim'));
    const vim = new InputModuleSimulator(vimPty.simulatorPath, { heartbeatMs: 200 });
    await vim.open();
    cleanups.push(() => vim.close());

    const cfg = parseHardwareConfig({
      gps: { kind: 'gpsd', port: gpsd.port },
      modem: { kind: 'at', path: modemPty.devicePath, pollMs: 1000 },
      inputs: { kind: 'serial', path: vimPty.devicePath },
    });
    const rows = await runHardwareSelftest(createHardware(cfg), { timeoutMs: 8000 });
    expect(rows.map((r) => [r.check, r.ok])).toEqual([
      ['gps: gpsd reachable', true],
      ['gps: fix', true],
      ['gps: time', true],
      ['modem: signal', true],
      ['modem: registration', true],
      ['inputs: responding', true],
    ]);
    // The first good fix of an epoch may be 2D (RMC arrives before GGA/GSA): mode >= 2 passes.
    expect(rows.find((r) => r.check === 'gps: fix')!.detail).toMatch(/^[23]d fix, (8 satellites, )?47\.6062\d,-122\.3321\d$/);
    expect(rows.find((r) => r.check === 'gps: time')!.detail).toMatch(/^system clock within \d+ ms of GPS time$/);
    expect(rows.find((r) => r.check === 'modem: signal')!.detail).toBe('-67 dBm (5 bars)');
    expect(rows.find((r) => r.check === 'modem: registration')!.detail).toBe('home on FirstNet (LTE)');
    expect(rows.find((r) => r.check === 'inputs: responding')!.detail).toBe('SIM-VIM fw1.0: ignition on, lights off, emergency off');
  });

  it('fails each device with a reason a technician can act on', async () => {
    // gpsfake replays a 2009 capture that gpsd dates 2029: a fix, but a clock 3 years "off".
    const gpsfake = await later(await startGpsfake(nmeaFixture('bt451.log'), { cycleS: 0.02 }));
    const modemPty = await later(await createPtyPair('modem'));
    const modem = await later(await openModem(modemPty.simulatorPath));
    modem.brain.state.ceregStat = 3; // registration denied
    modem.brain.state.rssi = 99;
    const vimPty = await later(await createPtyPair('vim'));
    await vimPty.unplug(); // input module not connected

    const cfg = parseHardwareConfig({
      gps: { kind: 'gpsd', port: gpsfake.port },
      modem: { kind: 'at', path: modemPty.devicePath, pollMs: 1000 },
      inputs: { kind: 'serial', path: vimPty.devicePath },
    });
    const rows = await runHardwareSelftest(createHardware(cfg), { timeoutMs: 4000 });
    const byCheck = Object.fromEntries(rows.map((r) => [r.check, r]));
    expect(byCheck['gps: fix']!.ok).toBe(true);
    expect(byCheck['gps: time']).toMatchObject({ ok: false, detail: expect.stringMatching(/^system clock \d+ days behind GPS time \(check NTP\/chrony and the RTC\)$/) });
    expect(byCheck['modem: signal']).toEqual({ check: 'modem: signal', ok: false, detail: 'signal not detectable (antenna connected?)' });
    expect(byCheck['modem: registration']).toEqual({ check: 'modem: registration', ok: false, detail: 'not registered: registration denied' });
    expect(byCheck['inputs: responding']).toMatchObject({ ok: false, detail: expect.stringContaining(`cannot open input module port ${vimPty.devicePath} (`) });
  });

  it('reports gpsd down, and devices the car does not have as not fitted', async () => {
    const cfg = parseHardwareConfig({ gps: { kind: 'gpsd', port: await freePort() } });
    const rows = await runHardwareSelftest(createHardware(cfg), { timeoutMs: 800 });
    expect(rows).toEqual([
      { check: 'gps: gpsd reachable', ok: false, detail: expect.stringMatching(/^gpsd unreachable at 127\.0\.0\.1:\d+ \(ECONNREFUSED\); no fix yet \(is gpsd running/) },
      { check: 'gps: fix', ok: false, detail: 'no gpsd' },
      { check: 'gps: time', ok: false, detail: 'no gpsd' },
      { check: 'modem', ok: true, detail: 'not fitted (hardware.modem.kind is "none")' },
      { check: 'inputs', ok: true, detail: 'not fitted (hardware.inputs.kind is "none")' },
    ]);
  });
});

async function openModem(path: string): Promise<AtModemSimulator> {
  const sim = new AtModemSimulator(path);
  await sim.open();
  return sim;
}
