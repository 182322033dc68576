// Exponential backoff with "equal jitter" for reconnecting to gpsd and reopening serial ports.
// Jitter keeps a fleet of cars from hammering a restarted service in lockstep; the floor keeps a
// flapping device from spinning the CPU.
import type { Random } from './seeded-random.js';

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  random?: Random;
}

export class Backoff {
  private attempt = 0;
  private readonly random: Random;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Delay before the next attempt: half the exponential step fixed, half random, within [min, max]. */
  next(): number {
    const { minMs, maxMs } = this.options;
    const step = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const delay = step / 2 + this.random() * (step / 2);
    return Math.round(Math.min(maxMs, Math.max(minMs, delay)));
  }

  /** Attempts since the last reset. */
  attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
