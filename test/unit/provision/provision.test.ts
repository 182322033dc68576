// Provisioning and the station's admin commands without a running station: the registry file is
// written directly (the station stopped), the rules for the secret and the identity, the
// systemd-credential path of the secret, and the redaction that status and diag rely on.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, precinctConfigSchema, resolvePasswordFile, loadVehicleConfig, readVehiclePassword, type PrecinctConfig } from '../../../daemon/config.js';
import { addOperator, fileRegistrar, listVehicles, parseBrokerArg, parseRole, provision, revokeVehicle, type ProvisionOptions } from '../../../daemon/provision.js';
import { redact } from '../../../daemon/status.js';
import { OperatorRegistry } from '../../../daemon/operators.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { sampleDepartment } from '../../helpers/fleet.js';
import { freePort } from '../../helpers/free-port.js';

describe('provisioning on the station (registry file)', () => {
  let dir: string;
  let precinct: PrecinctConfig;
  const lines: string[] = [];

  const opts = async (over: Partial<ProvisionOptions> = {}): Promise<ProvisionOptions> => ({
    configFile: join(dir, 'etc', 'vehicle.json'),
    vehicleId: 'V1001',
    unit: 'NB11',
    beat: 'B1',
    brokers: [{ url: 'mqtt://precinct-n.example:1883', precinct: 'N' }],
    registrars: [await fileRegistrar(precinct, await sampleDepartment())],
    force: false,
    department: await sampleDepartment(),
    print: (l) => lines.push(l),
    ...over,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-provision-unit-'));
    // The API port is free: the station is "stopped", so the registry file may be written.
    precinct = parseConfig(precinctConfigSchema, { precinct: { id: 'N', name: 'North' }, api: { port: await freePort() }, stateDir: join(dir, 'station') }, 'test');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the config and the secret (0600), registers the hash, and derives sector and precinct from the beat', async () => {
    const r = await provision(await opts({ callSign: 'B1-1' }));
    expect(r.outcomes).toEqual([{ where: `registry ${join(dir, 'station', 'vehicles.json')}`, outcome: 'created' }]);
    const secret = (await readFile(r.secretFile, 'utf8')).trim();
    expect((await stat(r.secretFile)).mode & 0o777).toBe(0o600);
    expect((await stat(r.configFile)).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).not.toContain(secret);
    const registry = await VehicleRegistry.open(join(dir, 'station', 'vehicles.json'));
    expect(await registry.authenticate('V1001', secret)).toEqual({ kind: 'vehicle', vehicleId: 'V1001', unitId: 'NB11', sector: 'B', precinct: 'N' });
    // The daemon loads exactly this file, and reads the secret beside it.
    const cfg = await loadVehicleConfig(r.configFile);
    expect(cfg.vehicle).toMatchObject({ sector: 'B', precinct: 'N', callSign: 'B1-1' });
    expect(await readVehiclePassword(cfg, r.configFile)).toBe(secret);
  });

  it('keeps the secret when run again, and re-registers a moved unit without re-keying', async () => {
    const before = await readFile(join(dir, 'etc', 'broker-password'), 'utf8');
    const again = await provision(await opts({ callSign: 'B1-1' }));
    expect(again.outcomes[0]?.outcome).toBe('unchanged');
    expect(again.wrote).toBe(false);
    const moved = await provision(await opts({ unit: 'NB12', beat: 'B2' }));
    expect(moved.outcomes[0]?.outcome).toBe('updated');
    expect(await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).toBe(before);
    expect(moved.config.vehicle.homeBeat).toBe('B2');
  });

  it('refuses another identity and a beat outside the given sector; --force re-keys', async () => {
    await expect(provision(await opts({ vehicleId: 'V2002' }))).rejects.toThrow(/already holds the identity of vehicle V1001 \(unit NB12\); refusing to overwrite it without --force/);
    await expect(provision(await opts({ sector: 'J' }))).rejects.toThrow('--sector: beat B1 belongs to sector B, not J');
    await expect(provision(await opts({ brokers: [] }))).rejects.toThrow('--broker is required');
    const before = await readFile(join(dir, 'etc', 'broker-password'), 'utf8');
    const forced = await provision(await opts({ force: true }));
    expect(forced.outcomes[0]?.outcome).toBe('replaced');
    expect(await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).not.toBe(before);
  });

  it('gives the TLS brokers the CA file, and only them', async () => {
    const ca = join(dir, 'county-ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
    const r = await provision(await opts({ force: true, caFile: ca, brokers: [{ url: 'mqtts://precinct-n.example:8883', precinct: 'N' }, { url: 'mqtt://lab:1883' }] }));
    // Copied beside the config (the service user cannot read a technician's home), named relatively.
    expect(JSON.parse(await readFile(r.configFile, 'utf8')).brokers).toEqual([{ url: 'mqtts://precinct-n.example:8883', precinct: 'N', caFile: 'broker-ca.pem' }, { url: 'mqtt://lab:1883' }]);
    expect(r.config.brokers[0]?.caFile).toBe('broker-ca.pem');
    expect(await readFile(join(dir, 'etc', 'broker-ca.pem'), 'utf8')).toBe('-----BEGIN CERTIFICATE-----\n');
    expect((await loadVehicleConfig(r.configFile)).brokers[0]?.caFile).toBe(join(dir, 'etc', 'broker-ca.pem'));
    await expect(provision(await opts({ caFile: join(dir, 'missing.pem') }))).rejects.toThrow(`--ca: ${join(dir, 'missing.pem')} does not exist`);
  });

  it('refuses a hardware section that does not validate, naming the field', async () => {
    const hw = join(dir, 'hw.json');
    await writeFile(hw, JSON.stringify({ gps: { kind: 'gpsd', port: 99999 } }));
    await expect(provision(await opts({ hardwareFile: hw }))).rejects.toThrow(/^--hardware: hardware\.gps\.port: /);
  });

  it('lists and revokes on the registry file; adds operators with any staff role', async () => {
    const target = { precinct };
    expect((await listVehicles(target)).map((v) => [v.vehicleId, v.revokedAt === undefined])).toEqual([['V1001', true]]);
    const r = await revokeVehicle(target, 'V1001');
    expect(r.alreadyRevoked).toBe(false);
    expect((await listVehicles(target))[0]?.revokedAt).toEqual(expect.any(String));
    await expect(revokeVehicle(target, 'V404')).rejects.toThrow('vehicle V404 is not registered');

    const op = await addOperator(precinct, 'tech-2', parseRole('fleet'));
    expect(op.restartNeeded).toBe(false);
    const operators = await OperatorRegistry.open(op.file);
    expect(await operators.verifyStaff(op.token)).toEqual({ id: 'tech-2', role: 'fleet' });
    expect(await operators.verify(op.token)).toBeUndefined();
    expect(() => parseRole('sheriff')).toThrow('--role: expected one of dispatcher, watch_commander, care, fleet, got "sheriff"');
  });
});

describe('provisioning helpers', () => {
  it('parses broker arguments, with or without the precinct', () => {
    expect(parseBrokerArg('mqtt://a:1883')).toEqual({ url: 'mqtt://a:1883' });
    expect(parseBrokerArg('W=mqtts://b.example:8883')).toEqual({ url: 'mqtts://b.example:8883', precinct: 'W' });
    expect(() => parseBrokerArg('http://a')).toThrow('--broker: expected an mqtt://');
  });

  it('a relative passwordFile names the systemd credential when CREDENTIALS_DIRECTORY is set', () => {
    expect(resolvePasswordFile('broker-password', '/etc/mdt/vehicle.json', { CREDENTIALS_DIRECTORY: '/run/credentials/mdt-vehicle.service' })).toBe(
      '/run/credentials/mdt-vehicle.service/broker-password',
    );
    expect(resolvePasswordFile('broker-password', '/etc/mdt/vehicle.json', {})).toBe('/etc/mdt/broker-password');
    expect(resolvePasswordFile('/srv/secret', '/etc/mdt/vehicle.json', { CREDENTIALS_DIRECTORY: '/run/x' })).toBe('/srv/secret');
  });

  it('redacts secret values at any depth and keeps paths', () => {
    const r = redact({ credentials: { password: 'p', passwordFile: 'broker-password' }, list: [{ token: 't' }], hash: 'scrypt$..', ok: 1 });
    expect(r).toEqual({ credentials: { password: '[redacted]', passwordFile: 'broker-password' }, list: [{ token: '[redacted]' }], hash: '[redacted]', ok: 1 });
  });
});
