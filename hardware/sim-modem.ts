// Simulated cellular modem for `mdt demo`: signal that drifts like a car moving between cells,
// registered on a home network. Tests of the real AT path use the pty simulator instead.
import { EventEmitter } from 'node:events';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';
import { type Random, seededRandom } from './seeded-random.js';
import { type Clock, type DeviceHealth, type ModemSource, type ModemSourceEvents, type ModemStatus, systemClock } from './types.js';

export interface SimModemOptions {
  seed?: number;
  intervalMs?: number;
  clock?: Clock;
  log?: HardwareLogger;
}

/** 3GPP TS 27.007 +CSQ: dBm = -113 + 2 * rssi; bars as most phones draw them. */
export function barsForDbm(dbm: number | undefined): number {
  if (dbm === undefined) return 0;
  if (dbm >= -73) return 5;
  if (dbm >= -83) return 4;
  if (dbm >= -93) return 3;
  if (dbm >= -103) return 2;
  if (dbm >= -109) return 1;
  return 0;
}

export class SimModem extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly log: HardwareLogger;
  private readonly intervalMs: number;
  private rssi = 20;
  private timer: NodeJS.Timeout | undefined;
  private last: ModemStatus | undefined;
  private currentHealth: DeviceHealth;

  constructor(options: SimModemOptions = {}) {
    super();
    this.random = seededRandom(options.seed ?? 1);
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.intervalMs = options.intervalMs ?? 5000;
    this.currentHealth = { state: 'missing', reason: 'not started', since: this.clock.now() };
  }

  async start(): Promise<void> {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): ModemStatus | undefined {
    return this.last;
  }

  health(): DeviceHealth {
    return this.currentHealth;
  }

  private poll(): void {
    // A random walk of the CSQ rssi index within 8..28 (-97..-57 dBm): urban LTE.
    this.rssi = Math.max(8, Math.min(28, this.rssi + Math.round((this.random() - 0.5) * 4)));
    const rssiDbm = -113 + 2 * this.rssi;
    this.last = { rssiDbm, bars: barsForDbm(rssiDbm), registration: 'home', operator: 'FirstNet', tech: 'LTE', at: this.clock.now() };
    if (this.currentHealth.state !== 'ok') {
      this.currentHealth = { state: 'ok', detail: 'simulated modem', since: this.clock.now() };
      emitSafely(this, this.log, 'health', this.currentHealth);
    }
    emitSafely(this, this.log, 'status', this.last);
  }
}
