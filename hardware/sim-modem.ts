// Simulated ModemSource for `mdt demo`: an LTE modem on a patrol, its signal drifting as the
// car moves. Deterministic for a seed; the demo (or a test) can force a dead zone with
// setCoverage(). Tests of the real adapter use the AT simulator on a pty instead.
import { EventEmitter } from 'node:events';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';
import { type Random, seededRandom } from './seeded-random.js';
import { csqToDbm, dbmToBars } from './ts27007.js';
import {
  type Clock,
  type DeviceHealth,
  type ModemSource,
  type ModemSourceEvents,
  type ModemStatus,
  type Registration,
  systemClock,
} from './types.js';

export interface SimModemOptions {
  /** Time between status reports. Default 5 s. */
  pollMs?: number;
  seed?: number;
  operator?: string;
  clock?: Clock;
  log?: HardwareLogger;
}

/** AT+CSQ range the walk stays in: 12..28 = -89..-57 dBm, a typical suburban LTE signal. */
const RSSI_RANGE: readonly [number, number] = [12, 28];

export class SimModem extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly pollMs: number;
  private readonly random: Random;
  private readonly operator: string;
  private readonly clock: Clock;
  private readonly log: HardwareLogger;
  private rssi: number;
  private forced: { registration: Registration; rssiDbm?: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStatus: ModemStatus | undefined;
  private currentHealth: DeviceHealth;

  constructor(options: SimModemOptions = {}) {
    super();
    this.pollMs = options.pollMs ?? 5000;
    this.random = seededRandom(options.seed ?? 7);
    this.operator = options.operator ?? 'FirstNet';
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.rssi = 20;
    this.currentHealth = { state: 'missing', reason: 'not started', since: this.clock.now() };
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => this.step(), this.pollMs);
    this.step();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): ModemStatus | undefined {
    return this.lastStatus;
  }

  health(): DeviceHealth {
    return this.currentHealth;
  }

  /** Forces registration (and optionally signal) until cleared with `undefined`: a dead zone. */
  setCoverage(coverage: { registration: Registration; rssiDbm?: number } | undefined): void {
    this.forced = coverage;
    this.step();
  }

  /** Produces the next status report. Public so tests can drive it without timers. */
  step(): ModemStatus {
    // A bounded random walk of +-1 CSQ step: signal changes gradually while driving.
    this.rssi = Math.min(RSSI_RANGE[1], Math.max(RSSI_RANGE[0], this.rssi + Math.round(this.random() * 2 - 1)));
    const registration = this.forced?.registration ?? 'home';
    const registered = registration === 'home' || registration === 'roaming';
    const rssiDbm = this.forced ? this.forced.rssiDbm : csqToDbm(this.rssi);
    const status: ModemStatus = {
      ...(rssiDbm !== undefined && { rssiDbm }),
      bars: dbmToBars(rssiDbm),
      registration,
      ...(registered && { operator: this.operator, tech: 'LTE' }),
      at: this.clock.now(),
    };
    this.lastStatus = status;
    const health: DeviceHealth = registered
      ? { state: 'ok', detail: `simulated ${this.operator}, LTE, ${rssiDbm ?? '?'} dBm`, since: status.at }
      : { state: 'degraded', reason: `not registered: registration ${registration.replace('_', ' ')} (simulated)`, since: status.at };
    if (health.state !== this.currentHealth.state) emitSafely(this, this.log, 'health', health);
    this.currentHealth = health;
    emitSafely(this, this.log, 'status', status);
    return status;
  }
}
