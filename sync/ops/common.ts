// Shared plumbing of the operations: input checks that name the bad field, conversion between
// the public Actor and its stored form, log keys, and the one wrapper that calls Automerge.change.
import { randomBytes } from 'node:crypto';
import * as Automerge from '@automerge/automerge';
import {
  BoardError,
  isValidId,
  OPERATOR_ROLES,
  SCHEMA_VERSION,
  type Actor,
  type IStr,
  type OpContext,
  type StoredActor,
  type StoredBoard,
  type VehicleId,
  type UnitId,
} from '../schema.js';

export type SectorBoard = Automerge.Doc<StoredBoard>;

export const imm = (s: string): IStr => new Automerge.ImmutableString(s);

/** Reads a stored string whether it arrived as ImmutableString, text or nothing. */
export function txt(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Automerge.ImmutableString) return v.val;
  return undefined;
}

export function fail(field: string, message: string): never {
  throw new BoardError('invalid_input', `${field}: ${message}`, field);
}

export function reqId(field: string, v: unknown): string {
  if (!isValidId(v)) fail(field, `must be an id of letters, digits and . _ : - (1-64 chars), got ${JSON.stringify(v)}`);
  return v;
}

export function reqText(field: string, v: unknown, max = 500): string {
  if (typeof v !== 'string' || v.trim().length === 0) fail(field, 'must be a non-empty string');
  if (v.length > max) fail(field, `must be at most ${max} characters, got ${v.length}`);
  return v;
}

export function optText(field: string, v: unknown, max = 500): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return reqText(field, v, max);
}

export function reqTime(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(field, 'must be epoch milliseconds (a non-negative integer)');
  return v;
}

export function reqOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function reqTextList(field: string, v: unknown, maxItems = 20, maxLen = 200): string[] {
  if (!Array.isArray(v)) fail(field, 'must be an array of strings');
  if (v.length > maxItems) fail(field, `must hold at most ${maxItems} entries`);
  return v.map((s, i) => reqText(`${field}[${i}]`, s, maxLen));
}

export function checkCtx(ctx: OpContext): OpContext {
  if (typeof ctx !== 'object' || ctx === null) fail('ctx', 'must be { by, at }');
  reqTime('ctx.at', ctx.at);
  const by = ctx.by as Actor | undefined;
  if (!by || typeof by !== 'object') fail('ctx.by', 'must be an Actor');
  switch (by.kind) {
    case 'vehicle':
      reqId('ctx.by.vehicleId', by.vehicleId);
      if (by.unitId !== undefined) reqId('ctx.by.unitId', by.unitId);
      break;
    case 'operator':
      reqId('ctx.by.operatorId', by.operatorId);
      reqOneOf('ctx.by.role', by.role, OPERATOR_ROLES);
      break;
    case 'policy':
      reqId('ctx.by.precinct', by.precinct);
      break;
    default:
      fail('ctx.by.kind', 'must be vehicle, operator or policy');
  }
  return ctx;
}

/** The stored form of an actor (schema.ts StoredActor): one string. */
export function storeActor(a: Actor): StoredActor {
  switch (a.kind) {
    case 'vehicle':
      return imm(a.unitId ? `v/${a.vehicleId}/${a.unitId}` : `v/${a.vehicleId}`);
    case 'operator':
      return imm(`o/${a.operatorId}/${a.role}`);
    case 'policy':
      return imm(`p/${a.precinct}`);
  }
}

const STORED_KINDS: Record<string, string> = { v: 'vehicle', o: 'operator', p: 'policy' };

/** Reads a stored actor, as one string or as the map older boards hold; never throws. */
export function readActor(s: StoredActor | undefined): Actor {
  let kind: string | undefined;
  let id: string | undefined;
  let extra: string | undefined;
  const flat = txt(s);
  if (flat !== undefined) {
    const [k, i, x] = flat.split('/');
    kind = STORED_KINDS[k ?? ''];
    if (kind) [id, extra] = [i, x];
  } else if (s && typeof s === 'object' && !(s instanceof Automerge.ImmutableString)) {
    [kind, id, extra] = [txt(s.kind), txt(s.id), txt(s.kind) === 'operator' ? txt(s.role) : txt(s.unit)];
  }
  id ||= 'unknown';
  if (kind === 'operator') return { kind: 'operator', operatorId: id, role: extra === 'watch_commander' || extra === 'care' ? extra : 'dispatcher' };
  if (kind === 'policy') return { kind: 'policy', precinct: id };
  return extra ? { kind: 'vehicle', vehicleId: id as VehicleId, unitId: extra as UnitId } : { kind: 'vehicle', vehicleId: id as VehicleId };
}

/**
 * A log key sorts by time first (zero-padded base-36 epoch ms), then by a random tiebreak, so the
 * lexical order of keys is the deterministic order of events on every replica.
 */
export function eventKey(at: number): string {
  return at.toString(36).padStart(10, '0') + randomBytes(6).toString('base64url');
}

export const logKey = (entityId: string, at: number): string => `${entityId}~${eventKey(at)}`;

/** Keys of one entity's events in a log map, in event order. */
export function keysOf(log: object, entityId: string): string[] {
  const prefix = `${entityId}~`;
  return Object.keys(log)
    .filter((k) => k.startsWith(prefix))
    .sort();
}

export function assertWritable(doc: SectorBoard): void {
  const v = doc.schemaVersion;
  if (typeof v !== 'number') throw new BoardError('schema_invalid', 'sector board has no schemaVersion: not a board document');
  if (v > SCHEMA_VERSION) {
    throw new BoardError(
      'schema_too_new',
      `sector board ${txt(doc.sector)}@${txt(doc.epoch)} has schema version ${v}, this daemon understands up to ${SCHEMA_VERSION}: upgrade the daemon; the document was left untouched`,
    );
  }
}

/**
 * The only call to Automerge.change outside genesis and migration: stamps the actor's time. No
 * change message: the event the change writes already says what and who, and a message would
 * ride along in every sync of it (~25 B of a ~240 B status change, on narrowband radio links).
 */
export function commit(doc: SectorBoard, ctx: OpContext, fn: (d: StoredBoard) => void): SectorBoard {
  assertWritable(doc);
  return Automerge.change(doc, { time: Math.floor(ctx.at / 1000) }, fn);
}

export function requireRole(ctx: OpContext, op: string, allowed: ReadonlyArray<Actor['kind']>): void {
  if (!allowed.includes(ctx.by.kind)) throw new BoardError('forbidden', `${op} may not be done by a ${ctx.by.kind}`);
}

/** A car may act only for the unit it is bound to (when the binding is known). */
export function requireOwnUnit(ctx: OpContext, op: string, unitId: string): void {
  if (ctx.by.kind === 'vehicle' && ctx.by.unitId !== undefined && ctx.by.unitId !== unitId) {
    throw new BoardError('forbidden', `${op}: vehicle ${ctx.by.vehicleId} is bound to unit ${ctx.by.unitId}, not ${unitId}`, 'unitId');
  }
}
