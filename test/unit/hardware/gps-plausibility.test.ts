import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../hardware/backoff.js';
import { PlausibilityFilter } from '../../../hardware/gps-plausibility.js';
import type { GpsFix } from '../../../hardware/types.js';

const T0 = 1_800_000_000_000;
const fix = (over: Partial<GpsFix>): GpsFix => ({ lat: 47.6, lon: -122.33, mode: '3d', fixTime: T0, receivedAt: T0, ...over });
// 0.001 degree of latitude is about 111 m.
const north = (metres: number): number => 47.6 + metres / 111_195;

describe('PlausibilityFilter', () => {
  it('accepts a car driving at street speed', () => {
    const f = new PlausibilityFilter();
    for (let s = 0; s < 60; s++) {
      expect(f.judge(fix({ lat: north(15 * s), speed: 15, fixTime: T0 + s * 1000 })).ok).toBe(true);
    }
  });

  it('rejects the junk speeds a stationary LTE modem reports (93 m/s in quectel-eg25-g.log)', () => {
    const v = new PlausibilityFilter().judge(fix({ speed: 93.281 }));
    expect(v).toEqual({ ok: false, reason: 'speed 93.3 m/s exceeds 70 m/s' });
  });

  it('rejects a fix whose error estimate is too large to place the car', () => {
    expect(new PlausibilityFilter().judge(fix({ eph: 900 })).ok).toBe(false);
    expect(new PlausibilityFilter().judge(fix({ eph: 157.7 })).ok).toBe(true);
  });

  it('rejects a teleport, then takes the new position after repeated agreement', () => {
    const f = new PlausibilityFilter();
    expect(f.judge(fix({})).ok).toBe(true);
    const far = (s: number): GpsFix => fix({ lat: north(5000), fixTime: T0 + s * 1000 });
    expect(f.judge(far(1))).toMatchObject({ ok: false, reason: expect.stringContaining('jump of 5000 m in 1.0 s') });
    expect(f.judge(far(2)).ok).toBe(false);
    expect(f.judge(far(3))).toEqual({ ok: true, reason: 'reference reset after 3 conflicting fixes in a row (jump of 5000 m in 3.0 s)' });
    expect(f.judge(fix({ lat: north(5010), fixTime: T0 + 4000 })).ok).toBe(true);
  });

  it('rejects a fix whose time runs backwards (a wrong-day fix in bt451.log), resetting after repeats', () => {
    const f = new PlausibilityFilter();
    f.judge(fix({ fixTime: T0 + 86_400_000 }));
    expect(f.judge(fix({ fixTime: T0 + 500 }))).toEqual({ ok: false, reason: 'fix time 86399.5 s earlier than the previous fix' });
    expect(f.judge(fix({ fixTime: T0 + 1000 })).ok).toBe(false);
    expect(f.judge(fix({ fixTime: T0 + 1500 })).ok).toBe(true);
    expect(f.judge(fix({ fixTime: T0 + 2000 }))).toEqual({ ok: true });
  });

  it('allows a long move after a long gap (car drove through a tunnel)', () => {
    const f = new PlausibilityFilter();
    f.judge(fix({}));
    expect(f.judge(fix({ lat: north(2000), fixTime: T0 + 120_000 })).ok).toBe(true);
  });

  it('forgets the reference after reset()', () => {
    const f = new PlausibilityFilter();
    f.judge(fix({}));
    f.reset();
    expect(f.judge(fix({ lat: north(50_000), fixTime: T0 + 1000 })).ok).toBe(true);
  });
});

describe('Backoff', () => {
  it('grows from 0.5 s to a 30 s ceiling with jitter, and resets', () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 0.5 });
    const delays = Array.from({ length: 10 }, () => b.next());
    expect(delays[0]).toBe(500);
    expect(delays.at(-1)).toBe(22_500); // 30 s step, half fixed + half * 0.5
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    for (const d of delays) expect(d).toBeLessThanOrEqual(30_000);
    b.reset();
    expect(b.next()).toBe(500);
    const full = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 12; i++) full.next();
    expect(full.next()).toBe(30_000);
  });
});
