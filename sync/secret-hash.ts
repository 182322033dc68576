// One-way hashes of secrets, in two formats chosen by who made the secret.
//
// A person's PIN or password has little entropy, so it is stretched with scrypt (N=2^14): each
// guess against a stolen file costs what a check costs. A machine token from newSecret() has 192
// random bits: no guesser enumerates 2^192 candidates however fast each one is, and scrypt's
// 2^14 stretch would add only 14 bits to that while costing ~270 ms of CPU per broker CONNECT
// (docs/sync-protocol.md §8). Such tokens are kept as a salted HMAC-SHA256 instead: still
// one-way, a salt per entry so equal tokens do not show, checked in microseconds.
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

// N=2^14 keeps a check near 30 ms on an MDT-class CPU: slow for a guesser, fine for a PIN entry.
const SCRYPT = { N: 16384, r: 8, p: 1 };

const TOKEN_BYTES = 24;
/** Base64url characters in a newSecret() token (4 per 3 bytes). */
const TOKEN_CHARS = (TOKEN_BYTES / 3) * 4;
// A random 32-character base64url string has about 25 distinct characters; fewer than 16 happens
// by chance with odds below 1e-9, and is what a hand-made string ("aaaa…", "0123…") looks like.
const MIN_DISTINCT_CHARS = 16;

/** A fresh machine token: 24 random bytes (192 bits) as 32 base64url characters. */
export function newSecret(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * Whether a secret has the shape of a newSecret() token: at least 32 base64url characters, not
 * visibly hand-made. Shape cannot prove randomness; it keeps a typed secret (short, with spaces or
 * punctuation, repetitive) on scrypt, and the registries that use it accept only issued tokens.
 */
export function isMachineToken(secret: string): boolean {
  return secret.length >= TOKEN_CHARS && /^[A-Za-z0-9_-]+$/.test(secret) && new Set(secret).size >= MIN_DISTINCT_CHARS;
}

/** `scrypt$N$r$p$salt$key`: for secrets people choose (PINs, passwords). */
export async function hashPassword(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** `hmac-sha256$salt$mac`: for machine tokens only (see isMachineToken). */
export function hashMachineToken(secret: string): string {
  if (!isMachineToken(secret)) throw new Error('not a machine token (expected at least 32 random base64url characters, as newSecret() issues): hash it with hashPassword');
  const salt = randomBytes(16);
  return `hmac-sha256$${salt.toString('base64')}$${hmac(salt, secret).toString('base64')}`;
}

/** The cheapest format a secret may be kept in: a machine token's HMAC, anything else scrypt. */
export async function hashIssuedSecret(secret: string): Promise<string> {
  return isMachineToken(secret) ? hashMachineToken(secret) : hashPassword(secret);
}

export const isScryptHash = (stored: string): boolean => stored.startsWith('scrypt$');

/** Either stored format, for validating a file when it is loaded rather than at the first check. */
export const SECRET_HASH = /^(scrypt\$\d+\$\d+\$\d+|hmac-sha256)\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/** Checks a secret against either format, in constant time over the derived bytes. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'hmac-sha256' && parts.length === 3) {
    const expected = Buffer.from(parts[2]!, 'base64');
    return sameBytes(hmac(Buffer.from(parts[1]!, 'base64'), secret), expected);
  }
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
    const expected = Buffer.from(key, 'base64');
    const got = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
    return sameBytes(got, expected);
  }
  throw new Error(`unrecognised secret hash (expected scrypt$… or hmac-sha256$…, got ${JSON.stringify(parts[0]?.slice(0, 20))})`);
}

function hmac(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

function sameBytes(got: Buffer, expected: Buffer): boolean {
  // An empty expectation (a truncated hash) must never match an empty digest.
  return expected.length > 0 && got.length === expected.length && timingSafeEqual(got, expected);
}
