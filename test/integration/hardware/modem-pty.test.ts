// AtPort and AtModemSource over a real pseudo-terminal pair (socat), with the AT modem
// simulator on the far end: answers, ERROR, +CME ERROR, silence, and the port vanishing.
import { afterEach, describe, expect, it } from 'vitest';
import { AtModemSimulator } from '../../../hardware/at-modem-simulator.js';
import { AtPort } from '../../../hardware/at-port.js';
import { AtModemSource } from '../../../hardware/modem-source.js';
import type { DeviceHealth, ModemStatus } from '../../../hardware/types.js';
import { type PtyPair, createPtyPair } from '../../helpers/socat-pty.js';
import { waitFor } from '../../helpers/wait-for.js';
import { captureLog } from '../../unit/hardware/capture-log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pty(): Promise<PtyPair> {
  const pair = await createPtyPair('modem');
  cleanups.push(() => pair.close());
  return pair;
}

async function simulator(path: string): Promise<AtModemSimulator> {
  const sim = new AtModemSimulator(path);
  await sim.open();
  cleanups.push(() => sim.close());
  return sim;
}

describe('AtPort over a pty', () => {
  it('exchanges commands one at a time, with OK, ERROR, +CME ERROR, timeouts and URCs', async () => {
    const pair = await pty();
    const sim = await simulator(pair.simulatorPath);
    const at = new AtPort({ path: pair.devicePath, timeoutMs: 300 });
    cleanups.push(() => at.close());
    const urcs: string[] = [];
    at.on('urc', (l) => urcs.push(l));
    await at.open();

    // Echo is on at power-up; the echoed command is not mistaken for a response.
    expect(await at.send('AT+CSQ')).toEqual({ status: 'ok', lines: ['+CSQ: 23,99'] });
    // Queued commands do not overlap.
    const [a, b, c] = await Promise.all([at.send('ATE0'), at.send('AT+COPS?'), at.send('ATI')]);
    expect(a).toEqual({ status: 'ok', lines: [] });
    expect(b).toEqual({ status: 'ok', lines: ['+COPS: 0,0,"FirstNet",7'] });
    expect(c).toEqual({ status: 'ok', lines: ['Quectel', 'EG25', 'Revision: EG25GGBR07A08M2G'] });

    expect(await at.send('AT+FOO')).toEqual({ status: 'error', lines: [], final: 'ERROR' });
    await at.send('AT+CMEE=1');
    sim.brain.failures.set('AT+CSQ', { cme: 10, text: 'SIM not inserted' });
    expect(await at.send('AT+CSQ')).toEqual({ status: 'error', lines: [], final: '+CME ERROR: 10', cmeError: '10' });

    sim.urc('+CEREG: 2');
    await waitFor(() => urcs.includes('+CEREG: 2'), { what: 'URC' });

    sim.brain.state.silent = true;
    const t0 = Date.now();
    expect(await at.send('AT+CREG?')).toEqual({ status: 'timeout', lines: [] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    sim.brain.state.silent = false;
    expect((await at.send('AT')).status).toBe('ok');
  });

  it('never hangs a command when the port vanishes, and open() fails while the device is absent', async () => {
    const pair = await pty();
    await simulator(pair.simulatorPath);
    const at = new AtPort({ path: pair.devicePath, timeoutMs: 300 });
    cleanups.push(() => at.close());
    const closes: boolean[] = [];
    at.on('close', (e) => closes.push(e.disconnected));
    await at.open();
    await pair.unplug();
    // Usually the kernel hangs up the pty and serialport reports a disconnect; under load it may
    // not (AtModemSource then notices the missing device node). Either way nothing hangs.
    const result = await at.send('AT');
    expect(['closed', 'timeout']).toContain(result.status);
    if (closes.length > 0) expect(closes).toEqual([true]);
    await expect(new AtPort({ path: pair.devicePath }).open()).rejects.toThrow(/ENOENT|No such file/);
  });
});

describe('AtModemSource over a pty', () => {
  function source(path: string, pollMs = 200) {
    const log = captureLog();
    const modem = new AtModemSource({ path, pollMs, commandTimeoutMs: 250, reopen: { minMs: 50, maxMs: 300 }, log });
    const statuses: ModemStatus[] = [];
    const health: DeviceHealth[] = [];
    modem.on('status', (s) => statuses.push(s));
    modem.on('health', (h) => health.push(h));
    cleanups.push(() => modem.stop());
    return { modem, log, statuses, health };
  }

  it('reports signal, registration, operator and technology', async () => {
    const pair = await pty();
    await simulator(pair.simulatorPath);
    const { modem, statuses } = source(pair.devicePath);
    await modem.start();
    await waitFor(() => statuses.length >= 1, { what: 'status' });
    expect(statuses[0]).toMatchObject({ rssiDbm: -67, bars: 5, registration: 'home', operator: 'FirstNet', tech: 'LTE' });
    expect(modem.health()).toMatchObject({ state: 'ok', detail: 'FirstNet, LTE, -67 dBm, home' });
  });

  it('degrades on lost registration, a missing SIM (+CME ERROR) and silence, and recovers', async () => {
    const pair = await pty();
    const sim = await simulator(pair.simulatorPath);
    const { modem, statuses, health, log } = source(pair.devicePath);
    await modem.start();
    await waitFor(() => modem.health().state === 'ok', { what: 'ok' });

    sim.brain.state.ceregStat = 2;
    sim.brain.state.rssi = 99;
    await waitFor(() => statuses.at(-1)?.registration === 'searching', { what: 'searching' });
    expect(statuses.at(-1)).toMatchObject({ bars: 0, registration: 'searching' });
    expect(statuses.at(-1)!.rssiDbm).toBeUndefined();
    expect(modem.health()).toMatchObject({ state: 'degraded', reason: 'not registered: registration searching' });

    for (const cmd of ['AT+CSQ', 'AT+CREG?', 'AT+CEREG?', 'AT+COPS?']) sim.brain.failures.set(cmd, { cme: 10, text: 'SIM not inserted' });
    await waitFor(() => health.find((h) => h.state === 'degraded' && h.reason === 'not registered: SIM not inserted'), { what: 'SIM reason' });
    expect(log.messages('warn')).toContain('modem command failed');
    sim.brain.failures.clear();

    sim.brain.state.silent = true;
    await waitFor(() => health.find((h) => h.state === 'degraded' && h.reason.startsWith('modem not answering AT commands')), {
      what: 'silent',
    });
    sim.brain.state.silent = false;
    sim.brain.state.ceregStat = 5;
    sim.brain.state.rssi = 10;
    await waitFor(() => modem.health().state === 'ok', { what: 'recovered' });
    expect(statuses.at(-1)).toMatchObject({ registration: 'roaming', rssiDbm: -93, bars: 3 });
  });

  it('goes missing when the port vanishes and comes back when it returns', async () => {
    const pair = await pty();
    let sim = await simulator(pair.simulatorPath);
    const { modem, statuses, health } = source(pair.devicePath);
    await modem.start();
    await waitFor(() => modem.health().state === 'ok', { what: 'ok' });

    await sim.close();
    await pair.unplug();
    await waitFor(() => health.at(-1)?.state === 'missing', { what: 'missing' });
    expect(modem.health()).toMatchObject({ reason: expect.stringMatching(/went away|cannot open modem port .* \(ENOENT\)/) });

    const before = statuses.length;
    await pair.plug();
    sim = await simulator(pair.simulatorPath);
    // Reopen backoff is 50..300 ms here; the generous deadline only absorbs a loaded CI machine.
    await waitFor(() => statuses.length > before && modem.health().state === 'ok', { what: 'back', timeoutMs: 10_000 });
  });

  it('starts with the modem absent and picks it up when it appears', async () => {
    const pair = await pty();
    await pair.unplug();
    const { modem, health } = source(pair.devicePath);
    await modem.start();
    await waitFor(() => health.find((h) => h.state === 'missing' && h.reason.startsWith(`cannot open modem port ${pair.devicePath}`)), {
      what: 'missing',
    });
    await pair.plug();
    await simulator(pair.simulatorPath);
    await waitFor(() => modem.health().state === 'ok', { what: 'ok after plug', timeoutMs: 5000 });
  });
});
