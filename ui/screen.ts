// What the in-car screen needs from the daemon: read models, live events, and the officer's
// actions. The UI never touches Automerge, MQTT or hardware; daemon/vehicle.ts builds this.
import type { EventEmitter } from 'node:events';
import type { DeviceHealth } from '../hardware/types.js';
import type { BoardView, UnitStatus } from '../sync/schema.js';
import type { LinkState } from '../sync/mqtt-transport.js';
import type { AvlPosition } from '../sync/avl.js';
import type { Alert, Presence } from '../sync/presence.js';
import type { Department, Station } from '../daemon/department.js';
import type { Roster, RosterOfficer } from '../sync/roster.js';

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
  /**
   * `pending`: some of this car's changes have not yet reached the precinct; `waiting`: how many
   * officer actions made on this car since it was last in sync with the precinct.
   */
  sync: { docId: string; pending: boolean; peer: string; waiting: number };
  /** The last GPS fix (for the header: fix mode and age). */
  gpsFix?: { mode: 'none' | '2d' | '3d'; at: number; eph?: number; satellites?: number };
  /** The last modem report (for the header: signal bars and technology). */
  modemStatus?: { bars: number; rssiDbm?: number; tech?: string; operator?: string; registration: string };
}

export interface ScreenEvents {
  board: [BoardView];
  avl: [AvlPosition];
  presence: [Presence];
  alert: [Alert];
  health: [VehicleHealth];
  roster: [Roster];
}

export interface VehicleActions {
  setStatus(status: UnitStatus, reason?: string): Promise<void>;
  acceptCall(callId: string): Promise<void>;
  addNote(callId: string, text: string): Promise<void>;
  clearCall(callId: string, disposition: string): Promise<void>;
  emergency(): Promise<void>;
  /** Board sign-on of the officer (the screen checked the PIN against the roster first). */
  signOn(officer: RosterOfficer): Promise<void>;
  signOff(officer: RosterOfficer): Promise<void>;
  /** A CARE report or a watch meeting notice read by this unit. */
  markRead(reportId: string): Promise<void>;
  /** A message from this unit to units of the sector and/or dispatch. */
  sendMessage(to: MessageRecipient[], text: string): Promise<void>;
  markMessageRead(messageId: string): Promise<void>;
}

export type MessageRecipient = { kind: 'unit'; id: string } | { kind: 'dispatch' };

export interface VehicleScreen {
  identity: UnitIdentity;
  department: Department;
  events: EventEmitter<ScreenEvents>;
  board(): BoardView;
  health(): VehicleHealth;
  positions(): Record<string, AvlPosition>;
  presence(): Record<string, Presence>;
  alerts(): Alert[];
  /** The sector roster this car holds (server side only: it carries PIN hashes). */
  roster(): Roster | undefined;
  /** The department's station directory for the beat page. */
  stations: Station[];
  actions: VehicleActions;
}
