// SerialInputs over a real pseudo-terminal pair (socat) with the interface-module simulator on
// the far end: levels, debounce, garbage, heartbeat loss, and the port vanishing.
import { afterEach, describe, expect, it } from 'vitest';
import { InputModuleSimulator } from '../../../hardware/input-module-simulator.js';
import { withChecksum } from '../../../hardware/inputs-protocol.js';
import { SerialInputs, type SerialInputsOptions } from '../../../hardware/inputs-serial.js';
import type { DeviceHealth, InputEvent } from '../../../hardware/types.js';
import { type PtyPair, createPtyPair } from '../../helpers/socat-pty.js';
import { sleep, waitFor } from '../../helpers/wait-for.js';
import { captureLog } from '../../unit/hardware/capture-log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(options: Partial<SerialInputsOptions> = {}, heartbeatMs = 100) {
  const pair: PtyPair = await createPtyPair('vim');
  cleanups.push(() => pair.close());
  const module = new InputModuleSimulator(pair.simulatorPath, { heartbeatMs });
  await module.open();
  cleanups.push(() => module.close());
  const log = captureLog();
  const inputs = new SerialInputs({
    path: pair.devicePath,
    debounceMs: 30,
    heartbeatTimeoutMs: 400,
    reopen: { minMs: 50, maxMs: 300 },
    log,
    ...options,
  });
  const events: InputEvent[] = [];
  const health: DeviceHealth[] = [];
  inputs.on('input', (e) => events.push(e));
  inputs.on('health', (h) => health.push(h));
  cleanups.push(() => inputs.stop());
  return { pair, module, inputs, log, events, health };
}

describe('SerialInputs over a pty', () => {
  it('queries the module on open and reports every level, then changes with timestamps', async () => {
    const { module, inputs, events } = await rig();
    await inputs.start();
    await waitFor(() => Object.keys(inputs.state()).length === 3, { what: 'initial levels' });
    expect(module.received).toContain('?');
    expect(inputs.state()).toEqual({ emergency: false, ignition: true, lights: false });
    expect(inputs.health()).toMatchObject({ state: 'ok', detail: 'SIM-VIM fw1.0' });
    expect(inputs.moduleIdentity()).toBe('SIM-VIM fw1.0');

    let emittedAt = 0;
    inputs.on('input', (e) => e.input === 'emergency' && (emittedAt = Date.now()));
    const before = Date.now();
    module.set('emergency', true);
    await waitFor(() => events.some((e) => e.input === 'emergency' && e.active), { what: 'emergency event' });
    const ev = events.find((e) => e.input === 'emergency' && e.active)!;
    // Stamped when the line arrived, not when the 30 ms debounce ended.
    expect(ev.at).toBeGreaterThanOrEqual(before);
    expect(emittedAt - ev.at).toBeGreaterThanOrEqual(29);
    expect(inputs.state().emergency).toBe(true);
  });

  it('asks again until the module answers its query (a query sent before the module listened is lost)', async () => {
    const { module, inputs } = await rig({ heartbeatTimeoutMs: 5000 });
    module.silent = true;
    await inputs.start();
    await waitFor(() => module.received.includes('?'), { what: 'first query' });
    module.silent = false;
    await waitFor(() => Object.keys(inputs.state()).length === 3, { what: 'levels after a repeated query', timeoutMs: 5000 });
    expect(module.received.filter((c) => c === '?').length).toBeGreaterThanOrEqual(2);
  });

  it('debounces a chattering contact', async () => {
    const { module, inputs, events } = await rig({ debounceMs: 80 });
    await inputs.start();
    await waitFor(() => inputs.state().lights === false);
    const initial = events.length;
    // Six edges in one burst (as a bouncing relay produces them): they arrive within
    // microseconds of each other, whatever the machine's load, so none can outlast the debounce.
    const edge = (level: 0 | 1): string => `${withChecksum(`IN LIGHTS ${level}`)}\r\n`;
    module.sendRaw([1, 0, 1, 0, 1, 0].map((l) => edge(l as 0 | 1)).join(''));
    await sleep(200);
    expect(events.length).toBe(initial); // never held long enough: no change
    module.set('lights', true);
    await waitFor(() => inputs.state().lights === true, { what: 'held level' });
    expect(events.slice(initial)).toEqual([expect.objectContaining({ input: 'lights', active: true })]);
  });

  it('ignores garbage, bad checksums and unknown inputs, logging why', async () => {
    // A long heartbeat timeout: this test is about bad lines, not a loaded machine's timers.
    const { module, inputs, events, log } = await rig({ heartbeatTimeoutMs: 5000 });
    await inputs.start();
    // Wait for every initial level: ok health can come from a heartbeat before the query's answer.
    await waitFor(() => inputs.health().state === 'ok' && Object.keys(inputs.state()).length === 3, { what: 'initial levels' });
    const initial = events.length;
    module.sendRaw('\u0000\u00ff\u00fe\r\nIN EMERG 1*00\r\nIN SIREN 1\r\nhello\r\nIN EMERG 7\r\n');
    module.sendRaw(`${'#'.repeat(300)}\r\n`);
    await waitFor(() => log.lines.filter((l) => l.msg === 'input module line ignored').length >= 6, { what: 'rejections' });
    await sleep(80);
    expect(events.length).toBe(initial);
    expect(inputs.state().emergency).toBe(false);
    const reasons = log.lines.filter((l) => l.msg === 'input module line ignored').map((l) => String(l.fields.reason));
    expect(reasons).toEqual(expect.arrayContaining(['unknown input SIREN', 'unknown verb HELLO', 'level must be 0 or 1']));
    expect(reasons.some((r) => r.startsWith('checksum 00 does not match'))).toBe(true);
    expect(inputs.health().state).toBe('ok');
  });

  it('degrades when heartbeats stop and recovers when they resume', async () => {
    const { module, inputs, health } = await rig();
    await inputs.start();
    await waitFor(() => inputs.health().state === 'ok');
    module.silent = true;
    await waitFor(() => health.at(-1)?.state === 'degraded', { what: 'silent', timeoutMs: 3000 });
    expect(health.at(-1)).toMatchObject({ reason: 'input module silent for 0.4 s (check its power and cable)' });
    module.silent = false;
    await waitFor(() => inputs.health().state === 'ok', { what: 'heartbeat back' });
  });

  it('goes missing when the port vanishes and reopens when it returns, re-reading the levels', async () => {
    const { pair, inputs, health } = await rig();
    await inputs.start();
    await waitFor(() => inputs.health().state === 'ok');
    await pair.unplug();
    await waitFor(() => health.at(-1)?.state === 'missing', { what: 'missing', timeoutMs: 3000 });
    await pair.plug();
    const again = new InputModuleSimulator(pair.simulatorPath, { heartbeatMs: 100 });
    again.levels.ignition = false;
    await again.open();
    cleanups.push(() => again.close());
    await waitFor(() => inputs.health().state === 'ok' && inputs.state().ignition === false, { what: 'back', timeoutMs: 5000 });
  });
});
