// Binds the author recorded in a car's board changes to the vehicle that authenticated to
// publish them (docs/sync-protocol.md, "Author binding").
//
// The broker's ACL already guarantees that a sync message on mdt/v1/sync/{sector}/{V}/... was
// published by vehicle V (or relayed by a trusted precinct link that authenticated V). What the
// ACL cannot see is the content: a compromised car could write an event whose `by` names another
// car, or rewrite an event already in the log. So the precinct applies an incoming message to its
// board, diffs the board before and after, and refuses the whole message (the board stays as it
// was) when any new value claims another author. The rules follow the board's shape
// (sync/schema.ts; `commit()` in sync/ops/common.ts stores the actor under `by` as
// { kind, id, unit? }):
//   - every `by` written must be { kind: 'vehicle', id: V, unit: U (if present) };
//   - the logs are append-only: a car may add entries, never change or delete existing ones;
//   - unit events go under the car's own unit (keys `${U}~...`), and `units/{id}` only for U;
//   - a call event naming a unit must name U;
//   - the CAD's and the dispatcher's own acts (a call's update, a transfer between sector boards)
//     are never written by a car: those events, and a call created as transferred, are refused.
import * as A from '@automerge/automerge';

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

/** undefined when every patch is something `who` may write, else the first reason it may not. */
export function authorshipViolation(patches: A.Patch[], who: BoundVehicle): string | undefined {
  const created = new Set<string>();
  const signed = new Set<string>();
  for (const p of patches) {
    const path = p.path.map(String);
    const [root, key, ...rest] = path;
    if (root === undefined) continue;
    if (root === 'units') {
      if (key !== undefined && key !== who.unitId) return `writes unit ${key}, bound to ${who.unitId}`;
      continue;
    }
    if (root === 'calls' && rest[0] === 'transferredFrom') return `call ${key} written as transferred by vehicle ${who.vehicleId}`;
    if (LOGS.has(root) && key !== undefined) {
      const entry = `${root}/${key}`;
      if (rest.length === 0) {
        if (p.action !== 'put' || created.has(entry)) return `${p.action} on existing ${entry}: the log is append-only`;
        created.add(entry);
        if (root === 'unitLog' && !key.startsWith(`${who.unitId}~`)) return `unit event ${key} for another unit than ${who.unitId}`;
        continue;
      }
      if (!created.has(entry)) return `edits existing ${entry}: the log is append-only`;
      if (rest.length === 2 && rest[0] === 'by' && rest[1] === 'id') signed.add(entry);
      if (root === 'callLog' && rest.length === 1 && rest[0] === 'event' && p.action === 'put' && PRECINCT_ONLY_EVENTS.has(str(p.value) ?? '')) {
        return `call event ${str(p.value)} is the precinct's to write, not vehicle ${who.vehicleId}'s`;
      }
      if (root === 'callLog' && rest.length === 1 && rest[0] === 'unit' && p.action === 'put' && str(p.value) !== who.unitId) {
        return `call event names unit ${str(p.value)}, bound to ${who.unitId}`;
      }
    }
    const byAt = path.indexOf('by');
    if (byAt >= 0 && byAt < path.length - 1 && p.action === 'put') {
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
  return undefined;
}

/** Checks what `after` adds to `before` (heads) against the vehicle bound to the sender. */
export function checkAuthorship<T>(after: A.Doc<T>, before: A.Heads, who: BoundVehicle): string | undefined {
  const heads = A.getHeads(after);
  if (heads.length === before.length && heads.every((h, i) => h === before[i])) return undefined;
  return authorshipViolation(A.diff(after, before, heads), who);
}
