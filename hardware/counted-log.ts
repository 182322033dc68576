// Bad input can arrive many times a second (a noisy serial line, a receiver spewing junk speeds).
// Logging each one at warn would flood journald, logging none would hide the fault, so each kind
// is warned about on its 1st, 10th, 100th, ... occurrence with the running count, and logged at
// debug otherwise.
import type { HardwareLogger } from './logger.js';

export class CountedWarnings {
  private readonly counts = new Map<string, number>();

  constructor(private readonly log: HardwareLogger) {}

  warn(kind: string, fields: Record<string, unknown>, msg: string): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    const isPowerOfTen = /^10*$/.test(String(count));
    (isPowerOfTen ? this.log.warn : this.log.debug).call(this.log, { ...fields, count }, msg);
  }

  count(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }
}
