// Splits a sync message that is too big for the receiver's cap into several bounded ones, so a car
// that was offline for a long time (or a board sent whole to a new car) still gets through. Each
// part is an ordinary Automerge sync message carrying a slice of the changes in causal order, so
// the receiver applies (and the precinct's author guard and size cap check) one slice at a time.
//
// Why regenerate: Automerge 3 (sync "message-v2") packs the changes of a round into one compressed
// chunk that cannot be cut. Asking again as for a peer without that capability yields the same
// round as individual changes in causal order. That costs CPU and bytes (uncompressed), so it is
// done only for a message already over the limit, which is rare.
import * as A from '@automerge/automerge';

/** Default limit per message: half of what a precinct accepts from a car (envelope.ts). */
export const SYNC_CHUNK_BYTES = 512 * 1024;

/** The message itself when it fits (or holds a single change); else parts of at most ~maxBytes. */
export function splitSyncMessage<T>(doc: A.Doc<T>, msg: Uint8Array, maxBytes: number, state?: A.SyncState): Uint8Array[] {
  if (msg.length <= maxBytes) return [msg];
  const legacy = legacyRound(doc, msg, state);
  const round = A.decodeSyncMessage(legacy);
  if (round.changes.length <= 1) return [msg];
  const frame = legacy.length - round.changes.reduce((n, c) => n + c.length + 4, 0);
  const parts: Uint8Array[][] = [];
  let part: Uint8Array[] = [];
  let size = frame;
  for (const change of causalOrder(round.changes)) {
    // 4 bytes: the length prefix of a change in the message (LEB128, changes < 256 MiB).
    if (part.length > 0 && size + change.length + 4 > maxBytes) {
      parts.push(part);
      part = [];
      size = frame;
    }
    part.push(change);
    size += change.length + 4;
  }
  parts.push(part);
  return parts.map((changes) => A.encodeSyncMessage({ heads: round.heads, need: round.need, have: round.have, changes }));
}

/**
 * The same round as individual changes. `state` is the sync state the message was generated
 * from; without it the message's own changes are decoded (they are already individual changes
 * when the peer does not speak message-v2).
 */
function legacyRound<T>(doc: A.Doc<T>, msg: Uint8Array, state: A.SyncState | undefined): Uint8Array {
  if (!state) return msg;
  const [, again] = A.generateSyncMessage(doc, { ...state, theirCapabilities: [] } as A.SyncState);
  return again ?? msg;
}

/**
 * The changes with every one after those it depends on, otherwise in the given order. Automerge's
 * legacy round is usually in that order already, but not always: a part applied before its
 * dependencies' part would wait in the receiver's queue, unchecked (found by a test that failed
 * once in this project's runs with 40 changes). Depth-first, without recursion (a long offline
 * chain).
 */
export function causalOrder(changes: Uint8Array[]): Uint8Array[] {
  const meta = changes.map((c) => A.decodeChange(c));
  const index = new Map(meta.map((m, i) => [m.hash, i]));
  const seen = new Uint8Array(changes.length); // 0 new, 1 its dependencies are being placed, 2 placed
  const out: Uint8Array[] = [];
  for (let start = 0; start < changes.length; start++) {
    const stack = [start];
    while (stack.length > 0) {
      const i = stack[stack.length - 1]!;
      if (seen[i] === 0) {
        seen[i] = 1;
        for (const dep of meta[i]!.deps) {
          const j = index.get(dep);
          if (j !== undefined && seen[j] === 0) stack.push(j);
        }
        continue;
      }
      stack.pop();
      if (seen[i] === 1) {
        seen[i] = 2;
        out.push(changes[i]!);
      }
    }
  }
  return out;
}
