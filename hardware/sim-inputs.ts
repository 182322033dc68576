// Scriptable vehicle inputs for the demo and tests: `set('emergency', true)` behaves like the
// interface module reporting the emergency button pressed.
import { EventEmitter } from 'node:events';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';
import { type Clock, type DeviceHealth, type InputName, type VehicleInputs, type VehicleInputsEvents, systemClock } from './types.js';

export class SimInputs extends EventEmitter<VehicleInputsEvents> implements VehicleInputs {
  private readonly levels: Partial<Record<InputName, boolean>> = { ignition: true, lights: false, emergency: false };
  private currentHealth: DeviceHealth;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly log: HardwareLogger = silentLogger,
  ) {
    super();
    this.currentHealth = { state: 'missing', reason: 'not started', since: clock.now() };
  }

  async start(): Promise<void> {
    this.currentHealth = { state: 'ok', detail: 'simulated inputs', since: this.clock.now() };
    emitSafely(this, this.log, 'health', this.currentHealth);
  }

  async stop(): Promise<void> {}

  state(): Partial<Record<InputName, boolean>> {
    return { ...this.levels };
  }

  health(): DeviceHealth {
    return this.currentHealth;
  }

  /** Changes an input; emits only on an actual change of level, as the real module does. */
  set(input: InputName, active: boolean): void {
    if (this.levels[input] === active) return;
    this.levels[input] = active;
    emitSafely(this, this.log, 'input', { input, active, at: this.clock.now() });
  }
}
