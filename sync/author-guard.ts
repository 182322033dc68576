// Binds the author recorded in a car's board changes to the vehicle that authenticated to
// publish them (docs/sync-protocol.md, "Author binding").
//
// The broker's ACL already guarantees that a sync message on mdt/v1/sync/{sector}/{V}/... was
// published by vehicle V (or relayed by a trusted precinct link that authenticated V). What the
// ACL cannot see is the content: a compromised car could write an event whose `by` names another
// car, or rewrite an event already in the log. So the precinct applies an incoming message to its
// board, diffs the board before and after, and refuses the whole message (the board stays as it
// was) when any new value claims another author. The rules follow the board's shape
// (sync/schema.ts; sync/ops/common.ts stores the actor under `by` as the string `v/{V}/{U}`, and
// boards of the previous release as the map { kind, id, unit? }, which older cars still write):
//   - every `by` written must be the vehicle V (and its unit U, if named), in either form;
//   - the logs are append-only: a car may add entries, never change or delete existing ones;
//   - unit events go under the car's own unit (keys `${U}~...`), and `units/{id}` only for U;
//   - a call event naming a unit must name U;
//   - the CAD's and the dispatcher's own acts (a call's update, a transfer between sector boards)
//     are never written by a car: those events, and a call created as transferred, are refused.
//   - in the inbox (CARE reports, notices, messages) a car adds only messages from U
//     (`kind: message`, `from: { kind: unit, id: U }`), and on existing entries only its own read
//     receipt (`readBy/U`, a time); it never edits or deletes an entry otherwise.
import * as A from '@automerge/automerge';
import { storeActor } from './ops/common.js';
import type { UnitId, VehicleId } from './schema.js';

export interface BoundVehicle {
  vehicleId: string;
  unitId: string;
}

const LOGS = new Set(['unitLog', 'callLog']);
/** Call events only an operator or the policy writes (sync/ops/calls.ts updateCall, transferCall). */
const PRECINCT_ONLY_EVENTS = new Set(['updated', 'transferred']);

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof A.ImmutableString) return v.val;
  return undefined;
}

/** What a new inbox entry written by a car has said about itself so far. */
interface NewMessage {
  kind?: string;
  fromKind?: string;
  fromId?: string;
}

/** Checks one patch under `inbox/`; undefined when the car may write it. */
function inboxViolation(p: A.Patch, key: string | undefined, rest: string[], who: BoundVehicle, fresh: Map<string, NewMessage>, existed: (root: string, key: string) => boolean): string | undefined {
  if (key === undefined) return `${p.action} on the inbox itself`;
  const entry = `inbox/${key}`;
  if (rest.length === 0) {
    if (p.action !== 'put' || fresh.has(key) || existed('inbox', key)) return `${p.action} on existing ${entry}: an inbox entry is written once`;
    fresh.set(key, {});
    return undefined;
  }
  // A read receipt: on any entry (new or old), only the car's own, and only a time.
  if (rest[0] === 'readBy') {
    if (rest.length === 1 && p.action === 'put' && fresh.has(key)) return undefined; // the new entry's empty receipt map
    if (rest.length === 2 && p.action === 'put' && rest[1] === who.unitId && typeof p.value === 'number') return undefined;
    return `read receipt ${rest.slice(1).join('/') || '(map)'} on ${entry} by vehicle bound to ${who.unitId}`;
  }
  const msg = fresh.get(key);
  if (!msg) return `edits existing ${entry}: only the car's own read receipt may be added`;
  if (p.action === 'put' && rest.length === 1 && rest[0] === 'kind') msg.kind = str(p.value);
  if (p.action === 'put' && rest.length === 2 && rest[0] === 'from' && rest[1] === 'kind') msg.fromKind = str(p.value);
  if (p.action === 'put' && rest.length === 2 && rest[0] === 'from' && rest[1] === 'id') msg.fromId = str(p.value);
  return undefined;
}

/** Whether a patch under an entry (`rest`: the path below it) records its author. */
const signs = (rest: string[], p: A.Patch): boolean =>
  p.action === 'put' && rest[0] === 'by' && ((rest.length === 2 && rest[1] === 'id') || (rest.length === 1 && str(p.value) !== undefined));

/**
 * undefined when every patch is something `who` may write, else the first reason it may not.
 * `existed` tells whether the changes replace a top-level entry (`root`/`key`) that already had a
 * value: a `put` over an existing key looks the same as a creation in the patches. `duplicate`
 * tells whether a `conflict` patch (a concurrent value that lost, so what is shown stays as it
 * was) only added a value equal to the one already there.
 */
export function authorshipViolation(
  patches: A.Patch[],
  who: BoundVehicle,
  existed: (root: string, key: string) => boolean = () => false,
  duplicate: (path: A.Prop[]) => boolean = () => false,
): string | undefined {
  const created = new Set<string>();
  const signed = new Set<string>();
  const messages = new Map<string, NewMessage>();
  for (const p of patches) {
    // The car wrote, concurrently, what the board already holds: a late edit forwarded into the
    // next epoch by both the car and the precinct (sync/epoch.ts), same key, same value. Refusing
    // it would shut the car out of that epoch for good: every later change depends on it.
    if (p.action === 'conflict' && duplicate(p.path)) continue;
    const path = p.path.map(String);
    const [root, key, ...rest] = path;
    if (root === undefined) continue;
    if (root === 'inbox') {
      const why = inboxViolation(p, key, rest, who, messages, existed);
      if (why) return why;
      if (key !== undefined && signs(rest, p)) signed.add(`inbox/${key}`);
    }
    if (root === 'units') {
      if (key !== undefined && key !== who.unitId) return `writes unit ${key}, bound to ${who.unitId}`;
      continue;
    }
    if (root === 'calls' && rest[0] === 'transferredFrom') return `call ${key} written as transferred by vehicle ${who.vehicleId}`;
    if (LOGS.has(root) && key !== undefined) {
      const entry = `${root}/${key}`;
      if (rest.length === 0) {
        if (p.action !== 'put' || created.has(entry) || existed(root, key)) return `${p.action} on existing ${entry}: the log is append-only`;
        created.add(entry);
        if (root === 'unitLog' && !key.startsWith(`${who.unitId}~`)) return `unit event ${key} for another unit than ${who.unitId}`;
        continue;
      }
      if (!created.has(entry)) return `edits existing ${entry}: the log is append-only`;
      if (signs(rest, p)) signed.add(entry);
      if (root === 'callLog' && rest.length === 1 && rest[0] === 'event' && p.action === 'put' && PRECINCT_ONLY_EVENTS.has(str(p.value) ?? '')) {
        return `call event ${str(p.value)} is the precinct's to write, not vehicle ${who.vehicleId}'s`;
      }
      if (root === 'callLog' && rest.length === 1 && rest[0] === 'unit' && p.action === 'put' && str(p.value) !== who.unitId) {
        return `call event names unit ${str(p.value)}, bound to ${who.unitId}`;
      }
    }
    const byAt = path.indexOf('by');
    const flat = p.action === 'put' && byAt === path.length - 1 ? str(p.value) : undefined;
    if (flat !== undefined) {
      if (flat !== String(storeActor({ kind: 'vehicle', vehicleId: who.vehicleId as VehicleId, unitId: who.unitId as UnitId })) && flat !== String(storeActor({ kind: 'vehicle', vehicleId: who.vehicleId as VehicleId }))) {
        return `author ${flat} written by vehicle ${who.vehicleId}`;
      }
    } else if (byAt >= 0 && byAt < path.length - 1 && p.action === 'put') {
      const field = path[byAt + 1];
      const value = str(p.value);
      if (field === 'kind' && value !== 'vehicle') return `author kind ${value} written by vehicle ${who.vehicleId}`;
      if (field === 'id' && value !== who.vehicleId) return `author ${value} written by vehicle ${who.vehicleId}`;
      if (field === 'unit' && value !== who.unitId) return `author unit ${value} written by vehicle ${who.vehicleId}`;
    } else if (byAt >= 0 && p.action !== 'put') {
      return `${p.action} on an author record`;
    }
  }
  for (const entry of created) if (!signed.has(entry)) return `${entry} has no author`;
  for (const [key, m] of messages) {
    if (!signed.has(`inbox/${key}`)) return `inbox/${key} has no author`;
    if (m.kind !== 'message') return `inbox/${key} is a ${m.kind ?? 'untyped'} entry: a car adds only messages`;
    if (m.fromKind !== 'unit' || m.fromId !== who.unitId) return `message inbox/${key} from ${m.fromKind ?? '?'} ${m.fromId ?? '?'}, bound to ${who.unitId}`;
  }
  return undefined;
}

const ROOT_MAPS = ['unitLog', 'callLog', 'inbox'] as const;

/**
 * Keys of the append-only root maps whose value the new changes replace or delete: such an op has a
 * predecessor, a creation has none. Read from the decoded new changes only (a handful of ops),
 * because materialising the board at the old heads to look costs tens of milliseconds a message.
 */
function replacedKeys<T>(after: A.Doc<T>, before: A.Heads): Set<string> {
  const roots = new Map<string, string>();
  for (const name of ROOT_MAPS) {
    const map = (after as Record<string, unknown>)[name];
    const id = map && typeof map === 'object' ? A.getObjectId(map) : null;
    if (id) roots.set(id, name);
  }
  const out = new Set<string>();
  for (const change of A.getChangesSince(after, before)) {
    for (const op of A.decodeChange(change).ops) {
      const root = roots.get(op.obj);
      if (root && op.pred.length > 0) out.add(`${root}/${op.key}`);
    }
  }
  return out;
}

/** Checks what `after` adds to `before` (heads) against the vehicle bound to the sender. */
export function checkAuthorship<T>(after: A.Doc<T>, before: A.Heads, who: BoundVehicle): string | undefined {
  const heads = A.getHeads(after);
  if (heads.length === before.length && heads.every((h, i) => h === before[i])) return undefined;
  const replaced = replacedKeys(after, before);
  return authorshipViolation(
    A.diff(after, before, heads),
    who,
    (root, key) => replaced.has(`${root}/${key}`),
    (path) => sameConflictingValues(after, path),
  );
}

/** Whether every value concurrently written at `path` is the same (compared as JSON). */
function sameConflictingValues<T>(doc: A.Doc<T>, path: A.Prop[]): boolean {
  const prop = path.at(-1);
  if (prop === undefined) return false;
  let obj: unknown = doc;
  for (const step of path.slice(0, -1)) {
    obj = obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[step as string] : undefined;
  }
  if (!obj || typeof obj !== 'object') return false;
  const values = Object.values(A.getConflicts(obj as A.Doc<unknown>, prop) ?? {}).map((v) => JSON.stringify(v));
  return values.length > 1 && values.every((v) => v === values[0]);
}
