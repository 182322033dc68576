// The precinct's registry of vehicle credentials. Secrets are stored only as one-way hashes
// (sync/secret-hash.ts): issued machine tokens as a salted HMAC, anything else as scrypt; a
// revoked vehicle keeps its entry (for audit) but never authenticates again.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import { hashIssuedSecret, hashMachineToken, isMachineToken, isScryptHash, SECRET_HASH, verifySecret } from './secret-hash.js';
import type { Identity } from './acl.js';

const secretHash = z.string().regex(SECRET_HASH, 'expected a secret hash (scrypt$… or hmac-sha256$…)');

const vehicleEntry = z.object({
  unitId: z.string(),
  sector: z.string(),
  precinct: z.string(),
  hash: secretHash,
  registeredAt: z.number(),
  revokedAt: z.number().optional(),
});
/** A neighbouring precinct's station (or county bridge) that relays roaming cars into ours. */
const linkEntry = z.object({
  sectors: z.array(z.string()).optional(),
  hash: secretHash,
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

export class VehicleRegistry {
  private readonly revokedListeners: Array<(vehicleId: string) => void> = [];
  /** The write in progress (writes never overlap), and one queued behind it that later changes join. */
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
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
    this.vehicles[vehicleId] = { ...entry, hash: await hashIssuedSecret(secret), registeredAt: Date.now() };
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
    this.links[name] = { ...(sectors ? { sectors } : {}), hash: await hashIssuedSecret(secret), registeredAt: Date.now() };
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
    if (!(await this.verifyAndUpgrade(password, v))) return { refused: 'wrong password' };
    return { kind: 'vehicle', vehicleId: username, unitId: v.unitId, sector: v.sector, precinct: v.precinct };
  }

  private async authenticateLink(name: string, password: string): Promise<Identity | { refused: string }> {
    const l = this.links[name];
    if (!l) return { refused: 'unknown link' };
    if (l.revokedAt !== undefined) return { refused: 'link revoked' };
    if (!(await this.verifyAndUpgrade(password, l))) return { refused: 'wrong password' };
    return { kind: 'link', name, ...(l.sectors ? { sectors: l.sectors } : {}) };
  }

  /**
   * Verifies a secret; an entry still on scrypt (a registry provisioned before machine tokens got
   * their own format) whose secret proves to be a machine token is re-hashed as one, so the
   * station pays scrypt once per car rather than at every reconnect. The secret is the one that
   * just matched, and isMachineToken is the same rule register() applies to new entries.
   */
  private async verifyAndUpgrade(secret: string, entry: { hash: string }): Promise<boolean> {
    const stored = entry.hash;
    if (!(await verifySecret(secret, stored))) return false;
    // Not if a register() replaced the hash while scrypt ran: the newer hash wins.
    if (isScryptHash(stored) && entry.hash === stored && isMachineToken(secret)) {
      entry.hash = hashMachineToken(secret);
      // Failing to write leaves the file's scrypt hash, which still verifies: the upgrade is
      // retried after the next restart, and register()/revoke() report a disk that refuses.
      this.persist().catch(() => undefined);
    }
    return true;
  }

  /** Writes the registry; concurrent calls share one queued write of the latest state. */
  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    // writeFileAtomic's temp name is per process and millisecond: two writes at once could collide.
    this.queued ??= this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return writeFileAtomic(file, JSON.stringify({ version: 1, vehicles: this.vehicles, links: this.links }, null, 2) + '\n', 0o600);
      });
    this.writing = this.queued;
    return this.queued;
  }
}
