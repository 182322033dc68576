// Versioned binary envelope for sync messages. Binary rather than JSON because a status change
// must cost under 300 bytes on a narrowband radio data link: the envelope adds 3 + docId bytes.
//
//   byte 0      envelope version (1)
//   byte 1      kind: 1 = sync (Automerge sync message), 2 = hello (peer (re)connected: reset state),
//               3 = sync with the body deflated (RFC 1951), used when that makes it smaller,
//               4 = change (one Automerge change as it is, to a peer whose last round agreed),
//               5 = ack (the first ACK_HASH_BYTES bytes of a received change's hash),
//               6 = compact (kind 4 with its dependency hashes shortened: compact-change.ts)
//   byte 2      docId length n (1..64)
//   bytes 3..   docId (UTF-8), then the body
import { Buffer } from 'node:buffer';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const ENVELOPE_VERSION = 1;
/** Largest sync payload a peer accepts; bigger ones are refused before Automerge sees them. */
export const MAX_SYNC_PAYLOAD = 4 * 1024 * 1024;
/**
 * What the precinct accepts from one car in one message. A car only ever sends its own changes
 * (about 150 B each; a shift offline is a few hundred), so 1 MiB is generous, and a bigger message
 * is refused before Automerge parses it: decoding is where a hostile payload costs CPU and memory.
 */
export const MAX_CAR_SYNC_PAYLOAD = 1024 * 1024;
/**
 * How big cars' changes may make one sector board at the precinct (peer-sync.ts counts the
 * board's saved size plus every accepted message). A live board holds one service day, about
 * 25 KiB (docs/sector-board.md), so this is hundreds of days of traffic: only a faulty or hostile
 * car gets near it, and it must not make every car load (and the precinct hold) a board without
 * bound.
 */
export const MAX_BOARD_BYTES = 8 * 1024 * 1024;

export type EnvelopeKind = 'sync' | 'hello' | 'change' | 'ack' | 'compact';

/** An ack names the change it confirms by this many leading bytes of its hash. */
export const ACK_HASH_BYTES = 8;

export interface Envelope {
  kind: EnvelopeKind;
  docId: string;
  body: Uint8Array;
}

export class PayloadRejected extends Error {
  readonly code = 'PAYLOAD_REJECTED';
  constructor(
    readonly reason: string,
    readonly bytes: number,
  ) {
    super(`payload rejected (${bytes} B): ${reason}`);
  }
}

const KIND_CODES: Record<EnvelopeKind, number> = { sync: 1, hello: 2, change: 4, ack: 5, compact: 6 };
const KINDS_BY_CODE = new Map<number, EnvelopeKind>([
  [1, 'sync'],
  [2, 'hello'],
  [3, 'sync'],
  [4, 'change'],
  [5, 'ack'],
  [6, 'compact'],
]);
const DEFLATED_SYNC = 3;
/**
 * Bodies up to this size are tried deflated. A status change's round is ~300 B, of which hashes
 * repeated between heads, have and the change's deps shrink well (~15-40 %); big rounds are
 * already compressed by Automerge (sync message-v2), so trying them would only cost CPU.
 */
const DEFLATE_UP_TO = 64 * 1024;

export function encodeEnvelope(env: Envelope): Buffer {
  const id = Buffer.from(env.docId, 'utf8');
  if (id.length < 1 || id.length > 64) throw new Error(`docId must be 1..64 bytes, got ${id.length}`);
  let kind = KIND_CODES[env.kind];
  let body = env.body;
  if (env.kind === 'sync' && body.length <= DEFLATE_UP_TO) {
    const deflated = deflateRawSync(body, { level: 9 });
    if (deflated.length < body.length) {
      kind = DEFLATED_SYNC;
      body = deflated;
    }
  }
  return Buffer.concat([Buffer.from([ENVELOPE_VERSION, kind, id.length]), id, body]);
}

export function decodeEnvelope(payload: Uint8Array, maxBytes = MAX_SYNC_PAYLOAD): Envelope {
  const bytes = payload.length;
  if (bytes > maxBytes) throw new PayloadRejected(`larger than ${maxBytes} B`, bytes);
  if (bytes < 3) throw new PayloadRejected('shorter than the envelope header', bytes);
  if (payload[0] !== ENVELOPE_VERSION) throw new PayloadRejected(`unknown envelope version ${payload[0]}`, bytes);
  const kind = KINDS_BY_CODE.get(payload[1]!);
  if (!kind) throw new PayloadRejected(`unknown kind ${payload[1]}`, bytes);
  const idLen = payload[2]!;
  if (idLen < 1 || idLen > 64 || bytes < 3 + idLen) throw new PayloadRejected('truncated docId', bytes);
  const docId = Buffer.from(payload.subarray(3, 3 + idLen)).toString('utf8');
  if (!/^[A-Za-z0-9_.@-]+$/.test(docId)) throw new PayloadRejected('docId has invalid characters', bytes);
  let body = payload.subarray(3 + idLen);
  if (payload[1] === DEFLATED_SYNC) {
    try {
      // Bounded like the payload itself: a small deflated body must not inflate without limit.
      body = inflateRawSync(body, { maxOutputLength: maxBytes });
    } catch (err) {
      throw new PayloadRejected(`deflated body does not inflate within ${maxBytes} B (${(err as Error).message})`, bytes);
    }
  }
  if (kind !== 'hello' && kind !== 'ack' && body.length === 0) throw new PayloadRejected(`empty ${kind} body`, bytes);
  if (kind === 'ack' && body.length !== ACK_HASH_BYTES) throw new PayloadRejected(`an ack body is ${ACK_HASH_BYTES} B, not ${body.length}`, bytes);
  return { kind, docId, body };
}
