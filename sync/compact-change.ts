// One Automerge change as it goes to a live peer, with each dependency hash cut to its first
// DEP_PREFIX_BYTES bytes: 24 B saved per dependency on every link a change crosses (a status
// change has one or two). The receiver restores each hash from the changes it holds; a prefix it
// cannot place means it lacks that change (a gap, healed by a sync round). The change's own
// checksum (the first 4 bytes of the SHA-256 its hash is) proves the restored bytes are the
// sender's, so a wrong restoration is refused, never applied as a different change.
//
// An Automerge change chunk (automerge binary format, "change chunk"):
//   magic (4) | checksum (4) | chunk type (1; 1 = change) | length (uLEB128) |
//   dependency count (uLEB128) | dependency hashes (32 each) | the rest (actor, seq, ops...)
// The compact form drops the length (the receiver recomputes it) and shortens the hashes:
//   magic (4) | checksum (4) | chunk type (1) | dependency count (uLEB128) | prefixes (8 each) | the rest
import { createHash } from 'node:crypto';

const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;
const CHANGE_CHUNK = 1;
const HASH_BYTES = 32;
const HEADER = 9; // magic, checksum, chunk type
/** How many leading bytes of a dependency's hash the compact form keeps. */
export const DEP_PREFIX_BYTES = 8;
/** More dependencies than a change made on a board can have (one per concurrent head). */
const MAX_DEPS = 256;

/** Reads an unsigned LEB128 of at most 4 bytes (lengths and counts well under 2^28). */
function readUleb(b: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (at + i >= b.length) throw new Error('truncated');
    const byte = b[at + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return [value, at + i + 1];
  }
  throw new Error('length field too long');
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  return out;
}

function hasMagic(b: Uint8Array): boolean {
  return b.length > HEADER && MAGIC.every((m, i) => b[i] === m) && b[8] === CHANGE_CHUNK;
}

/** The compact form of a change, or undefined when it is not a plain change chunk (send it as it is). */
export function compactChange(change: Uint8Array): Uint8Array | undefined {
  if (!hasMagic(change)) return undefined;
  const [length, contentAt] = readUleb(change, HEADER);
  if (contentAt + length !== change.length) return undefined;
  const [count, depsAt] = readUleb(change, contentAt);
  const restAt = depsAt + count * HASH_BYTES;
  if (count > MAX_DEPS || restAt > change.length) return undefined;
  const countBytes = uleb(count);
  const out = new Uint8Array(HEADER + countBytes.length + count * DEP_PREFIX_BYTES + (change.length - restAt));
  out.set(change.subarray(0, HEADER));
  out.set(countBytes, HEADER);
  let at = HEADER + countBytes.length;
  for (let i = 0; i < count; i++, at += DEP_PREFIX_BYTES) out.set(change.subarray(depsAt + i * HASH_BYTES, depsAt + i * HASH_BYTES + DEP_PREFIX_BYTES), at);
  out.set(change.subarray(restAt), at);
  return out;
}

export type Expanded = { change: Uint8Array; hash: string; deps: string[] } | { gap: string };

/**
 * Restores a compact change. resolve maps a dependency's prefix (hex) to the full hash of a change
 * the receiver holds, or undefined. Returns the change with its hash and dependencies, or a gap
 * (a dependency the receiver cannot place). Throws on a malformed body or a failed checksum.
 */
export function expandChange(body: Uint8Array, resolve: (prefixHex: string) => string | undefined): Expanded {
  if (!hasMagic(body)) throw new Error('not a compact Automerge change');
  const [count, prefixesAt] = readUleb(body, HEADER);
  const restAt = prefixesAt + count * DEP_PREFIX_BYTES;
  if (count > MAX_DEPS || restAt > body.length) throw new Error('truncated dependency list');
  const deps: string[] = [];
  for (let i = 0; i < count; i++) {
    const prefix = Buffer.from(body.buffer, body.byteOffset + prefixesAt + i * DEP_PREFIX_BYTES, DEP_PREFIX_BYTES).toString('hex');
    const hash = resolve(prefix);
    if (hash === undefined) return { gap: prefix };
    deps.push(hash);
  }
  const countBytes = uleb(count);
  const rest = body.subarray(restAt);
  const contentLength = countBytes.length + count * HASH_BYTES + rest.length;
  const lengthBytes = uleb(contentLength);
  const change = new Uint8Array(HEADER + lengthBytes.length + contentLength);
  change.set(body.subarray(0, HEADER));
  let at = HEADER;
  change.set(lengthBytes, at);
  at += lengthBytes.length;
  change.set(countBytes, at);
  at += countBytes.length;
  for (const d of deps) {
    change.set(Buffer.from(d, 'hex'), at);
    at += HASH_BYTES;
  }
  change.set(rest, at);
  // The hash covers chunk type, length and contents; the checksum is its first 4 bytes.
  const digest = createHash('sha256').update(change.subarray(8)).digest();
  for (let i = 0; i < 4; i++) if (digest[i] !== change[4 + i]) throw new Error('checksum does not match the restored change');
  return { change, hash: digest.toString('hex'), deps };
}
