// Vehicle credentials: issued machine tokens are kept as a salted HMAC (cheap to check at every
// CONNECT), anything typed by a person stays on scrypt, a registry provisioned with scrypt hashes
// keeps working and moves to the cheap format after a car's first successful connect, and every
// refusal still comes back with its reason, which the embedded broker logs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../../sync/broker.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import type { Logger } from '../../../sync/logger.js';
import { hashIssuedSecret, hashMachineToken, hashPassword, isMachineToken, newSecret, verifySecret } from '../../../sync/secret-hash.js';
import { waitFor } from '../../helpers/wait-for.js';

const V1 = { unitId: 'NB1', sector: 'B', precinct: 'N' };
const HUMAN = 'car-one-test-secret-0123456789';

describe('secret hash formats', () => {
  it('keeps a machine token as a salted HMAC that verifies it and nothing else', async () => {
    const token = newSecret();
    const a = hashMachineToken(token);
    const b = hashMachineToken(token);
    expect(a).toMatch(/^hmac-sha256\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b); // a fresh salt each time: equal tokens do not show in the file
    expect(a).not.toContain(token);
    expect(await verifySecret(token, a)).toBe(true);
    expect(await verifySecret(token, b)).toBe(true);
    expect(await verifySecret(newSecret(), a)).toBe(false);
    expect(await verifySecret(token.slice(0, -1), a)).toBe(false);
    expect(await verifySecret(`${token}x`, a)).toBe(false);
  });

  it('tells issued tokens from typed secrets by their shape', () => {
    for (let i = 0; i < 200; i++) expect(isMachineToken(newSecret())).toBe(true);
    expect(isMachineToken(HUMAN)).toBe(false); // 30 characters
    expect(isMachineToken('correct horse battery staple and more words')).toBe(false); // spaces
    expect(isMachineToken('a'.repeat(40))).toBe(false);
    expect(isMachineToken('0123456789'.repeat(4))).toBe(false); // 10 distinct characters
    expect(isMachineToken(`${newSecret()}!`)).toBe(false);
    expect(() => hashMachineToken(HUMAN)).toThrow(/not a machine token/);
  });

  it('keeps a typed secret on scrypt', async () => {
    const stored = await hashIssuedSecret(HUMAN);
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifySecret(HUMAN, stored)).toBe(true);
    expect(await verifySecret('car-one-test-secret-012345678X', stored)).toBe(false);
    expect(await hashIssuedSecret(newSecret())).toMatch(/^hmac-sha256\$/);
  });

  it('refuses a hash it cannot read, and never matches a truncated one', async () => {
    await expect(verifySecret('x', 'md5$abc$def')).rejects.toThrow(/unrecognised secret hash/);
    await expect(verifySecret('x', 'plaintext')).rejects.toThrow(/unrecognised secret hash/);
    const token = newSecret();
    const [alg, salt] = hashMachineToken(token).split('$');
    expect(await verifySecret(token, `${alg}$${salt}$`)).toBe(false);
  });
});

describe('vehicle registry', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-creds-'));
    file = join(dir, 'vehicles.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const stored = async (): Promise<{ vehicles: Record<string, { hash: string }>; links: Record<string, { hash: string }> }> => JSON.parse(await readFile(file, 'utf8'));

  it('registers an issued token in the HMAC format and authenticates it after a restart', async () => {
    const secret = newSecret();
    const reg = await VehicleRegistry.open(file);
    await reg.register('V1', V1, secret);
    expect((await stored()).vehicles.V1!.hash).toMatch(/^hmac-sha256\$/);
    const again = await VehicleRegistry.open(file);
    expect(await again.authenticate('V1', secret)).toEqual({ kind: 'vehicle', vehicleId: 'V1', ...V1 });
  });

  it('gives each refusal its reason', async () => {
    const secret = newSecret();
    const reg = await VehicleRegistry.open(file);
    await reg.register('V1', V1, secret);
    await reg.register('V2', V1, HUMAN);
    expect(await reg.authenticate('V1', newSecret())).toEqual({ refused: 'wrong password' });
    expect(await reg.authenticate('V1', '')).toEqual({ refused: 'wrong password' });
    expect(await reg.authenticate('V2', `${HUMAN}0`)).toEqual({ refused: 'wrong password' });
    expect(await reg.authenticate('V404', secret)).toEqual({ refused: 'unknown vehicle' });
    await reg.revoke('V1');
    expect(await reg.authenticate('V1', secret)).toEqual({ refused: 'vehicle revoked' });
  });

  it('accepts a registry provisioned with scrypt hashes and moves issued tokens to the HMAC format', async () => {
    const token = newSecret();
    const linkToken = newSecret();
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        vehicles: {
          V1: { ...V1, hash: await hashPassword(token), registeredAt: 1 },
          V2: { ...V1, unitId: 'NB2', hash: await hashPassword(HUMAN), registeredAt: 1 },
        },
        links: { E: { sectors: ['B'], hash: await hashPassword(linkToken), registeredAt: 1 } },
      }),
    );
    const reg = await VehicleRegistry.open(file);
    // A wrong secret upgrades nothing.
    expect(await reg.authenticate('V1', newSecret())).toEqual({ refused: 'wrong password' });
    expect((await stored()).vehicles.V1!.hash).toMatch(/^scrypt\$/);

    expect(await reg.authenticate('V1', token)).toMatchObject({ kind: 'vehicle', vehicleId: 'V1' });
    expect(await reg.authenticate('V2', HUMAN)).toMatchObject({ kind: 'vehicle', vehicleId: 'V2' });
    expect(await reg.authenticate('link-E', linkToken)).toEqual({ kind: 'link', name: 'E', sectors: ['B'] });
    await waitFor(async () => (await stored()).links.E!.hash.startsWith('hmac-sha256$'), { what: 'upgraded hashes written' });
    const file1 = await stored();
    expect(file1.vehicles.V1!.hash).toMatch(/^hmac-sha256\$/);
    expect(file1.vehicles.V2!.hash).toMatch(/^scrypt\$/); // a typed secret keeps its slow KDF

    const again = await VehicleRegistry.open(file);
    expect(await again.authenticate('V1', token)).toMatchObject({ kind: 'vehicle', vehicleId: 'V1' });
    expect(await again.authenticate('V1', newSecret())).toEqual({ refused: 'wrong password' });
    expect(await again.authenticate('V2', HUMAN)).toMatchObject({ kind: 'vehicle', vehicleId: 'V2' });
  });

  it('writes one consistent file when many cars connect at once on an old registry', async () => {
    const tokens = Array.from({ length: 6 }, () => newSecret());
    const vehicles: Record<string, unknown> = {};
    for (const [i, t] of tokens.entries()) vehicles[`V${i}`] = { ...V1, unitId: `U${i}`, hash: await hashPassword(t), registeredAt: 1 };
    await writeFile(file, JSON.stringify({ version: 1, vehicles, links: {} }));
    const reg = await VehicleRegistry.open(file);
    const results = await Promise.all(tokens.map((t, i) => reg.authenticate(`V${i}`, t)));
    expect(results.every((r) => 'kind' in r)).toBe(true);
    await waitFor(async () => Object.values((await stored()).vehicles).every((v) => v.hash.startsWith('hmac-sha256$')), { what: 'every upgrade written' });
    const again = await VehicleRegistry.open(file);
    for (const [i, t] of tokens.entries()) expect(await again.authenticate(`V${i}`, t)).toMatchObject({ vehicleId: `V${i}` });
  });

  it('refuses to open a registry whose hash it cannot read', async () => {
    await writeFile(file, JSON.stringify({ version: 1, vehicles: { V1: { ...V1, hash: 'plaintext-secret', registeredAt: 1 } } }));
    await expect(VehicleRegistry.open(file)).rejects.toThrow(/vehicles\.json is invalid: expected a secret hash/);
  });
});

describe('embedded broker authentication', () => {
  it('admits an issued token and logs each refused CONNECT with its reason', async () => {
    const warnings: Array<Record<string, unknown> & { msg?: string }> = [];
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (obj, msg) => warnings.push({ ...obj, msg }) };
    const registry = VehicleRegistry.inMemory();
    const secret = newSecret();
    await registry.register('V1', V1, secret);
    const broker = await startBroker({ auth: registry, log });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const connect = (clientId: string, username: string, password: string) =>
      mqtt.connectAsync(url, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
    try {
      const car = await connect('V1', 'V1', secret);
      expect(car.connected).toBe(true);
      await car.endAsync();
      await expect(connect('x1', 'V1', newSecret())).rejects.toThrow(/Bad username or password/i);
      await expect(connect('x2', 'V404', secret)).rejects.toThrow(/Bad username or password/i);
      const refusals = warnings.filter((w) => w.msg === 'broker refused credentials');
      expect(refusals).toEqual([
        expect.objectContaining({ clientId: 'x1', username: 'V1', reason: 'wrong password' }),
        expect.objectContaining({ clientId: 'x2', username: 'V404', reason: 'unknown vehicle' }),
      ]);
      expect(JSON.stringify(warnings)).not.toContain(secret);
    } finally {
      await broker.close();
    }
  });
});
