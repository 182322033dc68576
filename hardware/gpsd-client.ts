// GpsSource backed by gpsd's JSON protocol over TCP (gpsd_json(5), protocol 3.x).
//
// Written in the project because the npm clients swallow connection errors, crash on a bad
// line or never reconnect (docs/hardware.md; SignalK #1270, #2306, PR #2503). This client:
// - re-sends `?WATCH={"enable":true,"json":true}` on every connect (gpsd forgets watchers);
// - checks VERSION `proto_major` is 3;
// - reconnects with jittered backoff (0.5 s .. 30 s, reset by the first TPV of a session) when
//   gpsd is absent, restarted or silent;
// - treats DEVICES/DEVICE removal as the receiver being unplugged (health `missing`);
// - filters implausible fixes and marks the last fix stale with its age;
// - reports GPS time minus system time;
// - never throws into the daemon: start() resolves at once, faults become health and logs.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Backoff } from './backoff.js';
import { CountedWarnings } from './counted-log.js';
import { type PlausibilityLimits, PlausibilityFilter } from './gps-plausibility.js';
import {
  GPSD_MAX_LINE_CHARS,
  type GpsdDevice,
  type GpsdReport,
  type GpsdSky,
  type GpsdTpv,
  type GpsdVersion,
  isDeviceDeactivated,
  parseGpsdLine,
} from './gpsd-reports.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { HealthState } from './health-state.js';
import { emitSafely } from './safe-emit.js';
import type { Random } from './seeded-random.js';
import { type Clock, type DeviceHealth, type GpsFix, type GpsSource, type GpsSourceEvents, systemClock } from './types.js';

export interface GpsdSourceOptions {
  host?: string;
  /** gpsd's IANA port is 2947. */
  port?: number;
  log?: HardwareLogger;
  /** Stamps `receivedAt` and measures fix age and clock offset. */
  clock?: Clock;
  /** A fix older than this (by arrival) is stale. Default 5000 ms. */
  staleAfterMs?: number;
  /**
   * With a receiver attached gpsd reports at least a mode-1 TPV every cycle (1 s), so this long
   * without a byte means the link is dead even if TCP has not noticed. Default 5000 ms.
   */
  silenceTimeoutMs?: number;
  /** Reconnect delays. Default 500 ms .. 30 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** For deterministic jitter in tests. */
  random?: Random;
  limits?: Partial<PlausibilityLimits>;
}

export interface GpsdStats {
  connects: number;
  linesRejected: number;
  fixesAccepted: number;
  fixesRejected: number;
}

/** The protocol major version this client speaks (gpsd >= 3.0; 3.22 sends 3.14). */
const SUPPORTED_PROTO_MAJOR = 3;
const WATCH_COMMAND = '?WATCH={"enable":true,"json":true}\n';
/** Asks gpsd for its device list; used as a keep-alive probe when no receiver is attached. */
const DEVICES_PROBE = '?DEVICES;\n';
/** A partial line longer than this cannot be a gpsd report; drop it rather than buffer forever. */
const MAX_PARTIAL_CHARS = GPSD_MAX_LINE_CHARS * 4;

type LinkState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'unreachable'; error: string }
  | { kind: 'incompatible'; version: string }
  /** We dropped a connection that went quiet; kept while reconnecting, since gpsd itself may be fine. */
  | { kind: 'silent' }
  | { kind: 'connected' };

export class GpsdSource extends EventEmitter<GpsSourceEvents> implements GpsSource {
  readonly host: string;
  readonly port: number;
  private readonly log: HardwareLogger;
  private readonly clock: Clock;
  private readonly staleAfterMs: number;
  private readonly silenceTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly filter: PlausibilityFilter;
  private readonly warnings: CountedWarnings;

  private running = false;
  private socket: net.Socket | undefined;
  private partial = '';
  private discardingOverlongLine = false;
  private link: LinkState = { kind: 'idle' };
  private reconnectTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private probeOutstanding = false;
  /** Paths of receivers gpsd reports as active; undefined until the first DEVICES. */
  private devices: Set<string> | undefined;
  private lastMode = 0;
  private satellitesUsed: number | undefined;
  private lastFix: GpsFix | undefined;
  private offsetMs: number | undefined;
  private readonly healthState: HealthState;
  private readonly counters: GpsdStats = { connects: 0, linesRejected: 0, fixesAccepted: 0, fixesRejected: 0 };

  constructor(options: GpsdSourceOptions = {}) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 2947;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.staleAfterMs = options.staleAfterMs ?? 5000;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? 5000;
    this.backoff = new Backoff({
      minMs: options.backoff?.minMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
      random: options.random,
    });
    this.filter = new PlausibilityFilter(options.limits);
    this.warnings = new CountedWarnings(this.log);
    this.healthState = new HealthState(this.log, 'GPS', this.clock, (h) => emitSafely(this, this.log, 'health', h));
  }

  /** Starts connecting in the background; gpsd being down is a health state, not an error. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.staleTimer = setInterval(() => this.refreshHealth(), Math.max(100, Math.min(1000, this.staleAfterMs / 2)));
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.silenceTimer);
    clearInterval(this.staleTimer);
    this.reconnectTimer = this.silenceTimer = this.staleTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
    this.link = { kind: 'idle' };
    this.healthState.set('stopped', { state: 'missing', reason: 'stopped', since: this.clock.now() });
  }

  latest(): GpsFix | undefined {
    return this.lastFix;
  }

  /** Current health; a stale or missing fix's reason carries its age at the time of the call. */
  health(): DeviceHealth {
    if (!this.running) return this.healthState.current;
    const { health } = this.deriveHealth();
    return { ...health, since: this.healthState.current.since };
  }

  clockOffsetMs(): number | undefined {
    return this.offsetMs;
  }

  /** Milliseconds since the last accepted fix arrived, or undefined before the first. */
  fixAgeMs(): number | undefined {
    return this.lastFix ? this.clock.now() - this.lastFix.receivedAt : undefined;
  }

  /** True when there is a last fix but it is older than `staleAfterMs`. */
  isStale(): boolean {
    const age = this.fixAgeMs();
    return age !== undefined && age > this.staleAfterMs;
  }

  /** Current fix mode as gpsd last reported it: 0 unknown, 1 no fix, 2 = 2D, 3 = 3D. */
  mode(): number {
    return this.lastMode;
  }

  /** True while a TCP session with a compatible gpsd is up. */
  isConnected(): boolean {
    return this.link.kind === 'connected';
  }

  stats(): Readonly<GpsdStats> {
    return { ...this.counters };
  }

  private connect(): void {
    if (!this.running) return;
    // After a silence the screen keeps saying "silent" rather than flashing "connecting".
    if (this.link.kind !== 'silent') this.link = { kind: 'connecting' };
    this.partial = '';
    this.discardingOverlongLine = false;
    this.devices = undefined;
    this.probeOutstanding = false;
    const socket = net.createConnection({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.counters.connects++;
      this.log.info({ host: this.host, port: this.port }, 'gpsd connected; watching');
      socket.write(WATCH_COMMAND);
      this.armSilenceTimer();
    });
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const error = err.code ?? err.message;
      if (this.link.kind !== 'incompatible') this.link = { kind: 'unreachable', error };
      const fields = { host: this.host, port: this.port, code: err.code, attempt: this.backoff.attempts() + 1 };
      const hint =
        err.code === 'ECONNREFUSED'
          ? `gpsd refused connection on ${this.host}:${this.port} (is gpsd running, or gpsd.socket enabled?)`
          : `gpsd connection error on ${this.host}:${this.port}`;
      this.warnings.warn(`socket:${error}`, fields, hint);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      clearTimeout(this.silenceTimer);
      this.silenceTimer = undefined;
      if (this.link.kind === 'connected') {
        this.log.warn({ host: this.host, port: this.port }, 'gpsd connection closed; will reconnect');
        this.link = { kind: 'unreachable', error: 'connection closed' };
      }
      this.refreshHealth();
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delayMs = this.backoff.next();
    this.log.debug({ host: this.host, port: this.port, attempt: this.backoff.attempts(), delayMs }, 'gpsd reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delayMs);
  }

  private armSilenceTimer(): void {
    if (this.silenceTimer) {
      this.silenceTimer.refresh();
      return;
    }
    this.silenceTimer = setTimeout(() => this.onSilence(), this.silenceTimeoutMs);
  }

  private onSilence(): void {
    this.silenceTimer = undefined;
    const socket = this.socket;
    if (!socket || !this.running) return;
    // With no receiver attached gpsd legitimately says nothing, so ask it something before
    // declaring the link dead; with a receiver, silence already means the link is broken.
    const receiverAttached = (this.devices?.size ?? 0) > 0;
    if (!receiverAttached && !this.probeOutstanding && this.link.kind === 'connected') {
      this.probeOutstanding = true;
      socket.write(DEVICES_PROBE);
      this.armSilenceTimer();
      return;
    }
    this.log.warn({ host: this.host, port: this.port, silentMs: this.silenceTimeoutMs }, 'gpsd silent; reconnecting');
    this.link = { kind: 'silent' };
    socket.destroy();
  }

  private onData(chunk: string): void {
    this.probeOutstanding = false;
    this.armSilenceTimer();
    const pieces = (this.partial + chunk).split('\n');
    this.partial = pieces.pop() ?? '';
    for (const piece of pieces) {
      if (this.discardingOverlongLine) {
        this.discardingOverlongLine = false;
        continue;
      }
      this.onLine(piece);
    }
    if (this.partial.length > MAX_PARTIAL_CHARS) {
      this.rejectLine(`no newline within ${MAX_PARTIAL_CHARS} chars`, this.partial.length);
      this.partial = '';
      this.discardingOverlongLine = true;
    }
  }

  private onLine(line: string): void {
    if (line.trim().length === 0) return;
    // A report handler must never take the connection down: anything unexpected is logged.
    try {
      const result = parseGpsdLine(line);
      if (result.kind === 'rejected') this.rejectLine(result.reason, line.length);
      else if (result.kind === 'ignored') this.log.debug({ class: result.class }, 'gpsd report ignored');
      else this.onReport(result.report);
    } catch (err) {
      this.log.error({ err, length: line.length }, 'gpsd report handling failed; line dropped');
    }
  }

  private rejectLine(reason: string, length: number): void {
    this.counters.linesRejected++;
    this.warnings.warn(`line:${reason}`, { reason, length }, 'gpsd line rejected');
  }

  private onReport(report: GpsdReport): void {
    switch (report.class) {
      case 'VERSION':
        return this.onVersion(report);
      case 'DEVICES':
        this.devices = new Set(report.devices.filter((d) => !isDeviceDeactivated(d) && d.path).map((d) => d.path!));
        this.log.info({ devices: [...this.devices] }, 'gpsd devices');
        if (this.devices.size === 0) this.filter.reset();
        return this.refreshHealth();
      case 'DEVICE':
        return this.onDevice(report);
      case 'WATCH':
        this.log.debug({ enable: report.enable, json: report.json }, 'gpsd watch acknowledged');
        return;
      case 'ERROR':
        this.log.warn({ message: report.message }, 'gpsd reported an error');
        return;
      case 'SKY':
        return this.onSky(report);
      case 'TPV':
        return this.onTpv(report);
    }
  }

  private onVersion(version: GpsdVersion): void {
    const v = `${version.proto_major}.${version.proto_minor}`;
    if (version.proto_major !== SUPPORTED_PROTO_MAJOR) {
      this.link = { kind: 'incompatible', version: v };
      this.log.error(
        { release: version.release, proto: v, supported: SUPPORTED_PROTO_MAJOR },
        'gpsd speaks an unsupported protocol version; upgrade or replace gpsd',
      );
      this.refreshHealth();
      this.socket?.destroy();
      return;
    }
    this.link = { kind: 'connected' };
    this.log.info({ release: version.release, proto: v }, 'gpsd version');
    this.refreshHealth();
  }

  private onDevice(device: GpsdDevice): void {
    if (!device.path) return;
    this.devices ??= new Set();
    if (isDeviceDeactivated(device)) {
      if (this.devices.delete(device.path)) this.log.warn({ path: device.path }, 'GPS receiver removed from gpsd');
      if (this.devices.size === 0) {
        // The next receiver may be elsewhere: do not judge its first fix against the old one.
        this.filter.reset();
        this.lastMode = 0;
      }
    } else if (!this.devices.has(device.path)) {
      this.devices.add(device.path);
      this.log.info({ path: device.path, driver: device.driver }, 'GPS receiver attached to gpsd');
    }
    this.refreshHealth();
  }

  private onSky(sky: GpsdSky): void {
    this.satellitesUsed = sky.uSat ?? sky.satellites?.filter((s) => s.used).length ?? this.satellitesUsed;
  }

  private onTpv(tpv: GpsdTpv): void {
    // gpsd may report TPVs for a device before announcing it (e.g. after our reconnect).
    if (tpv.device && this.devices && !this.devices.has(tpv.device)) this.devices.add(tpv.device);
    // The backoff resets on data, not on VERSION: a gpsd whose receiver keeps going silent is
    // then re-checked at growing intervals instead of every few seconds.
    this.backoff.reset();
    this.lastMode = tpv.mode;
    if (tpv.mode < 2) return this.refreshHealth();
    if (tpv.lat === undefined || tpv.lon === undefined) {
      this.counters.fixesRejected++;
      this.warnings.warn('fix:no-position', { mode: tpv.mode }, 'GPS fix rejected: no position');
      return;
    }
    const receivedAt = this.clock.now();
    const gpsTime = tpv.time === undefined ? Number.NaN : Date.parse(tpv.time);
    const hasTime = Number.isFinite(gpsTime);
    const fix: GpsFix = {
      lat: tpv.lat,
      lon: tpv.lon,
      mode: tpv.mode === 3 ? '3d' : '2d',
      ...(tpv.speed !== undefined && { speed: tpv.speed }),
      ...(tpv.track !== undefined && { track: tpv.track }),
      ...((tpv.altMSL ?? tpv.alt) !== undefined && { altMsl: tpv.altMSL ?? tpv.alt }),
      ...(tpv.eph !== undefined && { eph: tpv.eph }),
      ...(this.satellitesUsed !== undefined && { satellitesUsed: this.satellitesUsed }),
      // Without a GPS time (some receivers' first fix) the arrival time is the best we have.
      fixTime: hasTime ? gpsTime : receivedAt,
      receivedAt,
    };
    const prev = this.lastFix;
    // gpsd sends one TPV per sentence of a cycle, often repeating the same fix: pass it on once.
    if (prev && prev.fixTime === fix.fixTime && prev.lat === fix.lat && prev.lon === fix.lon && hasTime) {
      this.lastFix = { ...prev, receivedAt };
      return this.refreshHealth();
    }
    const verdict = this.filter.judge(fix);
    if (!verdict.ok) {
      this.counters.fixesRejected++;
      this.warnings.warn(`fix:${verdict.reason.split(' ')[0]}`, { reason: verdict.reason }, 'GPS fix rejected as implausible');
      return this.refreshHealth();
    }
    if (verdict.reason) this.log.warn({ reason: verdict.reason }, 'GPS position reset');
    // Includes gpsd's reporting latency (tens of ms), far below the skew that matters (seconds).
    if (hasTime) this.offsetMs = fix.fixTime - receivedAt;
    if (!prev) this.log.info({ mode: fix.mode, clockOffsetMs: this.offsetMs }, 'GPS fix acquired');
    this.lastFix = fix;
    this.counters.fixesAccepted++;
    this.refreshHealth();
    emitSafely(this, this.log, 'fix', fix);
  }

  /** Health from the link, devices and fix; the key ignores the age so events fire on transitions only. */
  private deriveHealth(): { health: DeviceHealth; key: string } {
    const since = this.clock.now();
    const where = `${this.host}:${this.port}`;
    const age = this.fixAgeMs();
    const ageText = age === undefined ? 'no fix yet' : `last fix ${Math.round(age / 1000)} s old`;
    switch (this.link.kind) {
      case 'idle':
      case 'connecting':
        return { key: 'connecting', health: { state: 'missing', reason: `connecting to gpsd at ${where}`, since } };
      case 'unreachable':
        return { key: 'unreachable', health: { state: 'missing', reason: `gpsd unreachable at ${where} (${this.link.error}); ${ageText}`, since } };
      case 'silent':
        return {
          key: 'silent',
          health: { state: 'degraded', reason: `gpsd at ${where} sends nothing (receiver silent or link stalled); reconnecting; ${ageText}`, since },
        };
      case 'incompatible':
        return { key: 'incompatible', health: { state: 'missing', reason: `gpsd protocol ${this.link.version} unsupported (need ${SUPPORTED_PROTO_MAJOR}.x)`, since } };
      case 'connected':
        break;
    }
    if (this.devices && this.devices.size === 0) {
      return { key: 'no-device', health: { state: 'missing', reason: `no GPS receiver attached to gpsd; ${ageText}`, since } };
    }
    if (this.lastMode < 2) {
      return { key: 'no-fix', health: { state: 'degraded', reason: `no fix (gpsd mode ${this.lastMode}); ${ageText}`, since } };
    }
    if (!this.lastFix) {
      return { key: 'no-plausible-fix', health: { state: 'degraded', reason: 'fixes reported but none plausible yet', since } };
    }
    if (this.isStale()) {
      return { key: 'stale', health: { state: 'degraded', reason: `stale fix: ${ageText}`, since } };
    }
    return { key: `ok:${this.lastFix.mode}`, health: { state: 'ok', detail: `${this.lastFix.mode} fix`, since } };
  }

  private refreshHealth(): void {
    if (!this.running) return;
    const { health, key } = this.deriveHealth();
    this.healthState.set(key, health);
  }

}
