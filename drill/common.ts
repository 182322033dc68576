// What every drill shares: its result row, process figures, waiting, and a fleet of lightweight
// cars (bench/county-car.ts) on the drill's station.
import { join } from 'node:path';
import { LightCar } from '../bench/county-car.js';
import { procSample, sleep, type CarEntry } from '../bench/county-procs.js';
import type { Department } from '../daemon/department.js';
import { PRECINCT, type Station } from './station.js';

export const MB = 2 ** 20;
export const now = (): number => performance.timeOrigin + performance.now();

export interface DrillResult {
  drill: string;
  made: number;
  acked: number;
  present: number;
  ok: boolean;
  figures: string;
}

export const log = (s: string): void => void process.stderr.write(`drill: ${s}\n`);
export const rss = (pid: number | undefined): number => (pid === undefined ? NaN : (procSample(pid)?.rss ?? NaN) / MB);
export const alive = (c: { exitCode: number | null; signalCode: string | null }): boolean => c.exitCode === null && c.signalCode === null;

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(250);
  }
}

export function fleet(dept: Department, n: number, prefix = 'C'): CarEntry[] {
  const sectors = Object.keys(dept.sectors).sort();
  return Array.from({ length: n }, (_, i) => ({ vehicleId: `${prefix}${i}`, unitId: `${prefix}U${i}`, sector: sectors[i % sectors.length]! }));
}

export async function lightFleet(st: Station, dept: Department, cars: CarEntry[], url = st.brokerUrl): Promise<LightCar[]> {
  const out: LightCar[] = [];
  for (let i = 0; i < cars.length; i += 25) {
    const batch: LightCar[] = [];
    for (const c of cars.slice(i, i + 25)) {
      const car = await LightCar.create({ ...c, precinct: PRECINCT, brokerUrl: url, password: st.secret, center: dept.beats[dept.sectors[c.sector]!.beats[0]!]!.center, stateDir: join(st.dir, 'cars') });
      car.start();
      batch.push(car);
    }
    await waitFor(() => batch.every((c) => c.transport.isOnline()), 120_000);
    out.push(...batch);
  }
  for (const c of out) await c.signOn();
  return out;
}

/** Every car of a sector holds every hash made in it (they reach each other only via the precinct). */
export function presentEverywhere(cars: LightCar[], made: Array<{ hash: string; sector: string }>): number {
  return made.filter((m) => cars.filter((c) => c.opts.sector === m.sector).every((c) => c.has(m.hash))).length;
}

/** Cars greeted by heal() since the counter was last reset (the run reports it per drill). */
export const healed = { cars: 0 };

export async function heal(cars: LightCar[]): Promise<void> {
  healed.cars += cars.length;
  // A stalled exchange (docs/performance.md, "Sync stall") is healed by a hello, as a reconnect does.
  for (const c of cars) await c.hello();
}

export interface Growth {
  /** Highest figure of the first and of the second half of the samples. */
  firstPeak: number;
  secondPeak: number;
  growth: number;
  flat: boolean;
}

/**
 * Peak of the second half of the samples against the peak of the first half. RSS runs in a saw
 * tooth (garbage and freed buffers stay resident until a full GC), so two single samples can land
 * on a tooth and a trough; a leak raises the peaks round after round, a warm-up (V8 sizing its
 * heap, malloc keeping the pages of a first burst) does not. Flat: at most 16 MiB or 10 % higher.
 * A series with no figure is not flat.
 */
export function secondHalf(series: number[]): Growth {
  const h = Math.floor(series.length / 2);
  const firstPeak = Math.max(...series.slice(0, Math.max(1, h)));
  const secondPeak = Math.max(...series.slice(h));
  const growth = secondPeak - firstPeak;
  return { firstPeak, secondPeak, growth, flat: growth <= Math.max(16, firstPeak * 0.1) };
}

export const showGrowth = (name: string, g: Growth): string => `${name} ${g.firstPeak.toFixed(0)}→${g.secondPeak.toFixed(0)} (${g.growth >= 0 ? '+' : ''}${g.growth.toFixed(0)})`;
