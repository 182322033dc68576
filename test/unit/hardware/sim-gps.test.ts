import { describe, expect, it } from 'vitest';
import { distanceM, pointInPolygon } from '../../../hardware/geo.js';
import { SimGps } from '../../../hardware/sim-gps.js';
import type { GpsFix } from '../../../hardware/types.js';
import { waitFor } from '../../helpers/wait-for.js';

// A concave (L-shaped) beat of roughly 1.5 km x 1.5 km, so a straight leg between two random
// points inside it can leave the beat unless the simulator checks its legs.
const L_BEAT: Array<[number, number]> = [
  [-122.34, 47.6],
  [-122.32, 47.6],
  [-122.32, 47.607],
  [-122.33, 47.607],
  [-122.33, 47.614],
  [-122.34, 47.614],
  [-122.34, 47.6],
];

function drive(seed: number, steps: number, speedMps?: number): GpsFix[] {
  let now = 1_700_000_000_000;
  const sim = new SimGps({ polygon: L_BEAT, seed, speedMps, clock: { now: () => now } });
  const fixes: GpsFix[] = [];
  for (let i = 0; i < steps; i++) {
    now += 1000;
    fixes.push(sim.step());
  }
  return fixes;
}

describe('SimGps', () => {
  it('stays inside a concave beat for an hour of patrol', () => {
    for (const seed of [1, 2, 3, 42]) {
      for (const fix of drive(seed, 3600)) {
        expect(pointInPolygon([fix.lon, fix.lat], L_BEAT), `seed ${seed} at ${fix.lon},${fix.lat}`).toBe(true);
      }
    }
  });

  it('moves at street speed, and the reported speed matches the distance covered', () => {
    const fixes = drive(7, 1800);
    let moving = 0;
    for (let i = 1; i < fixes.length; i++) {
      const a = fixes[i - 1]!;
      const b = fixes[i]!;
      const covered = distanceM([a.lon, a.lat], [b.lon, b.lat]);
      expect(b.speed!).toBeGreaterThanOrEqual(0);
      expect(b.speed!).toBeLessThan(20); // 11 m/s cruise, legs at most 120 %
      expect(Math.abs(covered - b.speed!)).toBeLessThan(0.1);
      if (b.speed! > 1) moving++;
    }
    // It patrols, it does not park: most of the time the car is moving.
    expect(moving / fixes.length).toBeGreaterThan(0.6);
  });

  it('reports a track pointing where the car went', () => {
    const fixes = drive(9, 300);
    for (let i = 1; i < fixes.length; i++) {
      const a = fixes[i - 1]!;
      const b = fixes[i]!;
      if (b.speed! < 1) continue;
      const east = b.lon - a.lon;
      const north = b.lat - a.lat;
      const expected = ((Math.atan2(east * Math.cos((b.lat * Math.PI) / 180), north) * 180) / Math.PI + 360) % 360;
      const diff = Math.abs(((b.track! - expected + 540) % 360) - 180);
      expect(diff).toBeLessThan(1);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(drive(5, 200)).toEqual(drive(5, 200));
    expect(drive(5, 200)).not.toEqual(drive(6, 200));
  });

  it('emits fix events on its timer with ok health, and stops cleanly', async () => {
    const sim = new SimGps({ polygon: L_BEAT, intervalMs: 20, seed: 3 });
    const seen: GpsFix[] = [];
    sim.on('fix', (f) => seen.push(f));
    expect(sim.clockOffsetMs()).toBeUndefined();
    await sim.start();
    await waitFor(() => seen.length >= 3, { what: 'three fixes' });
    await sim.stop();
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(count).toBeGreaterThanOrEqual(3);
    expect(seen.length).toBe(count);
    expect(sim.health().state).toBe('ok');
    expect(sim.latest()).toEqual(seen.at(-1));
    expect(sim.latest()!.mode).toBe('3d');
    expect(sim.clockOffsetMs()).toBe(0);
  });

  it('keeps running when a fix listener throws, and still serves the other listeners', () => {
    const sim = new SimGps({ polygon: L_BEAT, seed: 1 });
    const seen: GpsFix[] = [];
    sim.on('fix', () => {
      throw new Error('bad listener');
    });
    sim.once('fix', (f) => seen.push(f));
    expect(() => sim.step()).not.toThrow();
    sim.step();
    expect(seen).toHaveLength(1); // once() still removed itself
  });

  it('rejects a degenerate polygon or an absurd speed at construction', () => {
    expect(() => new SimGps({ polygon: [[0, 0], [1, 1]] })).toThrow(/3 vertices/);
    expect(() => new SimGps({ polygon: L_BEAT, speedMps: 200 })).toThrow(/speedMps/);
  });
});
