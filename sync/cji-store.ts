// Criminal-justice information (NCIC and state returns on persons, vehicles, guns, articles)
// never enters the sector board: Automerge keeps every value in its history forever and copies it
// to every replica, while CJIS policy wants such returns shown to the officer who asked, encrypted
// at rest and gone after a short retention. This is the seam: a typed, expiring, encrypted store
// the UI reads query results from. The board may only ever hold an opaque handle (`cji:<id>`).
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';

export type CjiSource = 'NCIC' | 'state' | 'local';
export type CjiSubject = 'person' | 'vehicle' | 'article' | 'gun' | 'boat' | 'other';

export interface CjiQueryResult {
  source: CjiSource;
  subject: CjiSubject;
  /** What was asked (plate, name + DOB, serial): itself CJI, so stored encrypted too. */
  query: string;
  /** The return as received from the switch. */
  response: string;
  /** Who asked: the officer and unit the result may be shown to. */
  requestedBy: { unitId: string; officerId: string };
  receivedAt: number;
}

export interface CjiHandle {
  /** Opaque reference; safe to log or to put in a UI URL. Never derived from the content. */
  ref: string;
  expiresAt: number;
}

export interface CjiStore {
  put(result: CjiQueryResult, opts: { ttlMs: number; now: number }): Promise<CjiHandle>;
  /** Undefined once expired or purged, or when the handle is unknown. */
  get(ref: string, now: number): Promise<CjiQueryResult | undefined>;
  /** Drops expired entries; returns how many. Call it on a timer (node-cron in the daemon). */
  purgeExpired(now: number): Promise<number>;
  /** Drops everything (sign-off, shift end, tamper alarm). */
  clear(): Promise<void>;
}

export class CjiError extends Error {
  override readonly name = 'CjiError';
  constructor(
    readonly code: 'invalid_input' | 'too_long',
    message: string,
  ) {
    super(message);
  }
}

/** Longest retention allowed on a car: a shift. Longer storage belongs to the records system. */
export const MAX_CJI_TTL_MS = 12 * 60 * 60 * 1000;

interface Sealed {
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
  expiresAt: number;
}

/**
 * In-memory, AES-256-GCM encrypted store with a key held only by this process (pass a key from
 * the car's TPM/keystore to share it with a restarted daemon's file-backed successor). Nothing is
 * written to disk, so a stolen MDT's disk holds no CJI; a crash loses results, which the officer
 * simply queries again.
 */
export class MemoryCjiStore implements CjiStore {
  private readonly key: Buffer;
  private readonly entries = new Map<string, Sealed>();

  constructor(key?: Buffer) {
    if (key !== undefined && key.length !== 32) throw new CjiError('invalid_input', 'CJI key must be 32 bytes (AES-256)');
    this.key = key ?? randomBytes(32);
  }

  async put(result: CjiQueryResult, opts: { ttlMs: number; now: number }): Promise<CjiHandle> {
    if (!(opts.ttlMs > 0)) throw new CjiError('invalid_input', 'ttlMs must be positive');
    if (opts.ttlMs > MAX_CJI_TTL_MS) throw new CjiError('too_long', `CJI may be kept at most ${MAX_CJI_TTL_MS} ms on a car`);
    const ref = `cji:${randomUUID()}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The ref is bound as associated data, so a sealed blob cannot be replayed under another ref.
    cipher.setAAD(Buffer.from(ref));
    const data = Buffer.concat([cipher.update(JSON.stringify(result), 'utf8'), cipher.final()]);
    const expiresAt = opts.now + opts.ttlMs;
    this.entries.set(ref, { iv, tag: cipher.getAuthTag(), data, expiresAt });
    return { ref, expiresAt };
  }

  async get(ref: string, now: number): Promise<CjiQueryResult | undefined> {
    const e = this.entries.get(ref);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.drop(ref, e);
      return undefined;
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, e.iv);
    decipher.setAAD(Buffer.from(ref));
    decipher.setAuthTag(e.tag);
    const plain = Buffer.concat([decipher.update(e.data), decipher.final()]);
    const out = JSON.parse(plain.toString('utf8')) as CjiQueryResult;
    plain.fill(0);
    return out;
  }

  async purgeExpired(now: number): Promise<number> {
    let n = 0;
    for (const [ref, e] of this.entries) {
      if (now >= e.expiresAt) {
        this.drop(ref, e);
        n++;
      }
    }
    return n;
  }

  async clear(): Promise<void> {
    for (const [ref, e] of this.entries) this.drop(ref, e);
  }

  /** Number of live entries (health reporting; never their content). */
  get size(): number {
    return this.entries.size;
  }

  /** Test hook: the sealed bytes, to prove nothing is kept in clear. */
  sealedBytesOf(ref: string): Buffer | undefined {
    return this.entries.get(ref)?.data;
  }

  private drop(ref: string, e: Sealed): void {
    e.data.fill(0);
    this.entries.delete(ref);
  }
}
