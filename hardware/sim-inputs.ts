// Simulated VehicleInputs for `mdt demo` and tests of the daemon: the demo presses the
// emergency button or switches the lights from a script or the UI, without serial hardware.
import { EventEmitter } from 'node:events';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';
import {
  type Clock,
  type DeviceHealth,
  type InputEvent,
  type InputName,
  type VehicleInputs,
  type VehicleInputsEvents,
  systemClock,
} from './types.js';

/** One scripted step: after `afterMs` from start (or from the previous step), set an input. */
export interface InputScriptStep {
  afterMs: number;
  input: InputName;
  active: boolean;
}

export interface SimInputsOptions {
  /** Levels at start; default ignition on, everything else off (a car on patrol). */
  initial?: Partial<Record<InputName, boolean>>;
  /** Steps played after start(), each relative to the previous one. */
  script?: InputScriptStep[];
  /** Repeat the script forever (demo loops). */
  loop?: boolean;
  clock?: Clock;
  log?: HardwareLogger;
}

export class SimInputs extends EventEmitter<VehicleInputsEvents> implements VehicleInputs {
  private readonly levels: Partial<Record<InputName, boolean>>;
  private readonly script: InputScriptStep[];
  private readonly loop: boolean;
  private readonly clock: Clock;
  private readonly log: HardwareLogger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private currentHealth: DeviceHealth;

  constructor(options: SimInputsOptions = {}) {
    super();
    this.levels = { emergency: false, ignition: true, lights: false, ...options.initial };
    this.script = options.script ?? [];
    this.loop = options.loop ?? false;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.currentHealth = { state: 'missing', reason: 'not started', since: this.clock.now() };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.currentHealth = { state: 'ok', detail: 'simulated', since: this.clock.now() };
    emitSafely(this, this.log, 'health', this.currentHealth);
    this.playFrom(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  state(): Partial<Record<InputName, boolean>> {
    return { ...this.levels };
  }

  health(): DeviceHealth {
    return this.currentHealth;
  }

  /** Sets an input now, as if the officer pressed the button; emits only on a change. */
  set(input: InputName, active: boolean): InputEvent | undefined {
    if (this.levels[input] === active) return undefined;
    this.levels[input] = active;
    const event: InputEvent = { input, active, at: this.clock.now() };
    emitSafely(this, this.log, 'input', event);
    return event;
  }

  /** Presses and releases: the emergency button is momentary on most radios. */
  press(input: InputName, holdMs = 200): void {
    this.set(input, true);
    setTimeout(() => this.set(input, false), holdMs).unref();
  }

  private playFrom(index: number): void {
    if (!this.running || this.script.length === 0) return;
    if (index >= this.script.length) {
      if (this.loop) this.playFrom(0);
      return;
    }
    const step = this.script[index]!;
    this.timer = setTimeout(() => {
      this.set(step.input, step.active);
      this.playFrom(index + 1);
    }, step.afterMs);
  }
}
