// A device the car does not have ('none' in config): its health says so on every screen, rather
// than the daemon pretending the device is fine or failing to start.
import { EventEmitter } from 'node:events';
import type { DeviceHealth, InputName, ModemSource, ModemSourceEvents, ModemStatus, VehicleInputs, VehicleInputsEvents } from './types.js';

const notFitted = (): DeviceHealth => ({ state: 'missing', reason: 'not fitted', since: Date.now() });

export class NoModem extends EventEmitter<ModemSourceEvents> implements ModemSource {
  private readonly h = notFitted();
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
  private readonly h = notFitted();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  state(): Partial<Record<InputName, boolean>> {
    return {};
  }
  health(): DeviceHealth {
    return this.h;
  }
}
