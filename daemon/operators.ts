// Credentials of the people who use the precinct's API and console: dispatchers, Watch
// Commanders, CARE operators and fleet technicians (who register and revoke cars). Tokens are
// stored as scrypt hashes; a verified token is cached by its SHA-256 so each request does not pay
// for scrypt.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { hashPassword, newSecret, verifySecret } from '../sync/secret-hash.js';
import { writeFileAtomic } from '../sync/atomic-file.js';

/** Roles that act on the sector boards (calls, units, reports). */
export type OperatorRole = 'dispatcher' | 'watch_commander' | 'care';
/** Every role a token can carry: `fleet` registers and revokes cars and never touches a board. */
export type StaffRole = OperatorRole | 'fleet';
export const STAFF_ROLES: readonly StaffRole[] = ['dispatcher', 'watch_commander', 'care', 'fleet'];
export interface Operator {
  id: string;
  role: OperatorRole;
}
export interface StaffMember {
  id: string;
  role: StaffRole;
}

const fileSchema = z.object({
  version: z.literal(1),
  operators: z.record(z.string(), z.object({ role: z.enum(['dispatcher', 'watch_commander', 'care', 'fleet']), hash: z.string(), revokedAt: z.number().optional() })),
});
type OperatorFile = z.infer<typeof fileSchema>;

export class OperatorRegistry {
  private readonly cache = new Map<string, StaffMember>();

  private constructor(
    private readonly file: string | undefined,
    private data: OperatorFile,
  ) {}

  static async open(file: string): Promise<OperatorRegistry> {
    let raw: string | undefined;
    try {
      raw = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (raw === undefined) return new OperatorRegistry(file, { version: 1, operators: {} });
    const parsed = fileSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new Error(`operator file ${file} is invalid: ${parsed.error.issues[0]?.message}`);
    return new OperatorRegistry(file, parsed.data);
  }

  /** Creates (or re-keys) an operator and returns the new token, shown once. */
  async add(id: string, role: StaffRole): Promise<string> {
    const token = `${id}.${newSecret()}`;
    this.data.operators[id] = { role, hash: await hashPassword(token) };
    this.cache.clear();
    if (this.file) await writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n', 0o600);
    return token;
  }

  async revoke(id: string): Promise<void> {
    const op = this.data.operators[id];
    if (!op) return;
    op.revokedAt = Date.now();
    this.cache.clear();
    if (this.file) await writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n', 0o600);
  }

  /** The board operator a bearer token belongs to; a fleet token is no dispatcher, so undefined. */
  async verify(token: string | undefined): Promise<Operator | undefined> {
    const member = await this.verifyStaff(token);
    if (!member || member.role === 'fleet') return undefined;
    return { id: member.id, role: member.role };
  }

  /** Whoever a bearer token belongs to, whatever the role; tokens are `<operatorId>.<secret>`. */
  async verifyStaff(token: string | undefined): Promise<StaffMember | undefined> {
    if (!token) return undefined;
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.cache.get(key);
    if (cached) return cached;
    const id = token.split('.')[0] ?? '';
    const entry = this.data.operators[id];
    if (!entry || entry.revokedAt !== undefined) return undefined;
    if (!(await verifySecret(token, entry.hash))) return undefined;
    const op: StaffMember = { id, role: entry.role };
    this.cache.set(key, op);
    return op;
  }
}
