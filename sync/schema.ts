// The sector board's vocabulary: branded ids, the plain read model every other part of the
// system codes against, the stored Automerge shape (only sync/board.ts and sync/ops/ touch it),
// the error class and the logger port. Nothing here imports Automerge at runtime, so the UI and
// the HTTP layer can import these types without loading the wasm.
import type { ImmutableString } from '@automerge/automerge';

type Brand<T, B extends string> = T & { readonly __brand: B };
export type SectorId = Brand<string, 'SectorId'>;
export type UnitId = Brand<string, 'UnitId'>;
export type CallId = Brand<string, 'CallId'>;
export type BeatId = Brand<string, 'BeatId'>;
export type VehicleId = Brand<string, 'VehicleId'>;
export type ReportId = Brand<string, 'ReportId'>;
export type MessageId = Brand<string, 'MessageId'>;

/**
 * Version of the stored document shape. A daemon opens documents of this version or older
 * (migrating them forward in a change of its own) and refuses newer ones: an old daemon writing
 * fields it does not understand into a newer document would corrupt it for every replica.
 */
export const SCHEMA_VERSION = 1;

export const UNIT_STATUSES = [
  'available',
  'dispatched',
  'en_route',
  'on_scene',
  'transporting',
  'out_of_service',
  'off_duty',
  'emergency',
] as const;
export type UnitStatus = (typeof UNIT_STATUSES)[number];
/** 1 = emergency (dispatched immediately), 4 = lowest. */
export type Priority = 1 | 2 | 3 | 4;
export const PATROL_MODES = ['car', 'foot', 'bicycle'] as const;
export type PatrolMode = (typeof PATROL_MODES)[number];

/** Who made a change: a vehicle (car), an operator at the precinct (dispatcher, Watch Commander, CARE), or the dispatch policy itself. */
export type Actor =
  | { kind: 'vehicle'; vehicleId: VehicleId; unitId?: UnitId }
  | { kind: 'operator'; operatorId: string; role: 'dispatcher' | 'watch_commander' | 'care' }
  | { kind: 'policy'; precinct: string };
export const OPERATOR_ROLES = ['dispatcher', 'watch_commander', 'care'] as const;

export interface OpContext {
  by: Actor;
  /** Epoch milliseconds of the action on the acting device's clock. */
  at: number;
}

export const CALL_STATES = ['pending', 'held', 'dispatched', 'en_route', 'on_scene', 'cleared', 'cancelled', 'transferred'] as const;
export type CallState = (typeof CALL_STATES)[number];
/** States in which a call is no longer this board's to work: cleared, cancelled, or handed to another sector's board. */
export const CLOSED_CALL_STATES: ReadonlySet<CallState> = new Set(['cleared', 'cancelled', 'transferred']);
export const isClosedCallState = (s: CallState): boolean => CLOSED_CALL_STATES.has(s);
export const CALL_EVENTS = [
  'created',
  'assigned',
  'accepted',
  'en_route',
  'on_scene',
  'transporting',
  'held',
  'released',
  'note',
  'cleared',
  'cancelled',
  'unassigned',
  'updated',
  'transferred',
] as const;
export type CallEventKind = (typeof CALL_EVENTS)[number];

// ---------------------------------------------------------------------------------------------
// Read model: plain JSON, no Automerge types. Derived deterministically from the document, so
// every replica holding the same changes renders exactly the same view.

export interface UnitHistoryEntry {
  status: UnitStatus;
  at: number;
  by: Actor;
  reason?: string;
  callId?: string;
}

export interface UnitView {
  id: string;
  callSign: string;
  officers: string[];
  homeBeat: string;
  mode: PatrolMode;
  status: UnitStatus;
  statusAt: number;
  statusReason?: string;
  /** The call the unit is working, absent when free or when that call was closed. */
  callId?: string;
  rider?: string;
  /** Calls held for this unit (EIDO `stackedOnIncidentId`): they wait for it to come free. */
  stacked: string[];
  history: UnitHistoryEntry[];
}

export interface CallNote {
  /** Display label of the author (unit, vehicle or operator id). */
  author: string;
  by: Actor;
  at: number;
  text: string;
}

/** The fields of a call a CAD update may change (updateCall). */
export const CALL_UPDATE_FIELDS = ['type', 'priority', 'late', 'address', 'beat', 'lat', 'lon', 'callerNotes'] as const;
export type CallUpdateField = (typeof CALL_UPDATE_FIELDS)[number];

/** One field of an update, as the writer saw it (`from`) and as it set it (`to`). */
export interface CallChange {
  field: CallUpdateField;
  from: string | number | boolean | null;
  to: string | number | boolean;
}

export interface CallHistoryEntry {
  at: number;
  by: Actor;
  event: CallEventKind;
  unitId?: string;
  reason?: string;
  /** On `updated`: what changed. */
  changes?: CallChange[];
  /** On `transferred`: the sector whose board the call went to. */
  sector?: string;
}

export interface CallHold {
  since: number;
  deadline: number;
  reason: string;
  /** The unit (normally the beat officer) the call waits for. */
  unitId?: string;
}

export interface CallView {
  id: string;
  cadNumber: string;
  type: string;
  priority: Priority;
  late: boolean;
  address: string;
  beat: string;
  lat?: number;
  lon?: number;
  callerNotes: string;
  receivedAt: number;
  dispatchedAt?: number;
  enRouteAt?: number;
  onSceneAt?: number;
  clearedAt?: number;
  cancelledAt?: number;
  state: CallState;
  /** Units attached to the call, in order of first assignment; the first is the primary unit. */
  assigned: string[];
  hold?: CallHold;
  notes: CallNote[];
  /** Agency disposition code (see sync/registries/dispositions.ts for the APCO 1.111 mapping). */
  disposition?: string;
  cancelReason?: string;
  /** On the board the call left: where it went. The state is `transferred` unless a unit of this board took it concurrently. */
  transferredTo?: { sector: string; at: number; by: Actor; reason: string };
  /** On the board that received a transferred call: where it came from (same call id there). */
  transferredFrom?: { sector: string; callId: string; at: number };
  history: CallHistoryEntry[];
}

export type Recipient = { kind: 'unit'; id: string } | { kind: 'supervisor'; id: string };

export interface CareReportView {
  id: string;
  beat: string;
  callId?: string;
  title: string;
  body: string;
  incidentAt: number;
  deliveredAt: number;
  by: Actor;
  recipients: Recipient[];
  /** Read receipts: recipient id -> epoch ms of the first read seen by this replica's merge. */
  readBy: Record<string, number>;
}

/**
 * A party to a message: a unit of the sector, or dispatch (the operators at the precinct). Read
 * receipts are keyed by the party's id; dispatch's is DISPATCH_ID, an id no unit may take.
 */
export type MessageParty = { kind: 'unit'; id: string } | { kind: 'dispatch'; id: typeof DISPATCH_ID };
export const DISPATCH_ID = 'dispatch';

export interface MessageView {
  id: string;
  from: MessageParty;
  to: MessageParty[];
  text: string;
  sentAt: number;
  by: Actor;
  /** Read receipts: party id (unit id, or `dispatch`) -> epoch ms of the first read. */
  readBy: Record<string, number>;
}

/** A neighborhood watch meeting the precinct announces to every unit of the sector. */
export interface NoticeView {
  id: string;
  title: string;
  /** The beat the meeting is about, when it is about one. */
  beat?: string;
  startsAt: number;
  place: string;
  details: string;
  postedAt: number;
  by: Actor;
  /** Read receipts per unit id. */
  readBy: Record<string, number>;
}

export interface BeatProfile {
  characteristics: string;
  resources: string[];
  crimeProblems: string[];
}

export interface BeatPlanView {
  id: string;
  problem: string;
  analysis: string;
  response: string;
  assessment: string;
  updatedAt: number;
  by: Actor;
}

export interface BeatView {
  id: string;
  name: string;
  profile: BeatProfile;
  plans: Record<string, BeatPlanView>;
  updatedAt: number;
}

export interface BoardView {
  schemaVersion: number;
  sector: string;
  epoch: string;
  /** Set once the precinct closed this epoch and opened the next one (see sync/epoch.ts). */
  closed?: { at: number; nextEpoch: string };
  /** Set on a board opened by an epoch cut: the epoch its open calls were carried from. */
  openedFrom?: { at: number; epoch: string };
  units: Record<string, UnitView>;
  calls: Record<string, CallView>;
  /** CARE reports only; messages and notices share the stored inbox map but have views of their own. */
  inbox: Record<string, CareReportView>;
  messages: Record<string, MessageView>;
  notices: Record<string, NoticeView>;
  beats: Record<string, BeatView>;
}

// ---------------------------------------------------------------------------------------------
// Stored shape. Every string is an ImmutableString (measured: plain strings are collaborative
// text in Automerge 3, 2.75x the bytes and 6x the ops) except the narrative people co-edit:
// beat profiles and beat plans. Entities live in maps keyed
// by id; state that several devices change (statuses, call progress, notes) is an append-only log
// of events in flat maps keyed by `${entityId}~${eventKey}` so concurrent inserts never collide and
// no nested container is ever created twice (two replicas creating the same nested map would make
// Automerge keep only one of them, silently dropping the other's events).

export type IStr = ImmutableString;

/**
 * Who wrote an entry, as one string: `v/{vehicleId}` or `v/{vehicleId}/{unitId}`,
 * `o/{operatorId}/{role}`, `p/{precinct}` ('/' is outside the id alphabet). One string costs
 * 17-23 B less per event on the wire than the map boards of the previous release hold
 * (LegacyStoredActor), which is still read: replicas of both kinds can share a board.
 */
export type StoredActor = IStr | LegacyStoredActor;

export interface LegacyStoredActor {
  kind: IStr;
  id: IStr;
  unit?: IStr;
  role?: IStr;
}

export interface StoredUnit {
  callSign: IStr;
  homeBeat: IStr;
  mode: IStr;
  officers: IStr[];
  createdAt: number;
}

export interface StoredUnitEvent {
  status: IStr;
  at: number;
  by: StoredActor;
  reason?: IStr;
  call?: IStr;
  /** Present on sign-on / sign-off events: the crew from then on. */
  officers?: IStr[];
  rider?: IStr;
}

export interface StoredCall {
  cadNumber: IStr;
  type: IStr;
  priority: number;
  late: boolean;
  address: IStr;
  beat: IStr;
  lat?: number;
  lon?: number;
  callerNotes: IStr;
  receivedAt: number;
  /** Written once, on a call created by a transfer from another sector's board. */
  transferredFrom?: { sector: IStr; callId: IStr; at: number };
}

/** The fields an `updated` event sets (and, under `was`, what the writer saw before). */
export interface StoredCallFields {
  type?: IStr;
  priority?: number;
  late?: boolean;
  address?: IStr;
  beat?: IStr;
  lat?: number;
  lon?: number;
  callerNotes?: IStr;
}

export interface StoredCallEvent {
  event: IStr;
  at: number;
  by: StoredActor;
  unit?: IStr;
  reason?: IStr;
  until?: number;
  disposition?: IStr;
  /** On `updated`: the fields set, and what the writer saw before (absent where there was nothing). */
  set?: StoredCallFields;
  was?: StoredCallFields;
  /** On `transferred`: the receiving sector. */
  sector?: IStr;
  /**
   * A narrative entry. Immutable once written: the narrative is collaborative at the level of
   * the log (entries from every device merge, in time order), not character by character, and
   * character-level text would cost one op per character (measured: a day's notes tripled the
   * board's ops and its load time) for edits nobody makes.
   */
  text?: IStr;
}

/**
 * Every entry of the stored inbox has the same envelope (deliveredAt, by, recipients, readBy), so
 * the epoch carry-over and the forwarding of late read receipts (sync/epoch.ts) treat all kinds
 * alike. `kind` tells them apart: absent on CARE reports (the version-1 shape), `message` or
 * `notice` otherwise. An inbox entry is written once; only its readBy map grows.
 */
export interface StoredReport {
  kind?: IStr;
  beat: IStr;
  callId?: IStr;
  title: IStr;
  body: IStr;
  incidentAt: number;
  deliveredAt: number;
  by: StoredActor;
  recipients: Array<{ kind: IStr; id: IStr }>;
  readBy: { [readerId: string]: number };
}

/** A message: recipients are `{ kind: unit, id }` or `{ kind: dispatch, id: 'dispatch' }`. */
export interface StoredMessage {
  kind: IStr;
  from: { kind: IStr; id: IStr };
  text: IStr;
  deliveredAt: number;
  by: StoredActor;
  recipients: Array<{ kind: IStr; id: IStr }>;
  readBy: { [partyId: string]: number };
}

/** A watch meeting notice: its one recipient is `{ kind: sector, id }` (every unit may read it). */
export interface StoredNotice {
  kind: IStr;
  title: IStr;
  beat?: IStr;
  startsAt: number;
  place: IStr;
  details: IStr;
  deliveredAt: number;
  by: StoredActor;
  recipients: Array<{ kind: IStr; id: IStr }>;
  readBy: { [unitId: string]: number };
}

/**
 * Beat plans and the profile's prose are the narrative several officers edit over weeks: they
 * are collaborative text (plain strings in Automerge 3), updated by diff so concurrent edits to
 * different passages both survive.
 */
export interface StoredPlan {
  /** Text once edited in this epoch; an ImmutableString snapshot when carried over (sync/epoch.ts). */
  problem: string;
  analysis: string;
  response: string;
  assessment: string;
  updatedAt: number;
  by: StoredActor;
}

export interface StoredBeat {
  name: IStr;
  characteristics: string;
  resources: IStr[];
  crimeProblems: IStr[];
  plans: { [planId: string]: StoredPlan };
  updatedAt: number;
}

export interface StoredBoard {
  schemaVersion: number;
  sector: IStr;
  epoch: IStr;
  units: { [unitId: string]: StoredUnit };
  calls: { [callId: string]: StoredCall };
  unitLog: { [key: string]: StoredUnitEvent };
  callLog: { [key: string]: StoredCallEvent };
  inbox: { [itemId: string]: StoredReport | StoredMessage | StoredNotice };
  beats: { [beatId: string]: StoredBeat };
  /** Written once by the precinct when it cuts the epoch. */
  closed?: { at: number; nextEpoch: IStr };
  /** Written in the carry-over change of a new epoch: where its open work came from. */
  openedFrom?: { at: number; epoch: IStr };
}

// ---------------------------------------------------------------------------------------------

/** Impossible transitions and bad input. `code` is stable for programs; the message is for people. */
export type BoardErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'exists'
  | 'invalid_transition'
  | 'call_closed'
  | 'unit_unavailable'
  | 'forbidden'
  | 'schema_too_new'
  | 'schema_invalid'
  | 'epoch_mismatch';

export class BoardError extends Error {
  override readonly name = 'BoardError';
  readonly code: BoardErrorCode;
  readonly field?: string;
  constructor(code: BoardErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

// The logger port is shared with the rest of sync/ (structural, so pino loggers fit).
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';

// Brand constructors validate the one rule every id shares: ids become map keys and parts of
// log keys joined with '~', so they are short and drawn from a safe alphabet.
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && ID_RE.test(s);
}

function brand<B extends string>(what: string) {
  return (s: string): Brand<string, B> => {
    if (!isValidId(s)) throw new BoardError('invalid_input', `${what} must match ${ID_RE.source}, got ${JSON.stringify(s)}`, what);
    return s as Brand<string, B>;
  };
}

export const sectorId = brand<'SectorId'>('sector');
export const unitId = brand<'UnitId'>('unitId');
export const callId = brand<'CallId'>('callId');
export const beatId = brand<'BeatId'>('beatId');
export const vehicleId = brand<'VehicleId'>('vehicleId');
export const reportId = brand<'ReportId'>('reportId');
export const messageId = brand<'MessageId'>('messageId');

/** Display label of an actor, as used for note authors and logs. */
export function actorLabel(a: Actor): string {
  switch (a.kind) {
    case 'vehicle':
      return a.unitId ?? a.vehicleId;
    case 'operator':
      return a.operatorId;
    case 'policy':
      return `policy:${a.precinct}`;
  }
}
