// The precinct's registry of vehicle credentials. Secrets are stored only as scrypt hashes; a
// revoked vehicle keeps its entry (for audit) but never authenticates again.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import type { Identity } from './acl.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

// N=2^14 keeps a check near 30 ms on an MDT-class CPU: slow for a guesser, fine for a reconnect.
const SCRYPT = { N: 16384, r: 8, p: 1 };

const vehicleEntry = z.object({
  unitId: z.string(),
  sector: z.string(),
  precinct: z.string(),
  hash: z.string(),
  registeredAt: z.number(),
  revokedAt: z.number().optional(),
});
/** A neighbouring precinct's station (or county bridge) that relays roaming cars into ours. */
const linkEntry = z.object({
  sectors: z.array(z.string()).optional(),
  hash: z.string(),
  registeredAt: z.number(),
  revokedAt: z.number().optional(),
});
const registryFile = z.object({
  version: z.literal(1),
  vehicles: z.record(z.string(), vehicleEntry),
  links: z.record(z.string(), linkEntry).default({}),
});
export type VehicleEntry = z.infer<typeof vehicleEntry>;
export type LinkEntry = z.infer<typeof linkEntry>;

/** MQTT username of a precinct link: a reserved prefix no vehicle id may take. */
export const linkUsername = (name: string): string => `link-${name}`;
const RESERVED = /^(link|precinct)-/;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export class VehicleRegistry {
  private readonly revokedListeners: Array<(vehicleId: string) => void> = [];
  private constructor(
    private readonly file: string | undefined,
    private vehicles: Record<string, VehicleEntry>,
    private links: Record<string, LinkEntry> = {},
  ) {}

  static async open(file: string): Promise<VehicleRegistry> {
    let raw: string | undefined;
    try {
      raw = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (raw === undefined) return new VehicleRegistry(file, {});
    const parsed = registryFile.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new Error(`vehicle registry ${file} is invalid: ${parsed.error.issues[0]?.message}`);
    return new VehicleRegistry(file, parsed.data.vehicles, parsed.data.links);
  }

  static inMemory(): VehicleRegistry {
    return new VehicleRegistry(undefined, {});
  }

  /** Registers (or re-keys) a vehicle; returns nothing secret, the caller already holds the secret. */
  async register(vehicleId: string, entry: Omit<VehicleEntry, 'hash' | 'registeredAt'>, secret: string): Promise<void> {
    if (RESERVED.test(vehicleId)) throw new Error(`vehicle id ${vehicleId} uses a prefix reserved for precinct clients`);
    this.vehicles[vehicleId] = { ...entry, hash: await hashSecret(secret), registeredAt: Date.now() };
    await this.persist();
  }

  async revoke(vehicleId: string): Promise<boolean> {
    const v = this.vehicles[vehicleId];
    if (!v) return false;
    v.revokedAt = Date.now();
    await this.persist();
    for (const listener of this.revokedListeners) listener(vehicleId);
    return true;
  }

  /** Called after a vehicle is revoked, so the broker can cut its open connection at once. */
  onRevoked(listener: (vehicleId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /**
   * Registers the link of a neighbouring precinct's station. `sectors` are the sectors of THIS
   * precinct it may relay (our sectors that its cars' roaming brings to it); absent = any (county).
   */
  async registerLink(name: string, sectors: string[] | undefined, secret: string): Promise<void> {
    this.links[name] = { ...(sectors ? { sectors } : {}), hash: await hashSecret(secret), registeredAt: Date.now() };
    await this.persist();
  }

  get(vehicleId: string): VehicleEntry | undefined {
    return this.vehicles[vehicleId];
  }

  list(): Array<[string, VehicleEntry]> {
    return Object.entries(this.vehicles);
  }

  /** The identity for a username/password pair, or the reason it is refused. */
  async authenticate(username: string, password: string): Promise<Identity | { refused: string }> {
    if (username.startsWith('link-')) return this.authenticateLink(username.slice(5), password);
    const v = this.vehicles[username];
    if (!v) return { refused: 'unknown vehicle' };
    if (v.revokedAt !== undefined) return { refused: 'vehicle revoked' };
    if (!(await verifySecret(password, v.hash))) return { refused: 'wrong password' };
    return { kind: 'vehicle', vehicleId: username, unitId: v.unitId, sector: v.sector, precinct: v.precinct };
  }

  private async authenticateLink(name: string, password: string): Promise<Identity | { refused: string }> {
    const l = this.links[name];
    if (!l) return { refused: 'unknown link' };
    if (l.revokedAt !== undefined) return { refused: 'link revoked' };
    if (!(await verifySecret(password, l.hash))) return { refused: 'wrong password' };
    return { kind: 'link', name, ...(l.sectors ? { sectors: l.sectors } : {}) };
  }

  private async persist(): Promise<void> {
    if (!this.file) return;
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, vehicles: this.vehicles, links: this.links }, null, 2) + '\n', 0o600);
  }
}
