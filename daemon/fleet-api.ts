// The precinct's fleet routes (mounted at /api/v1/fleet): fleet technicians register a car's
// broker secret when they provision it, and a technician or a Watch Commander revokes a car whose
// MDT was stolen or replaced. Only a one-way hash of a secret is kept (sync/credentials.ts).
//
// This sub-app authenticates on its own, before the board API's middleware: a `fleet` token opens
// these routes and nothing else, and a dispatcher's token never opens them.
//
// Revocation takes effect at once with the embedded broker: the registry tells the broker, which
// cuts the car's open connection (daemon/precinct.ts), and every later CONNECT is answered "bad
// user name or password" (sync/broker.ts). With an external Mosquitto, its password and ACL files
// must be regenerated (docs/precinct-guide.md).
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import type { Logger } from '../sync/logger.js';
import type { Department } from './department.js';
import type { OperatorRegistry, StaffMember, StaffRole } from './operators.js';
import type { VehicleEntry, VehicleRegistry } from '../sync/credentials.js';
import type { SectorState } from './precinct.js';

export interface FleetApiDeps {
  precinct: { id: string; name: string };
  department: Department;
  sectors: Map<string, SectorState>;
  operators: OperatorRegistry;
  registry: VehicleRegistry;
  log: Logger;
}

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected 1-40 letters, digits, "_", "." or "-"');

export const registerVehicleSchema = z
  .object({
    vehicleId: id,
    unitId: id,
    sector: id,
    /** Generated on the MDT (newSecret: 192 random bits); sent once, stored only as a hash. */
    secret: z.string().min(24, 'expected at least 24 characters').max(200),
    /** Re-key a vehicle that already has another secret, or was revoked (a replaced MDT). */
    replace: z.boolean().optional(),
  })
  .strict();
export type RegisterVehicle = z.infer<typeof registerVehicleSchema>;

/** What GET /vehicles lists: never the hash. */
export interface VehicleSummary {
  vehicleId: string;
  unitId: string;
  sector: string;
  precinct: string;
  registeredAt: string;
  revokedAt?: string;
  /** Presence as this station last saw it (retained presence on the sector's topic). */
  presence?: 'online' | 'offline';
}

export type RegisterOutcome = 'created' | 'unchanged' | 'updated' | 'replaced';

const REGISTER_ROLES: readonly StaffRole[] = ['fleet'];
const REVOKE_ROLES: readonly StaffRole[] = ['fleet', 'watch_commander'];

type Env = { Variables: { staff: StaffMember } };

/** A registry entry as the fleet API and `mdt precinct-admin` show it (never its secret hash). */
export function summary(vehicleId: string, v: VehicleEntry, presence?: 'online' | 'offline'): VehicleSummary {
  return {
    vehicleId,
    unitId: v.unitId,
    sector: v.sector,
    precinct: v.precinct,
    registeredAt: new Date(v.registeredAt).toISOString(),
    ...(v.revokedAt !== undefined ? { revokedAt: new Date(v.revokedAt).toISOString() } : {}),
    ...(presence ? { presence } : {}),
  };
}

/**
 * Registers a vehicle in a registry, idempotently: the same vehicle with the same secret is
 * `unchanged` (or `updated` if its unit or sector moved); another secret, or a revoked entry,
 * needs `replace`. Shared by the API and by `mdt provision --registry` on the station itself.
 */
export async function registerVehicle(
  registry: VehicleRegistry,
  department: Department,
  req: RegisterVehicle,
): Promise<{ outcome: RegisterOutcome } | { conflict: string; field: string }> {
  const sector = department.sectors[req.sector];
  if (!sector) return { conflict: `sector ${req.sector} is not in the department file`, field: 'sector' };
  const entry = { unitId: req.unitId, sector: req.sector, precinct: sector.precinct };
  const existing = registry.get(req.vehicleId);
  if (!existing) {
    await registry.register(req.vehicleId, entry, req.secret);
    return { outcome: 'created' };
  }
  if (req.replace) {
    await registry.register(req.vehicleId, entry, req.secret);
    return { outcome: 'replaced' };
  }
  if (existing.revokedAt !== undefined) {
    return { conflict: `vehicle ${req.vehicleId} was revoked on ${new Date(existing.revokedAt).toISOString()}; re-provisioning it needs replace (mdt provision --force)`, field: 'vehicleId' };
  }
  const same = await registry.authenticate(req.vehicleId, req.secret);
  if ('refused' in same) {
    return { conflict: `vehicle ${req.vehicleId} is already registered with another secret (another MDT?); replacing it locks that MDT out: use replace (mdt provision --force)`, field: 'vehicleId' };
  }
  if (existing.unitId === entry.unitId && existing.sector === entry.sector && existing.precinct === entry.precinct) return { outcome: 'unchanged' };
  await registry.register(req.vehicleId, entry, req.secret);
  return { outcome: 'updated' };
}

export function createFleetApi(deps: FleetApiDeps): Hono<Env> {
  const { log, registry } = deps;
  const app = new Hono<Env>();

  const presenceOf = (vehicleId: string, sector: string): 'online' | 'offline' | undefined => {
    const st = deps.sectors.get(sector);
    if (!st) return undefined;
    for (const p of st.presence.values()) if (p.vehicle === vehicleId) return p.state;
    return undefined;
  };

  const requireRole = (roles: readonly StaffRole[]) =>
    createMiddleware<Env>(async (c, next) => {
      const header = c.req.header('authorization');
      const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      const staff = await deps.operators.verifyStaff(token);
      if (!staff || !roles.includes(staff.role)) {
        log.warn({ method: c.req.method, path: c.req.path, hasToken: token !== undefined, role: staff?.role }, 'audit: fleet request refused');
        return c.json(
          staff
            ? { error: 'forbidden', message: `role ${staff.role} may not do this; needs ${roles.join(' or ')}` }
            : { error: 'unauthorized', message: `a ${roles.join(' or ')} operator bearer token is required` },
          staff ? 403 : 401,
        );
      }
      c.set('staff', staff);
      await next();
      log.info({ audit: true, operator: staff.id, role: staff.role, method: c.req.method, path: c.req.path, status: c.res.status }, 'audit: fleet');
    });

  app.get('/vehicles', requireRole(REVOKE_ROLES), (c) =>
    c.json({
      precinct: deps.precinct.id,
      vehicles: registry
        .list()
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([vid, v]) => summary(vid, v, presenceOf(vid, v.sector))),
    }),
  );

  app.get('/vehicles/:vehicleId', requireRole(REVOKE_ROLES), (c) => {
    const vid = c.req.param('vehicleId');
    const v = registry.get(vid);
    if (!v) return c.json({ error: 'not_found', field: 'vehicleId', message: `vehicle ${vid} is not registered at precinct ${deps.precinct.id}` }, 404);
    return c.json(summary(vid, v, presenceOf(vid, v.sector)));
  });

  app.post('/vehicles', requireRole(REGISTER_ROLES), async (c) => {
    const parsed = registerVehicleSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json({ error: 'invalid', field: issue?.path.join('.') || '(body)', message: issue?.message ?? 'invalid body' }, 400);
    }
    const req = parsed.data;
    let result: Awaited<ReturnType<typeof registerVehicle>>;
    try {
      result = await registerVehicle(registry, deps.department, req);
    } catch (err) {
      // The registry refuses reserved ids (link-*, precinct-*) by throwing.
      return c.json({ error: 'invalid', field: 'vehicleId', message: (err as Error).message }, 400);
    }
    if ('conflict' in result) return c.json({ error: 'conflict', field: result.field, message: result.conflict }, 409);
    const staff = c.get('staff');
    log.info({ audit: true, operator: staff.id, vehicle: req.vehicleId, unit: req.unitId, sector: req.sector, outcome: result.outcome }, 'audit: vehicle registered');
    return c.json({ vehicleId: req.vehicleId, precinct: deps.precinct.id, outcome: result.outcome }, result.outcome === 'created' ? 201 : 200);
  });

  app.post('/vehicles/:vehicleId/revoke', requireRole(REVOKE_ROLES), async (c) => {
    const vid = c.req.param('vehicleId');
    const v = registry.get(vid);
    if (!v) return c.json({ error: 'not_found', field: 'vehicleId', message: `vehicle ${vid} is not registered at precinct ${deps.precinct.id}` }, 404);
    const already = v.revokedAt !== undefined;
    if (!already) await registry.revoke(vid);
    const presence = presenceOf(vid, v.sector);
    const staff = c.get('staff');
    log.warn({ audit: true, operator: staff.id, role: staff.role, vehicle: vid, unit: v.unitId, presence, already }, 'audit: vehicle revoked');
    return c.json({
      ...summary(vid, registry.get(vid)!, presence),
      alreadyRevoked: already,
      effect:
        presence === 'online'
          ? 'its open connection is cut (embedded broker) and it is refused at every connect from now on'
          : 'refused at its next connect',
    });
  });

  return app;
}
