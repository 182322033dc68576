// A device the car does not have ('none' in config): its health says so on every screen, rather
// than the daemon pretending the device is fine or failing to start.
import { EventEmitter } from 'node:events';
import {
  type Clock,
  type DeviceHealth,
  type InputName,
  type ModemSource,
  type ModemSourceEvents,
  type ModemStatus,
  type VehicleInputs,
  type VehicleInputsEvents,
  systemClock,
} from './types.js';

const notFitted = (clock: Clock): DeviceHealth => ({ state: 'missing', reason: 'not fitted', since: clock.now() });

export class NoModem extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly h: DeviceHealth;
  constructor(clock: Clock = systemClock) {
    super();
    this.h = notFitted(clock);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  latest(): ModemStatus | undefined {
    return undefined;
  }
  health(): DeviceHealth {
    return this.h;
  }
}

export class NoInputs extends EventEmitter<VehicleInputsEvents> implements VehicleInputs {
  private readonly h: DeviceHealth;
  constructor(clock: Clock = systemClock) {
    super();
    this.h = notFitted(clock);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  state(): Partial<Record<InputName, boolean>> {
    return {};
  }
  health(): DeviceHealth {
    return this.h;
  }
}
