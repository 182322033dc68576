// The hardware ports the daemon consumes. Each has a real adapter and a simulator; the daemon
// only sees these interfaces (built in daemon/vehicle.ts), so tests and the demo swap adapters
// through config without touching the core.
import type { EventEmitter } from 'node:events';

/** Device health as shown on /healthz, the in-car screen and the unit's presence. */
export type DeviceHealth =
  | { state: 'ok'; detail?: string; since: number }
  | { state: 'degraded'; reason: string; since: number }
  | { state: 'missing'; reason: string; since: number };

export type FixMode = 'none' | '2d' | '3d';

/** One position fix. Times are epoch ms; `fixTime` is GPS time, `receivedAt` the system clock. */
export interface GpsFix {
  lat: number;
  lon: number;
  mode: FixMode;
  /** Ground speed in m/s, if the receiver reported one. */
  speed?: number;
  /** Course over ground, degrees true. */
  track?: number;
  altMsl?: number;
  /** Horizontal error estimate in metres (gpsd `eph`; relative quality only). */
  eph?: number;
  satellitesUsed?: number;
  fixTime: number;
  receivedAt: number;
}

export interface GpsSourceEvents {
  fix: [GpsFix];
  health: [DeviceHealth];
}

export interface GpsSource extends EventEmitter<GpsSourceEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Last accepted fix; its age is `now - receivedAt`. */
  latest(): GpsFix | undefined;
  health(): DeviceHealth;
  /** GPS time minus system time in ms, from the last fix with a time; undefined before one. */
  clockOffsetMs(): number | undefined;
}

export type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'not_registered' | 'unknown';

export interface ModemStatus {
  /** Received signal strength in dBm; undefined when the modem says "unknown" (CSQ 99). */
  rssiDbm?: number;
  /** 0..5 for the status bar. */
  bars: number;
  registration: Registration;
  operator?: string;
  /** Access technology, e.g. 'LTE', 'UMTS', 'GSM'. */
  tech?: string;
  at: number;
}

export interface ModemSourceEvents {
  status: [ModemStatus];
  health: [DeviceHealth];
}

export interface ModemSource extends EventEmitter<ModemSourceEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  latest(): ModemStatus | undefined;
  health(): DeviceHealth;
}

export type InputName = 'emergency' | 'ignition' | 'lights';

/** A change of one of the car's wired inputs, timestamped when the daemon saw it. */
export interface InputEvent {
  input: InputName;
  active: boolean;
  at: number;
}

export interface VehicleInputsEvents {
  input: [InputEvent];
  health: [DeviceHealth];
}

export interface VehicleInputs extends EventEmitter<VehicleInputsEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Current state of every input known so far. */
  state(): Partial<Record<InputName, boolean>>;
  health(): DeviceHealth;
}

/** Injected time source so staleness and timeouts are testable without waiting. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
