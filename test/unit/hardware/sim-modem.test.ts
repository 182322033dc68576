import { describe, expect, it } from 'vitest';
import { SimModem } from '../../../hardware/sim-modem.js';
import type { DeviceHealth, ModemStatus } from '../../../hardware/types.js';

describe('SimModem', () => {
  it('reports a registered LTE modem with a drifting, plausible signal', () => {
    const modem = new SimModem({ seed: 3, clock: { now: () => 5 } });
    const statuses = Array.from({ length: 200 }, () => modem.step());
    for (const s of statuses) {
      expect(s).toMatchObject({ registration: 'home', operator: 'FirstNet', tech: 'LTE', at: 5 });
      expect(s.rssiDbm!).toBeGreaterThanOrEqual(-89);
      expect(s.rssiDbm!).toBeLessThanOrEqual(-57);
      expect(s.bars).toBeGreaterThanOrEqual(3);
    }
    for (let i = 1; i < statuses.length; i++) expect(Math.abs(statuses[i]!.rssiDbm! - statuses[i - 1]!.rssiDbm!)).toBeLessThanOrEqual(2);
    expect(new Set(statuses.map((s) => s.rssiDbm)).size).toBeGreaterThan(3);
    expect(modem.health().state).toBe('ok');
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): ModemStatus[] => {
      const m = new SimModem({ seed, clock: { now: () => 0 } });
      return Array.from({ length: 50 }, () => m.step());
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('can be put in a dead zone and back, with health following', async () => {
    const modem = new SimModem({ pollMs: 10_000 });
    const health: DeviceHealth[] = [];
    modem.on('health', (h) => health.push(h));
    await modem.start();
    modem.setCoverage({ registration: 'searching' });
    expect(modem.latest()).toMatchObject({ registration: 'searching', bars: 0 });
    expect(modem.latest()!.operator).toBeUndefined();
    modem.setCoverage(undefined);
    await modem.stop();
    expect(health.map((h) => h.state)).toEqual(['ok', 'degraded', 'ok']);
  });
});
