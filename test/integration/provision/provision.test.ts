// From a bare MDT to a car on the air, with the built CLI as a technician runs it: provision
// against a running precinct (real aedes, real fleet API), start the daemon from the written
// config and see it sync; then status, diagnostics, and the cars the broker must refuse (never
// registered, revoked while connected).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, postCall, type Fleet } from '../../helpers/fleet.js';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/wait-for.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import { mdt, startDaemon, type Daemon } from './cli.js';

const run = promisify(execFile);
const SIM_HARDWARE = { gps: { kind: 'sim', intervalMs: 250, seed: 7 }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } };

interface Health {
  broker: { state: string; lastError?: string };
  sync: { pending: boolean };
}

async function healthOf(port: number): Promise<Health | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return (await res.json()) as Health;
  } catch {
    return undefined;
  }
}

describe('mdt provision against a running precinct', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let dir: string;
  let fleetTokenFile: string;
  let dispatcherTokenFile: string;
  let hardwareFile: string;
  let brokerUrl: string;
  const daemons: Daemon[] = [];
  const car = { config: '', stateDir: '', uiPort: 0 };

  const provisionArgs = (over: Record<string, string> = {}) => {
    const a: Record<string, string> = {
      '--config': car.config,
      '--vehicle': 'V1001',
      '--unit': 'NB11',
      '--call-sign': 'B1-1',
      '--beat': 'B1',
      '--broker': `N=${brokerUrl}`,
      '--precinct-api': precinct.apiUrl,
      '--token-file': fleetTokenFile,
      '--hardware': hardwareFile,
      '--state-dir': car.stateDir,
      '--ui-port': String(car.uiPort),
      ...over,
    };
    return ['provision', ...Object.entries(a).flat()];
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-provision-'));
    fleet = await createFleet();
    precinct = await fleet.addPrecinct({ id: 'N', sectors: ['B'] });
    brokerUrl = precinct.brokerUrl;
    fleetTokenFile = join(dir, 'fleet.token');
    dispatcherTokenFile = join(dir, 'dispatcher.token');
    await writeFile(fleetTokenFile, (await precinct.operators.add('tech-1', 'fleet')) + '\n', { mode: 0o600 });
    await writeFile(dispatcherTokenFile, (await fleet.operatorToken(precinct)) + '\n', { mode: 0o600 });
    hardwareFile = join(dir, 'hardware.json');
    await writeFile(hardwareFile, JSON.stringify(SIM_HARDWARE));
    car.config = join(dir, 'etc', 'vehicle.json');
    car.stateDir = join(dir, 'var', 'mdt');
    car.uiPort = await freePort();
  });

  afterAll(async () => {
    for (const d of daemons.splice(0)) await d.stop();
    await fleet?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a dispatcher token: registering cars takes a fleet operator', async () => {
    const r = await mdt(provisionArgs({ '--token-file': dispatcherTokenFile }));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('refused the operator token');
    expect(precinct.registry.get('V1001')).toBeUndefined();
    await expect(stat(car.config)).rejects.toThrow();
  });

  it('registers the car and writes a validated config and a separate secret, both 0600', async () => {
    const r = await mdt(provisionArgs());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('registered vehicle V1001 with precinct API');
    expect(r.stdout).toContain(': created');

    const secretFile = join(dir, 'etc', 'broker-password');
    expect((await stat(car.config)).mode & 0o777).toBe(0o600);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(secretFile, 'utf8')).trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(r.stdout).not.toContain(secret);

    const cfg = JSON.parse(await readFile(car.config, 'utf8')) as Record<string, unknown>;
    expect(cfg.vehicle).toEqual({ id: 'V1001', unit: 'NB11', callSign: 'B1-1', homeBeat: 'B1', sector: 'B', precinct: 'N', mode: 'car' });
    expect(cfg.brokers).toEqual([{ url: brokerUrl, precinct: 'N' }]);
    expect(cfg.credentials).toEqual({ passwordFile: 'broker-password' });
    expect(JSON.stringify(cfg)).not.toContain(secret);

    // The precinct holds a hash that the car's secret opens.
    const entry = precinct.registry.get('V1001');
    expect(entry).toMatchObject({ unitId: 'NB11', sector: 'B', precinct: 'N' });
    expect(await precinct.registry.authenticate('V1001', secret)).toMatchObject({ kind: 'vehicle', vehicleId: 'V1001' });
  });

  it('is idempotent, and refuses to overwrite another identity without --force', async () => {
    const before = await readFile(join(dir, 'etc', 'broker-password'), 'utf8');
    const again = await mdt(provisionArgs());
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(': unchanged');
    expect(again.stdout).toContain('nothing changed');
    expect(await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).toBe(before);

    const other = await mdt(provisionArgs({ '--vehicle': 'V1002', '--unit': 'NB12' }));
    expect(other.code).toBe(2);
    expect(other.stderr.trim()).toBe(`mdt provision: ${car.config} already holds the identity of vehicle V1001 (unit NB11); refusing to overwrite it without --force`);
    expect(precinct.registry.get('V1002')).toBeUndefined();

    const badBeat = await mdt(provisionArgs({ '--beat': 'Z9' }));
    expect(badBeat.code).toBe(2);
    expect(badBeat.stderr.trim()).toBe('mdt provision: --beat: beat Z9 is not in the department file');
  });

  it('starts the daemon from the written config and syncs with the precinct', async () => {
    // As systemd starts it: the secret only in $CREDENTIALS_DIRECTORY (LoadCredential=), not beside
    // the config, so the relative passwordFile must name the credential.
    const secretFile = join(dir, 'etc', 'broker-password');
    const credentials = join(dir, 'credentials');
    await mkdir(credentials);
    await rename(secretFile, join(credentials, 'broker-password'));
    const daemon = startDaemon(['vehicle', '--config', car.config], { CREDENTIALS_DIRECTORY: credentials });
    daemons.push(daemon);
    const sector = precinct.sectors.get('B')!;
    // Car → precinct: the unit the car put on its board reaches the station's board.
    await waitFor(() => sector.replica.view().units['NB11'], { timeoutMs: 20_000, what: `unit NB11 on the precinct board\n${daemon.output()}` });
    await waitFor(async () => (await healthOf(car.uiPort))?.broker.state === 'online', { timeoutMs: 10_000, what: 'car link online' });
    await rename(join(credentials, 'broker-password'), secretFile);

    // Precinct → car: a new call reaches the car (the station's sync state says the car has it).
    await postCall(precinct, (await readFile(dispatcherTokenFile, 'utf8')).trim(), { type: 'Shoplift', priority: 3, address: '5400 Ballard Ave NW', beat: 'B1' });
    // A live car is sent the change as it is and does not acknowledge it; a round (the station
    // greeting the car) has the car state what it holds.
    await sector.sync.hello('V1001');
    await waitFor(() => sector.sync.inSync('V1001'), { timeoutMs: 10_000, what: 'car has every precinct change' });
    expect((await healthOf(car.uiPort))?.broker.state).toBe('online');
    expect(daemon.output()).not.toContain((await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).trim());
  });

  it('mdt status shows versions, the config without the secret, devices, link, sync and disk', async () => {
    const secret = (await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).trim();
    const r = await mdt(['status', '--config', car.config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mdt 0\.\d+\.\d+ +node v20/m);
    expect(r.stdout).toContain('vehicle   V1001  unit NB11 (B1-1)  beat B1  sector B  precinct N');
    expect(r.stdout).toMatch(/^broker +online via mqtt:\/\/127\.0\.0\.1:\d+/m);
    expect(r.stdout).toMatch(/^board +B@1: (in sync with the precinct|changes PENDING)/m);
    expect(r.stdout).toMatch(/^gps +ok/m);
    expect(r.stdout).toMatch(/^disk +.*mdt: .* in \d+ file\(s\), .* free/m);
    expect(r.stdout).not.toContain(secret);

  });

  it('mdt diag writes one archive with status, redacted config and journal, and no secret', async () => {
    const secret = (await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).trim();
    const out = join(dir, 'diag.tar.gz');
    const r = await mdt(['diag', '--config', car.config, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const { stdout: listing } = await run('tar', ['-tzf', out]);
    for (const f of ['README.txt', 'status.json', 'config.redacted.json', 'journal.txt', 'system.txt', 'files.txt']) expect(listing).toMatch(new RegExp(`/${f.replace('.', '\\.')}$`, 'm'));
    const x = join(dir, 'diag-x');
    await mkdir(x);
    await run('tar', ['-xzf', out, '-C', x]);
    const { stdout: all } = await run('sh', ['-c', `cat ${x}/*/*`]);
    expect(all).toContain('"vehicle"');
    expect(all).toContain('"running": true');
    expect(all).not.toContain(secret);
    expect(listing).not.toMatch(/\.snapshot|\.log$/m);
  });

  it('refuses a car that was never registered', async () => {
    const cfgFile = join(dir, 'stranger', 'vehicle.json');
    const port = await freePort();
    await mkdir(join(dir, 'stranger'));
    await writeFile(join(dir, 'stranger', 'broker-password'), 'a-secret-the-precinct-never-saw-0123456789\n', { mode: 0o600 });
    await writeFile(
      cfgFile,
      JSON.stringify({
        vehicle: { id: 'V6666', unit: 'NB66', homeBeat: 'B2', sector: 'B', precinct: 'N' },
        brokers: [{ url: brokerUrl }],
        credentials: { passwordFile: 'broker-password' },
        ui: { port },
        stateDir: join(dir, 'stranger', 'state'),
        hardware: SIM_HARDWARE,
      }),
    );
    const daemon = startDaemon(['vehicle', '--config', cfgFile]);
    daemons.push(daemon);
    const h = await waitFor(async () => {
      const x = await healthOf(port);
      return x?.broker.state === 'offline' && x.broker.lastError ? x : undefined;
    }, { timeoutMs: 15_000, what: 'the stranger refused' });
    expect(h.broker.lastError).toMatch(/Bad username or password|Not authorized/i);
    expect(precinct.sectors.get('B')!.replica.view().units['NB66']).toBeUndefined();
    await daemon.stop();
  });

  it('revokes a connected car: its connection is cut and every reconnect refused', async () => {
    const r = await mdt(['precinct-admin', 'revoke', 'V1001', '--api', precinct.apiUrl, '--token-file', fleetTokenFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vehicle V1001 \(unit NB11\) revoked at \d{4}-.*: its open connection is cut \(embedded broker\) and it is refused at every connect from now on/m);
    expect(precinct.registry.get('V1001')?.revokedAt).toBeTypeOf('number');

    // The station cut the open connection; every reconnect is refused.
    const h = await waitFor(async () => {
      const x = await healthOf(car.uiPort);
      return x?.broker.state === 'offline' && /Bad username or password|Not authorized/i.test(x.broker.lastError ?? '') ? x : undefined;
    }, { timeoutMs: 15_000, what: 'the revoked car refused at reconnect' });
    expect(h.broker.state).toBe('offline');
    // Refused on every retry: it never comes back online.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await healthOf(car.uiPort))?.broker.state).not.toBe('online');
    // No connection of V1001 is left open at the broker: nothing left to cut.
    expect(await precinct.broker!.disconnectVehicle('V1001')).toBe(0);

    const list = await mdt(['precinct-admin', 'list', '--api', precinct.apiUrl, '--token-file', fleetTokenFile, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ vehicleId: 'V1001', unitId: 'NB11', revokedAt: expect.any(String) })]);

    // Re-provisioning a revoked car needs --force (a replacement MDT), which re-keys it.
    const again = await mdt(provisionArgs());
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('was revoked');
  });

  it('replaces the MDT: --force re-keys the car and the restarted daemon is back on the air', async () => {
    const oldSecret = (await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).trim();
    const r = await mdt(provisionArgs({ '--force': '' }).filter((a) => a !== ''));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(': replaced');
    const newSecret = (await readFile(join(dir, 'etc', 'broker-password'), 'utf8')).trim();
    expect(newSecret).not.toBe(oldSecret);
    expect(precinct.registry.get('V1001')?.revokedAt).toBeUndefined();
    expect('refused' in (await precinct.registry.authenticate('V1001', oldSecret))).toBe(true);

    for (const d of daemons.splice(0)) await d.stop();
    const daemon = startDaemon(['vehicle', '--config', car.config]);
    daemons.push(daemon);
    await waitFor(async () => (await healthOf(car.uiPort))?.broker.state === 'online', { timeoutMs: 20_000, what: `the replaced MDT online\n${daemon.output()}` });
  });
});
