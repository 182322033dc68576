// The sector roster: who may sign on to a car of the sector, with each officer's PIN as a slow
// scrypt hash (never the PIN). The precinct publishes it retained on mdt/v1/roster/{sector}/{precinct}
// (only the precinct may publish there: sync/acl.ts); each car keeps the last one on disk so an
// officer can sign on in a car that has no network at the start of the shift.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import { parseJsonPayload } from './json-payload.js';
import { PAYLOAD_LIMITS } from './acl.js';
import { hashPassword, verifySecret } from './secret-hash.js';

export const ROSTER_ROLES = ['officer', 'supervisor', 'watch_commander'] as const;
export type RosterRole = (typeof ROSTER_ROLES)[number];

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected 1-40 letters, digits, "_", "." or "-"');
/** `scrypt$N$r$p$salt$key` as written by sync/credentials.ts hashSecret. */
const pinHash = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'expected an scrypt hash (mdt roster hash-pin)').max(300);

export const rosterOfficerSchema = z
  .object({
    badge: z.string().regex(/^[A-Za-z0-9-]{1,16}$/, 'expected a badge number of 1-16 letters, digits or "-"'),
    name: z.string().min(1).max(80),
    pinHash,
    role: z.enum(ROSTER_ROLES),
  })
  .strict();
export type RosterOfficer = z.infer<typeof rosterOfficerSchema>;

export const rosterSchema = z
  .object({
    v: z.literal(1),
    sector: id,
    precinct: id,
    /** When the precinct built this roster (epoch ms): a car keeps the newest one it has seen. */
    at: z.number().int().nonnegative(),
    officers: z.array(rosterOfficerSchema).max(500),
  })
  .strict()
  .refine((r) => new Set(r.officers.map((o) => o.badge)).size === r.officers.length, { message: 'badge numbers must be unique', path: ['officers'] });
export type Roster = z.infer<typeof rosterSchema>;

/** A roster from the wire; undefined (the caller logs topic and size) for anything malformed. */
export function parseRoster(payload: Buffer): Roster | undefined {
  return parseJsonPayload(rosterSchema, payload, PAYLOAD_LIMITS.roster);
}

export function encodeRoster(r: Roster): string {
  return JSON.stringify(r);
}

export function findOfficer(r: Roster | undefined, badge: string): RosterOfficer | undefined {
  return r?.officers.find((o) => o.badge === badge);
}

export const hashPin = hashPassword;
export const verifyPin = verifySecret;

// ---------------------------------------------------------------------------------------------
// The precinct's roster file (in its state dir; the personnel system or an admin writes it).
// One file for the whole precinct; an officer without `sectors` may sign on in any of its sectors.

const rosterFileSchema = z
  .object({
    v: z.literal(1),
    officers: z.array(rosterOfficerSchema.extend({ sectors: z.array(id).min(1).optional() }).strict()).max(5000),
  })
  .strict();
export type RosterFile = z.infer<typeof rosterFileSchema>;

export class RosterFileError extends Error {
  override readonly name = 'RosterFileError';
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

/** Reads and validates a precinct roster file; undefined when it does not exist. */
export async function readRosterFile(file: string): Promise<RosterFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RosterFileError(file, '(file)', `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RosterFileError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = rosterFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RosterFileError(file, issue.path.join('.') || '(root)', issue.message);
  }
  const badges = new Set<string>();
  for (const [i, o] of parsed.data.officers.entries()) {
    if (badges.has(o.badge)) throw new RosterFileError(file, `officers.${i}.badge`, `badge ${o.badge} is listed twice`);
    badges.add(o.badge);
  }
  return parsed.data;
}

/** The roster one sector's cars receive: the file's officers allowed in that sector. */
export function rosterForSector(file: RosterFile, sector: string, precinct: string, at: number): Roster {
  return {
    v: 1,
    sector,
    precinct,
    at,
    officers: file.officers
      .filter((o) => !o.sectors || o.sectors.includes(sector))
      .map(({ badge, name, pinHash: h, role }) => ({ badge, name, pinHash: h, role })),
  };
}

// ---------------------------------------------------------------------------------------------
// The car's cache: the last roster received, written atomically (tmp, fsync, rename) with owner-only
// permissions; PIN hashes are slow to attack but still not for other users of the machine.

export async function readCachedRoster(file: string): Promise<Roster | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseRoster(Buffer.from(text, 'utf8'));
}

export async function writeCachedRoster(file: string, roster: Roster): Promise<void> {
  await writeFileAtomic(file, encodeRoster(roster) + '\n', 0o600);
}

/** Whether a received roster should replace the one held: same sector, and not older. */
export function isNewerRoster(held: Roster | undefined, got: Roster): boolean {
  return !held || got.at >= held.at;
}
