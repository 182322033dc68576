// Shared contract suites for the hardware ports: every adapter and every simulator must pass the
// same suite, which is what lets the demo's simulators stand in for the real devices
// (the automerge-repo `runStorageAdapterTests` pattern).
import { expect, it } from 'vitest';
import type { GpsFix, GpsSource, InputEvent, ModemSource, ModemStatus, VehicleInputs } from '../../../hardware/types.js';
import { sleep, waitFor } from '../../helpers/wait-for.js';

export interface ContractSetup<T> {
  /** Builds an unstarted source whose device is present and working. */
  create(): Promise<T>;
  /** Makes the device produce a change (an input toggled); only for VehicleInputs. */
  stimulate?(source: T): Promise<void>;
  /** Releases whatever create() set up besides the source. */
  teardown?(): Promise<void>;
  timeoutMs?: number;
}

export function runGpsSourceContract(setup: ContractSetup<GpsSource>): void {
  const timeoutMs = setup.timeoutMs ?? 5000;
  it('GpsSource contract: fixes with position, mode and times; ok health; stop ends events', async () => {
    const gps = await setup.create();
    try {
      const fixes: GpsFix[] = [];
      gps.on('fix', (f) => fixes.push(f));
      gps.prependListener('fix', () => {
        throw new Error('a consumer bug must not stop the source');
      });
      await gps.start();
      await gps.start(); // idempotent
      await waitFor(() => fixes.length >= 2 && gps.health().state === 'ok', { what: 'fixes and ok health', timeoutMs });
      for (const f of fixes) {
        expect(f.lat).toBeGreaterThanOrEqual(-90);
        expect(f.lat).toBeLessThanOrEqual(90);
        expect(f.lon).toBeGreaterThanOrEqual(-180);
        expect(f.lon).toBeLessThanOrEqual(180);
        expect(['2d', '3d']).toContain(f.mode);
        expect(Number.isFinite(f.fixTime)).toBe(true);
        expect(Number.isFinite(f.receivedAt)).toBe(true);
        if (f.speed !== undefined) expect(f.speed).toBeLessThanOrEqual(70);
      }
      expect(gps.latest()).toEqual(fixes.at(-1));
      expect(gps.clockOffsetMs()).toBeTypeOf('number');
      await gps.stop();
      const count = fixes.length;
      await sleep(150);
      expect(fixes.length).toBe(count);
    } finally {
      await gps.stop();
      await setup.teardown?.();
    }
  });
}

export function runModemSourceContract(setup: ContractSetup<ModemSource>): void {
  const timeoutMs = setup.timeoutMs ?? 5000;
  it('ModemSource contract: status with bars 0..5 and a registration; ok health; latest() is the last status', async () => {
    const modem = await setup.create();
    try {
      const statuses: ModemStatus[] = [];
      modem.on('status', (s) => statuses.push(s));
      await modem.start();
      await modem.start();
      await waitFor(() => statuses.length >= 1 && modem.health().state === 'ok', { what: 'status and ok health', timeoutMs });
      for (const s of statuses) {
        expect(Number.isInteger(s.bars) && s.bars >= 0 && s.bars <= 5).toBe(true);
        expect(['home', 'roaming', 'searching', 'denied', 'not_registered', 'unknown']).toContain(s.registration);
        if (s.rssiDbm !== undefined) expect(s.rssiDbm).toBeLessThan(0);
        expect(Number.isFinite(s.at)).toBe(true);
      }
      expect(modem.latest()).toEqual(statuses.at(-1));
    } finally {
      await modem.stop();
      await setup.teardown?.();
    }
  });
}

export function runVehicleInputsContract(setup: ContractSetup<VehicleInputs>): void {
  const timeoutMs = setup.timeoutMs ?? 5000;
  it('VehicleInputs contract: ok health, known levels, a change arrives as a timestamped event matching state()', async () => {
    const inputs = await setup.create();
    try {
      const events: InputEvent[] = [];
      inputs.on('input', (e) => events.push(e));
      await inputs.start();
      await inputs.start();
      await waitFor(() => inputs.health().state === 'ok' && inputs.state().emergency !== undefined, { what: 'ok and levels', timeoutMs });
      const before = inputs.state().emergency;
      const t0 = Date.now();
      await setup.stimulate!(inputs);
      await waitFor(() => events.some((e) => e.input === 'emergency' && e.active !== before), { what: 'emergency change', timeoutMs });
      const ev = events.find((e) => e.input === 'emergency' && e.active !== before)!;
      expect(ev.at).toBeGreaterThanOrEqual(t0 - 5);
      expect(inputs.state().emergency).toBe(ev.active);
    } finally {
      await inputs.stop();
      await setup.teardown?.();
    }
  });
}
