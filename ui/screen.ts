// What the in-car screen needs from the daemon: read models, live events, and the officer's
// actions. The UI never touches Automerge, MQTT or hardware; daemon/vehicle.ts builds this.
import type { EventEmitter } from 'node:events';
import type { DeviceHealth } from '../hardware/types.js';
import type { BoardView, UnitStatus } from '../sync/schema.js';
import type { LinkState } from '../sync/mqtt-transport.js';
import type { AvlPosition } from '../sync/avl.js';
import type { Alert, Presence } from '../sync/presence.js';
import type { Department } from '../daemon/department.js';

export interface UnitIdentity {
  vehicleId: string;
  unitId: string;
  callSign: string;
  sector: string;
  precinct: string;
  homeBeat: string;
}

export interface VehicleHealth {
  gps: DeviceHealth;
  modem: DeviceHealth;
  inputs: DeviceHealth;
  broker: LinkState;
  /** `pending`: some of this car's changes have not yet reached the precinct. */
  sync: { docId: string; pending: boolean; peer: string };
}

export interface ScreenEvents {
  board: [BoardView];
  avl: [AvlPosition];
  presence: [Presence];
  alert: [Alert];
  health: [VehicleHealth];
}

export interface VehicleActions {
  setStatus(status: UnitStatus, reason?: string): Promise<void>;
  acceptCall(callId: string): Promise<void>;
  addNote(callId: string, text: string): Promise<void>;
  clearCall(callId: string, disposition: string): Promise<void>;
  emergency(): Promise<void>;
}

export interface VehicleScreen {
  identity: UnitIdentity;
  department: Department;
  events: EventEmitter<ScreenEvents>;
  board(): BoardView;
  health(): VehicleHealth;
  positions(): Record<string, AvlPosition>;
  presence(): Record<string, Presence>;
  alerts(): Alert[];
  actions: VehicleActions;
}
