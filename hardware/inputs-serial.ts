// VehicleInputs from a vehicle interface module on a serial port, speaking the line protocol of
// inputs-protocol.ts. Levels are debounced (a relay contact or a noisy 12 V line can chatter),
// silence past the heartbeat timeout degrades health, and a vanished port is reopened when the
// module comes back (USB serial adapters re-enumerate when the car cranks).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { SerialPort } from 'serialport';
import { loadSerial } from './serial-modules.js';
import { Backoff } from './backoff.js';
import { CountedWarnings } from './counted-log.js';
import { QUERY_COMMAND, parseModuleLine } from './inputs-protocol.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { HealthState, serialPermissionHint } from './health-state.js';
import { emitSafely } from './safe-emit.js';
import type { Random } from './seeded-random.js';
import {
  type Clock,
  type DeviceHealth,
  type InputEvent,
  type InputName,
  type VehicleInputs,
  type VehicleInputsEvents,
  systemClock,
} from './types.js';

export interface SerialInputsOptions {
  /** Use the udev `/dev/serial/by-id/...` link of the module. */
  path: string;
  baudRate?: number;
  /** A new level must hold this long before it is reported. 0 reports at once. Default 50 ms. */
  debounceMs?: number;
  /** The module sends HB every second; this long without any valid line = degraded. Default 3 s. */
  heartbeatTimeoutMs?: number;
  reopen?: { minMs?: number; maxMs?: number };
  random?: Random;
  log?: HardwareLogger;
  clock?: Clock;
}

/** A level waiting out the debounce; the event will carry the time it was first seen. */
interface Pending {
  active: boolean;
  timer: NodeJS.Timeout;
}

export class SerialInputs extends EventEmitter<VehicleInputsEvents> implements VehicleInputs {
  private readonly path: string;
  private readonly baudRate: number;
  private readonly debounceMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly log: HardwareLogger;
  private readonly clock: Clock;
  private readonly warnings: CountedWarnings;
  private readonly levels: Partial<Record<InputName, boolean>> = {};
  private readonly pending = new Map<InputName, Pending>();
  private port: SerialPort | undefined;
  private running = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  /** Re-sends `?` until the module answers it: a query written before the far end opened is lost. */
  private queryTimer: NodeJS.Timeout | undefined;
  private moduleId: string | undefined;
  private readonly healthState: HealthState;

  constructor(options: SerialInputsOptions) {
    super();
    this.path = options.path;
    this.baudRate = options.baudRate ?? 9600;
    this.debounceMs = options.debounceMs ?? 50;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 3000;
    this.backoff = new Backoff({ minMs: options.reopen?.minMs ?? 1000, maxMs: options.reopen?.maxMs ?? 30_000, random: options.random });
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.warnings = new CountedWarnings(this.log);
    this.healthState = new HealthState(this.log, 'input module', this.clock, (h) => emitSafely(this, this.log, 'health', h));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    void this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.silenceTimer);
    clearTimeout(this.queryTimer);
    this.reopenTimer = this.silenceTimer = this.queryTimer = undefined;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.healthState.set('stopped', { state: 'missing', reason: 'stopped', since: this.clock.now() });
  }

  state(): Partial<Record<InputName, boolean>> {
    return { ...this.levels };
  }

  health(): DeviceHealth {
    return this.healthState.current;
  }

  /** Identification the module sent (`ID ...`), if any. */
  moduleIdentity(): string | undefined {
    return this.moduleId;
  }

  /**
   * Asks the module for every input's level (sent on every open and after a silence), and asks
   * again every second until an `ID` or `IN` line answers.
   */
  query(): void {
    const port = this.port;
    if (!port?.isOpen) return;
    port.write(`${QUERY_COMMAND}\n`);
    clearTimeout(this.queryTimer);
    this.queryTimer = setTimeout(() => {
      this.queryTimer = undefined;
      if (this.port === port) this.query();
    }, Math.min(1000, this.heartbeatTimeoutMs));
  }

  private async open(): Promise<void> {
    const { SerialPort, ReadlineParser } = await loadSerial();
    if (!this.running) return;
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.healthState.set(`open:${code}`, { state: 'missing', reason: `cannot open input module port ${this.path} (${code})${serialPermissionHint(code)}`, since: this.clock.now() });
      this.scheduleReopen();
      return;
    }
    if (!this.running) return void port.close();
    this.port = port;
    this.backoff.reset();
    this.log.info({ path: this.path }, 'input module port open');
    port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' })).on('data', (line: string) => this.onLine(line));
    port.on('error', (err: Error) => this.log.warn({ err, path: this.path }, 'input module port error'));
    port.on('close', () => this.onClose(port));
    this.healthState.set('waiting', { state: 'degraded', reason: 'port open, waiting for the input module', since: this.clock.now() });
    this.armSilenceTimer();
    this.query();
  }

  private onClose(port: SerialPort): void {
    if (this.port !== port) return;
    this.port = undefined;
    clearTimeout(this.silenceTimer);
    clearTimeout(this.queryTimer);
    this.silenceTimer = this.queryTimer = undefined;
    if (!this.running) return;
    this.log.warn({ path: this.path }, 'input module port closed; will reopen when it returns');
    this.healthState.set('port-gone', { state: 'missing', reason: `input module port ${this.path} went away`, since: this.clock.now() });
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer) return;
    const delayMs = this.backoff.next();
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private armSilenceTimer(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      const port = this.port;
      if (!port) return;
      // A vanished device is not always hung up by the kernel; a missing node means "gone".
      if (!existsSync(this.path)) {
        this.log.warn({ path: this.path }, 'input module device node vanished without a hangup; closing the port');
        if (port.isOpen) port.close();
        else this.onClose(port);
        return;
      }
      this.log.warn({ path: this.path, silentMs: this.heartbeatTimeoutMs }, 'input module silent');
      this.healthState.set('silent', {
        state: 'degraded',
        reason: `input module silent for ${(this.heartbeatTimeoutMs / 1000).toFixed(1)} s (check its power and cable)`,
        since: this.clock.now(),
      });
      this.query();
    }, this.heartbeatTimeoutMs);
  }

  private onLine(raw: string): void {
    const parsed = parseModuleLine(raw);
    if (parsed.kind === 'rejected') {
      // Log the reason and length, never the raw bytes (they may be binary noise).
      this.warnings.warn(`line:${parsed.reason}`, { reason: parsed.reason, length: raw.length }, 'input module line ignored');
      return;
    }
    this.armSilenceTimer();
    if (parsed.kind === 'id' || parsed.kind === 'input') {
      clearTimeout(this.queryTimer);
      this.queryTimer = undefined;
    }
    if (parsed.kind === 'id' && parsed.text !== this.moduleId) {
      this.log.info({ id: parsed.text }, 'input module identified');
      this.moduleId = parsed.text;
    }
    const detail = this.moduleId ?? 'input module responding';
    this.healthState.set(`ok:${detail}`, { state: 'ok', detail, since: this.clock.now() });
    if (parsed.kind === 'input') this.onLevel(parsed.input, parsed.active);
  }

  private onLevel(input: InputName, active: boolean): void {
    const now = this.clock.now();
    const pending = this.pending.get(input);
    if (pending && pending.active === active) return; // already waiting out this level
    if (pending) {
      // Bounced back before the debounce elapsed: the change never happened.
      clearTimeout(pending.timer);
      this.pending.delete(input);
    }
    const known = this.levels[input];
    if (known === active) return;
    // The first report of an input is its current level, not a change to wait out.
    if (known === undefined || this.debounceMs === 0) return this.commit(input, active, now);
    const timer = setTimeout(() => {
      this.pending.delete(input);
      this.commit(input, active, now);
    }, this.debounceMs);
    this.pending.set(input, { active, timer });
  }

  private commit(input: InputName, active: boolean, seenAt: number): void {
    this.levels[input] = active;
    const event: InputEvent = { input, active, at: seenAt };
    this.log.info({ input, active }, 'vehicle input changed');
    emitSafely(this, this.log, 'input', event);
  }

}
