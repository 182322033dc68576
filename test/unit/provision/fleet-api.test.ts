// The precinct's fleet routes through app.request (no port): who may register and revoke, the
// idempotent registration rules, and that no hash or secret ever comes back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrecinctApi } from '../../../daemon/precinct-api.js';
import { OperatorRegistry } from '../../../daemon/operators.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { newSecret } from '../../../sync/secret-hash.js';
import { sampleDepartment, testLogger } from '../../helpers/fleet.js';
import type { Department } from '../../../daemon/department.js';

describe('fleet API', () => {
  let dir: string;
  let app: ReturnType<typeof createPrecinctApi>;
  let registry: VehicleRegistry;
  let department: Department;
  const tokens: Record<string, string> = {};

  const req = (method: string, path: string, token: string | undefined, body?: unknown) =>
    app.request(path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-fleet-api-'));
    department = await sampleDepartment();
    registry = await VehicleRegistry.open(join(dir, 'vehicles.json'));
    const operators = await OperatorRegistry.open(join(dir, 'operators.json'));
    for (const role of ['fleet', 'watch_commander', 'dispatcher'] as const) tokens[role] = await operators.add(`op-${role}`, role);
    app = createPrecinctApi({ precinct: { id: 'N', name: 'North' }, department, sectors: new Map(), operators, registry, log: testLogger() } as never);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('needs a token, and the right role', async () => {
    expect((await req('GET', '/api/v1/fleet/vehicles', undefined)).status).toBe(401);
    expect((await req('GET', '/api/v1/fleet/vehicles', 'op-fleet.wrong')).status).toBe(401);
    const dispatcher = await req('POST', '/api/v1/fleet/vehicles', tokens.dispatcher, { vehicleId: 'V1', unitId: 'U1', sector: 'B', secret: newSecret() });
    expect(dispatcher.status).toBe(403);
    expect(await dispatcher.json()).toMatchObject({ error: 'forbidden', message: 'role dispatcher may not do this; needs fleet' });
    // A Watch Commander may revoke and list, not register.
    expect((await req('POST', '/api/v1/fleet/vehicles', tokens.watch_commander, { vehicleId: 'V1', unitId: 'U1', sector: 'B', secret: newSecret() })).status).toBe(403);
    expect((await req('GET', '/api/v1/fleet/vehicles', tokens.watch_commander)).status).toBe(200);
  });

  it('a fleet token opens no board route', async () => {
    expect((await req('GET', '/api/v1/sectors', tokens.fleet)).status).toBe(401);
  });

  it('registers idempotently and names the field at fault', async () => {
    const secret = newSecret();
    const body = { vehicleId: 'V2001', unitId: 'NB21', sector: 'B', secret };
    const created = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, body);
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ vehicleId: 'V2001', precinct: 'N', outcome: 'created' });
    expect(await (await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, body)).json()).toMatchObject({ outcome: 'unchanged' });
    expect(await (await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, unitId: 'NB22' })).json()).toMatchObject({ outcome: 'updated' });
    expect(registry.get('V2001')?.unitId).toBe('NB22');

    const other = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, secret: newSecret() });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: 'conflict', field: 'vehicleId' });
    const replaced = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, secret: newSecret(), replace: true });
    expect(await replaced.json()).toMatchObject({ outcome: 'replaced' });
    expect('refused' in (await registry.authenticate('V2001', secret))).toBe(true);

    const bad = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, sector: 'nowhere' });
    expect(bad.status).toBe(409);
    expect(await bad.json()).toMatchObject({ field: 'sector', message: 'sector nowhere is not in the department file' });
    const short = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, secret: 'short' });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ field: 'secret' });
    const reserved = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { ...body, vehicleId: 'precinct-N' });
    expect(reserved.status).toBe(400);
    expect(await reserved.json()).toMatchObject({ field: 'vehicleId' });
  });

  it('revokes, keeps the entry for audit, and refuses re-registration without replace', async () => {
    const secret = newSecret();
    await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { vehicleId: 'V3001', unitId: 'NB31', sector: 'B', secret });
    const r = await req('POST', '/api/v1/fleet/vehicles/V3001/revoke', tokens.watch_commander);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ vehicleId: 'V3001', unitId: 'NB31', alreadyRevoked: false, effect: 'refused at its next connect' });
    expect(body.revokedAt).toEqual(expect.any(String));
    expect(await registry.authenticate('V3001', secret)).toEqual({ refused: 'vehicle revoked' });
    expect(await (await req('POST', '/api/v1/fleet/vehicles/V3001/revoke', tokens.fleet)).json()).toMatchObject({ alreadyRevoked: true });
    expect((await req('POST', '/api/v1/fleet/vehicles/V9999/revoke', tokens.fleet)).status).toBe(404);

    const again = await req('POST', '/api/v1/fleet/vehicles', tokens.fleet, { vehicleId: 'V3001', unitId: 'NB31', sector: 'B', secret });
    expect(again.status).toBe(409);
    const list = (await (await req('GET', '/api/v1/fleet/vehicles', tokens.fleet)).json()) as { vehicles: Array<Record<string, unknown>> };
    expect(list.vehicles.map((v) => v.vehicleId)).toEqual(['V2001', 'V3001']);
    expect(JSON.stringify(list)).not.toMatch(/scrypt|hash|secret/);
  });
});
