// ModemSource for a cellular modem reached directly over its AT port (3GPP TS 27.007).
// Polls signal, registration and operator; turns silence, errors and a vanished port into
// health instead of exceptions, and reopens the port when the device comes back (USB modems
// re-enumerate after a firmware crash or a brown-out at engine start).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { type AtResult, AtPort } from './at-port.js';
import { Backoff } from './backoff.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { HealthState, serialPermissionHint } from './health-state.js';
import { emitSafely } from './safe-emit.js';
import type { Random } from './seeded-random.js';
import { bestRegistration, dbmToBars, parseCops, parseCsq, parseRegistration } from './ts27007.js';
import {
  type Clock,
  type DeviceHealth,
  type ModemSource,
  type ModemSourceEvents,
  type ModemStatus,
  type Registration,
  systemClock,
} from './types.js';

export interface AtModemSourceOptions {
  /** Use the udev `/dev/serial/by-id/...` link of the modem's AT interface. */
  path: string;
  baudRate?: number;
  /** Time between status polls. Default 10 s: signal changes slowly and AT ports are shared. */
  pollMs?: number;
  commandTimeoutMs?: number;
  /** Delays between attempts to (re)open a missing port. Default 1 s .. 30 s. */
  reopen?: { minMs?: number; maxMs?: number };
  random?: Random;
  log?: HardwareLogger;
  clock?: Clock;
}

/** `+CME ERROR` codes (TS 27.007 §9.2.1) worth a plain-words reason on the technician's screen. */
const CME_REASONS: Record<string, string> = {
  '10': 'SIM not inserted',
  'SIM not inserted': 'SIM not inserted',
  '11': 'SIM PIN required',
  'SIM PIN required': 'SIM PIN required',
  '13': 'SIM failure',
  'SIM failure': 'SIM failure',
  '30': 'no network service',
  'no network service': 'no network service',
};

/** Commands sent once per open: echo off (V.250 E0) and numeric +CME ERROR codes (27.007 +CMEE=1). */
const INIT_COMMANDS = ['ATE0', 'AT+CMEE=1'];

export class AtModemSource extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly at: AtPort;
  private readonly pollMs: number;
  private readonly log: HardwareLogger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private running = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private silentPolls = 0;
  private lastStatus: ModemStatus | undefined;
  private readonly healthState: HealthState;

  constructor(private readonly options: AtModemSourceOptions) {
    super();
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.pollMs = options.pollMs ?? 10_000;
    this.backoff = new Backoff({ minMs: options.reopen?.minMs ?? 1000, maxMs: options.reopen?.maxMs ?? 30_000, random: options.random });
    this.at = new AtPort({ path: options.path, baudRate: options.baudRate, timeoutMs: options.commandTimeoutMs, log: this.log });
    this.at.on('urc', (line) => this.onUrc(line));
    this.at.on('close', ({ disconnected }) => this.onPortClosed(disconnected));
    this.healthState = new HealthState(this.log, 'modem', this.clock, (h) => emitSafely(this, this.log, 'health', h));
  }

  /** Opens the port in the background; an absent modem is a health state, not an error. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    void this.openAndPoll();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.pollTimer);
    clearTimeout(this.reopenTimer);
    this.pollTimer = this.reopenTimer = undefined;
    await this.at.close();
    this.healthState.set('stopped', { state: 'missing', reason: 'stopped', since: this.clock.now() });
  }

  latest(): ModemStatus | undefined {
    return this.lastStatus;
  }

  health(): DeviceHealth {
    return this.healthState.current;
  }

  /** Runs one poll now (also used by the self-test); resolves when it is done. */
  async pollNow(): Promise<ModemStatus | undefined> {
    await this.poll();
    return this.lastStatus;
  }

  private async openAndPoll(): Promise<void> {
    if (!this.running) return;
    try {
      await this.at.open();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.healthState.set(`open:${code}`, { state: 'missing', reason: `cannot open modem port ${this.options.path} (${code})${serialPermissionHint(code)}`, since: this.clock.now() });
      this.scheduleReopen();
      return;
    }
    if (!this.running) return void (await this.at.close());
    this.log.info({ path: this.options.path }, 'modem port open');
    this.backoff.reset();
    this.silentPolls = 0;
    for (const command of INIT_COMMANDS) {
      const r = await this.at.send(command);
      if (r.status !== 'ok') this.log.debug({ command, status: r.status }, 'modem init command not accepted');
    }
    await this.poll();
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer) return;
    const delayMs = this.backoff.next();
    this.log.debug({ path: this.options.path, delayMs, attempt: this.backoff.attempts() }, 'modem reopen scheduled');
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.openAndPoll();
    }, delayMs);
  }

  private onPortClosed(disconnected: boolean): void {
    if (!this.running) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.log.warn({ path: this.options.path, disconnected }, 'modem port closed; will reopen when it returns');
    this.healthState.set('port-gone', { state: 'missing', reason: `modem port ${this.options.path} went away`, since: this.clock.now() });
    this.scheduleReopen();
  }

  private schedulePoll(): void {
    if (!this.running || !this.at.isOpen()) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), this.pollMs);
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.at.isOpen()) return;
    this.polling = true;
    try {
      const csq = await this.at.send('AT+CSQ');
      const creg = await this.at.send('AT+CREG?');
      const cereg = await this.at.send('AT+CEREG?');
      const cops = await this.at.send('AT+COPS?');
      const results = { csq, creg, cereg, cops };
      if (Object.values(results).some((r) => r.status === 'closed')) return; // onPortClosed handles it
      this.interpret(results);
    } catch (err) {
      // Interpretation is pure code over modem text; a bug there must not stop the poll loop.
      this.log.error({ err }, 'modem poll failed');
    } finally {
      this.polling = false;
      this.schedulePoll();
    }
  }

  private interpret(r: Record<'csq' | 'creg' | 'cereg' | 'cops', AtResult>): void {
    const now = this.clock.now();
    const answered = Object.values(r).filter((x) => x.status === 'ok' || x.status === 'error');
    if (answered.length === 0) {
      // The kernel does not always hang up an open port whose device vanished (seen with ptys;
      // also wedged USB serial drivers), so silence plus a missing device node means "gone".
      if (!existsSync(this.options.path)) {
        this.log.warn({ path: this.options.path }, 'modem device node vanished without a hangup; closing the port');
        void this.at.close();
        return;
      }
      this.silentPolls++;
      this.log.warn({ path: this.options.path, silentPolls: this.silentPolls }, 'modem not answering AT commands');
      this.healthState.set('silent', { state: 'degraded', reason: `modem not answering AT commands (${this.silentPolls} polls)`, since: now });
      return;
    }
    this.silentPolls = 0;
    for (const [name, result] of Object.entries(r)) {
      // +CEREG? is an ERROR on 2G/3G-only modules; anything else is worth a warning.
      if (result.status === 'error' && name !== 'cereg') this.log.warn({ command: name, final: result.final }, 'modem command failed');
      if (result.status === 'timeout') this.log.warn({ command: name }, 'modem command timed out');
    }
    const lines = (x: AtResult): string[] => (x.status === 'ok' ? x.lines : []);
    const signal = parseCsq(lines(r.csq)[0]);
    const cs = parseRegistration(lines(r.creg)[0]);
    const eps = parseRegistration(lines(r.cereg)[0]);
    const cops = parseCops(lines(r.cops)[0]);
    const rssiDbm = signal?.rssiDbm;
    const status: ModemStatus = {
      ...(rssiDbm !== undefined && { rssiDbm }),
      bars: dbmToBars(rssiDbm),
      registration: bestRegistration(cs?.registration, eps?.registration),
      ...(cops?.operator && { operator: cops.operator }),
      ...((cops?.tech ?? eps?.tech ?? cs?.tech) && { tech: cops?.tech ?? eps?.tech ?? cs?.tech }),
      at: now,
    };
    this.publish(status, this.cmeReason(r));
  }

  /** A +CME ERROR that explains why the modem cannot register (no SIM, PIN), if any. */
  private cmeReason(r: Record<string, AtResult>): string | undefined {
    for (const x of Object.values(r)) {
      if (x.status === 'error' && x.cmeError !== undefined) {
        const reason = CME_REASONS[x.cmeError];
        if (reason) return reason;
      }
    }
    return undefined;
  }

  private publish(status: ModemStatus, cmeReason?: string): void {
    const previous = this.lastStatus;
    this.lastStatus = status;
    if (previous?.registration !== status.registration) {
      this.log.info({ registration: status.registration, operator: status.operator, tech: status.tech }, 'modem registration');
    }
    this.healthState.set(...healthOf(status, cmeReason));
    emitSafely(this, this.log, 'status', status);
  }

  private onUrc(line: string): void {
    // With AT+CREG=1 / AT+CEREG=1 configured elsewhere, registration changes arrive at once.
    const reg = parseRegistration(line, false);
    if (reg && this.lastStatus) {
      const registration: Registration = reg.registration;
      this.publish({ ...this.lastStatus, registration, at: this.clock.now() });
      return;
    }
    this.log.debug({ line: line.slice(0, 80) }, 'modem unsolicited result');
  }

  /** Emits on transitions only; the detail (e.g. dBm) of an unchanged state is still kept fresh. */
}

function healthOf(status: ModemStatus, cmeReason: string | undefined): [string, DeviceHealth] {
  const since = status.at;
  if (status.registration === 'home' || status.registration === 'roaming') {
    const detail = [status.operator, status.tech, status.rssiDbm !== undefined ? `${status.rssiDbm} dBm` : 'signal unknown', status.registration]
      .filter(Boolean)
      .join(', ');
    return [`ok:${status.registration}`, { state: 'ok', detail, since }];
  }
  const why = cmeReason ?? `registration ${status.registration.replace('_', ' ')}`;
  return [`degraded:${why}`, { state: 'degraded', reason: `not registered: ${why}`, since }];
}
