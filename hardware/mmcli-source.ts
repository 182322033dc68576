// ModemSource for cars whose modem is owned by ModemManager (it holds the AT port, so we must
// not open it). Reads `mmcli -m <modem> -J` and, when signal polling is set up
// (`mmcli -m <modem> --signal-setup=<s>`), `--signal-get -J` for the RSSI in dBm. mmcli prints
// `"--"` for an absent value. The command runs behind an exec seam so the parser is tested with
// recorded-format fixtures (ModemManager needs D-Bus and a modem).
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { type HardwareLogger, silentLogger } from './logger.js';
import { HealthState } from './health-state.js';
import { emitSafely } from './safe-emit.js';
import { dbmToBars } from './ts27007.js';
import {
  type Clock,
  type DeviceHealth,
  type ModemSource,
  type ModemSourceEvents,
  type ModemStatus,
  type Registration,
  systemClock,
} from './types.js';

/** Runs mmcli with the given arguments and resolves with its stdout. */
export type MmcliExec = (args: string[]) => Promise<string>;

export interface MmcliSourceOptions {
  /** Modem index or D-Bus path as `mmcli -m` takes it. Default '0'. */
  modem?: string;
  pollMs?: number;
  /** Kill a hung mmcli after this long (it waits on D-Bus). Default 5 s. */
  timeoutMs?: number;
  exec?: MmcliExec;
  log?: HardwareLogger;
  clock?: Clock;
}

export interface MmcliModemReading {
  /** ModemManager's modem state: failed, locked, disabled, enabled, searching, registered, connected, ... */
  state: string;
  failedReason?: string;
  signalPercent?: number;
  registration: Registration;
  operator?: string;
  tech?: string;
}

const ABSENT = '--';

function present(value: unknown): string | undefined {
  return typeof value === 'string' && value !== ABSENT && value.length > 0 ? value : undefined;
}

function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** MMModem3gppRegistrationState names as mmcli prints them. */
function toRegistration(state: string | undefined): Registration {
  switch (state) {
    case 'home':
    case 'home-sms-only':
    case 'home-csfb-not-preferred':
      return 'home';
    case 'roaming':
    case 'roaming-sms-only':
    case 'roaming-csfb-not-preferred':
      return 'roaming';
    case 'searching':
      return 'searching';
    case 'denied':
      return 'denied';
    case 'idle':
    case 'emergency-only':
    case 'attached-rlos':
      return 'not_registered';
    default:
      return 'unknown';
  }
}

/** Best technology of MMModemAccessTechnology flags, named like the AT adapter's. */
function toTech(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const names = list.filter((x): x is string => typeof x === 'string');
  const ranked: Array<[string, string]> = [
    ['5gnr', '5G NR'],
    ['lte', 'LTE'],
    ['hspa-plus', 'HSPA'],
    ['hspa', 'HSPA'],
    ['hsupa', 'HSPA'],
    ['hsdpa', 'HSPA'],
    ['umts', 'UMTS'],
    ['edge', 'EDGE'],
    ['gprs', 'GSM'],
    ['gsm', 'GSM'],
  ];
  return ranked.find(([mm]) => names.includes(mm))?.[1];
}

/** Parses `mmcli -m N -J`. Throws on output that is not mmcli's modem JSON. */
export function parseMmcliModem(json: string): MmcliModemReading {
  const doc: unknown = JSON.parse(json);
  const generic = field(doc, 'modem', 'generic');
  if (typeof generic !== 'object' || generic === null) throw new Error('no modem.generic in mmcli output');
  const state = present(field(generic, 'state')) ?? 'unknown';
  const percent = Number(present(field(generic, 'signal-quality', 'value')));
  const operator = present(field(doc, 'modem', '3gpp', 'operator-name'));
  const tech = toTech(field(generic, 'access-technologies'));
  const failedReason = present(field(generic, 'state-failed-reason'));
  return {
    state,
    ...(failedReason && { failedReason }),
    ...(Number.isFinite(percent) && { signalPercent: percent }),
    registration: toRegistration(present(field(doc, 'modem', '3gpp', 'registration-state'))),
    ...(operator && { operator }),
    ...(tech && { tech }),
  };
}

/** RSSI in dBm from `mmcli -m N --signal-get -J`, preferring LTE, then UMTS, then GSM. */
export function parseMmcliSignal(json: string): number | undefined {
  const doc: unknown = JSON.parse(json);
  for (const tech of ['5g', 'lte', 'umts', 'gsm']) {
    const rssi = Number(present(field(doc, 'modem', 'signal', tech, 'rssi')));
    if (Number.isFinite(rssi)) return rssi;
  }
  return undefined;
}

/** Bars from ModemManager's 0..100 % signal quality, when no dBm is available. */
function percentToBars(percent: number | undefined): number {
  return percent === undefined ? 0 : Math.max(0, Math.min(5, Math.ceil(percent / 20)));
}

export function defaultMmcliExec(timeoutMs: number): MmcliExec {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile('mmcli', args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr: String(stderr).trim() }));
        else resolve(String(stdout));
      });
    });
}

export class MmcliSource extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly modem: string;
  private readonly pollMs: number;
  private readonly exec: MmcliExec;
  private readonly log: HardwareLogger;
  private readonly clock: Clock;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStatus: ModemStatus | undefined;
  private readonly healthState: HealthState;

  constructor(options: MmcliSourceOptions = {}) {
    super();
    this.modem = options.modem ?? '0';
    this.pollMs = options.pollMs ?? 10_000;
    this.exec = options.exec ?? defaultMmcliExec(options.timeoutMs ?? 5000);
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.healthState = new HealthState(this.log, 'modem', this.clock, (h) => emitSafely(this, this.log, 'health', h));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.healthState.set('stopped', { state: 'missing', reason: 'stopped', since: this.clock.now() });
  }

  latest(): ModemStatus | undefined {
    return this.lastStatus;
  }

  health(): DeviceHealth {
    return this.healthState.current;
  }

  /** One poll now; resolves with the status read, or undefined when mmcli failed. */
  async pollNow(): Promise<ModemStatus | undefined> {
    const now = this.clock.now();
    let reading: MmcliModemReading;
    try {
      reading = parseMmcliModem(await this.exec(['-m', this.modem, '-J']));
    } catch (err) {
      this.onFailure(err as NodeJS.ErrnoException & { stderr?: string });
      return undefined;
    }
    let rssiDbm: number | undefined;
    try {
      rssiDbm = parseMmcliSignal(await this.exec(['-m', this.modem, '--signal-get', '-J']));
    } catch (err) {
      // Signal polling is off until someone runs --signal-setup; the percentage still works.
      this.log.debug({ err: (err as Error).message }, 'mmcli --signal-get unavailable');
    }
    const status: ModemStatus = {
      ...(rssiDbm !== undefined && { rssiDbm }),
      bars: rssiDbm !== undefined ? dbmToBars(rssiDbm) : percentToBars(reading.signalPercent),
      registration: reading.registration,
      ...(reading.operator && { operator: reading.operator }),
      ...(reading.tech && { tech: reading.tech }),
      at: now,
    };
    this.lastStatus = status;
    this.healthState.set(...healthOf(reading, status));
    emitSafely(this, this.log, 'status', status);
    return status;
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    await this.pollNow();
    if (this.running) this.timer = setTimeout(() => void this.loop(), this.pollMs);
  }

  private onFailure(err: NodeJS.ErrnoException & { stderr?: string }): void {
    const now = this.clock.now();
    if (err.code === 'ENOENT') {
      this.healthState.set('no-mmcli', { state: 'missing', reason: 'mmcli not installed (install modemmanager)', since: now });
    } else if (err instanceof SyntaxError || err.message.startsWith('no modem.generic')) {
      this.healthState.set('unreadable', { state: 'degraded', reason: `unreadable mmcli output: ${err.message}`, since: now });
    } else {
      // e.g. "error: couldn't find modem" when the modem is unplugged or still probing.
      const detail = (err.stderr || err.message).split('\n')[0]!.slice(0, 160);
      this.healthState.set(`failed:${detail}`, { state: 'missing', reason: `mmcli -m ${this.modem}: ${detail}`, since: now });
    }
  }

}

const FAILED_REASONS: Record<string, string> = {
  'sim-missing': 'SIM not inserted',
  'sim-error': 'SIM failure',
  'unknown-capabilities': 'modem capabilities unknown',
  'esim-without-profiles': 'eSIM has no profile',
};

function healthOf(reading: MmcliModemReading, status: ModemStatus): [string, DeviceHealth] {
  const since = status.at;
  if (reading.state === 'failed') {
    const why = FAILED_REASONS[reading.failedReason ?? ''] ?? `modem failed (${reading.failedReason ?? 'no reason given'})`;
    return [`failed:${why}`, { state: 'degraded', reason: why, since }];
  }
  if (reading.state === 'locked') return ['locked', { state: 'degraded', reason: 'SIM PIN required', since }];
  if (status.registration === 'home' || status.registration === 'roaming') {
    const signal = status.rssiDbm !== undefined ? `${status.rssiDbm} dBm` : `${reading.signalPercent ?? '?'} %`;
    const detail = [status.operator, status.tech, signal, status.registration].filter(Boolean).join(', ');
    return [`ok:${status.registration}`, { state: 'ok', detail, since }];
  }
  return [`degraded:${status.registration}`, { state: 'degraded', reason: `not registered: registration ${status.registration.replace('_', ' ')} (modem ${reading.state})`, since }];
}
