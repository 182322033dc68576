// Deployment: the systemd units pass `systemd-analyze verify` (Debian's systemd), install.sh
// does what it says (dry run), and the daemon refuses a sector board newer than itself with one
// line and exit code 3 (which the units name in RestartPreventExitStatus), touching nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as Automerge from '@automerge/automerge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../../daemon/paths.js';
import { createBoard, docIdOf } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { freePort } from '../../helpers/free-port.js';
import { MDT, mdt } from './cli.js';

const run = promisify(execFile);

async function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('deployment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-deploy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['mdt-vehicle.service', 'mdt-precinct.service'])('%s passes systemd-analyze verify', async (unit) => {
    // verify checks that ExecStart's binary exists: point a copy at this node and the built CLI.
    const text = await readFile(packagePath('deploy', unit), 'utf8');
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/mdt\/current\/dist\/daemon\/main\.js /m);
    const copy = join(dir, unit);
    await writeFile(copy, text.replace('ExecStart=/usr/bin/node /opt/mdt/current/dist/daemon/main.js', `ExecStart=${process.execPath} ${MDT}`));
    const r = await sh('systemd-analyze', ['verify', copy]);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    // The hardening the issue asks for is there, and the secret comes as a credential.
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'Restart=on-failure', 'RestartPreventExitStatus=2 3', 'Type=notify', 'WatchdogSec=']) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^User=mdt/m);
    expect(text).toMatch(/^StateDirectory=mdt/m);
    if (unit === 'mdt-vehicle.service') expect(text).toContain('LoadCredential=broker-password:/etc/mdt/broker-password');
  });

  it('install.sh: a dry run shows the package, the user, the release switch and the unit', async () => {
    const prefix = join(dir, 'opt');
    const r = await sh('bash', [packagePath('deploy', 'install.sh'), 'vehicle', '--dry-run'], { MDT_PREFIX: prefix });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`+ env -C ${prefix}/releases/0.1.0.new npm ci --omit=dev --ignore-scripts`);
    expect(r.out).toContain(`+ mv -Tf ${prefix}/current.new ${prefix}/current`);
    expect(r.out).toContain('+ install -d -m 0750 -o root -g mdt /etc/mdt');
    expect(r.out).toContain('would install /etc/systemd/system/mdt-vehicle.service');
    // A dry run changes nothing.
    await expect(readdir(prefix)).rejects.toThrow();

    const bad = await sh('bash', [packagePath('deploy', 'install.sh'), 'tractor']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('unknown argument "tractor"');
  });

  it('mdt diag on a station: its config with link passwords redacted, state listed, no board contents', async () => {
    const stateDir = join(dir, 'station');
    await mkdir(join(stateDir, 'boards'), { recursive: true });
    await writeFile(join(stateDir, 'boards', 'B%401.log'), 'board bytes that must stay home');
    const cfg = join(dir, 'precinct.json');
    await writeFile(
      cfg,
      JSON.stringify({
        precinct: { id: 'N', name: 'North' },
        links: [{ precinct: 'W', url: 'mqtt://precinct-w.example:1883', password: 'link-secret-never-shipped' }],
        stateDir,
      }),
    );
    const out = join(dir, 'station-diag.tar.gz');
    const r = await mdt(['diag', '--config', cfg, '--out', out]);
    expect(r.code).toBe(0);
    const x = join(dir, 'station-diag');
    await mkdir(x);
    await run('tar', ['-xzf', out, '-C', x]);
    const [bundle] = await readdir(x);
    expect(bundle).toMatch(/^mdt-diag-precinct-N-\d{8}T\d{6}$/);
    const config = await readFile(join(x, bundle!, 'config.redacted.json'), 'utf8');
    expect(config).toContain('"password": "[redacted]"');
    const all = (await Promise.all((await readdir(join(x, bundle!))).map((f) => readFile(join(x, bundle!, f), 'utf8')))).join('\n');
    expect(all).not.toContain('link-secret-never-shipped');
    expect(all).not.toContain('board bytes that must stay home');
    expect(await readFile(join(x, bundle!, 'files.txt'), 'utf8')).toContain('boards/B%401.log');

    // A config that does not load is when support needs the bundle most: the error rides along.
    const broken = join(dir, 'broken-vehicle.json');
    await writeFile(broken, JSON.stringify({ vehicle: { id: 'V7' }, brokers: [], credentials: { password: 'also-never-shipped' } }));
    const b = await mdt(['diag', '--config', broken, '--out', join(dir, 'broken.tar.gz')]);
    expect(b.code).toBe(0);
    const { stdout } = await run('tar', ['-xzOf', join(dir, 'broken.tar.gz')]);
    expect(stdout).toMatch(/"configError": ".*broken-vehicle\.json: vehicle\.unit: /);
    expect(stdout).not.toContain('also-never-shipped');
  });

  it('precinct-admin on a stopped station: add-operator prints the token once, list reads the registry file', async () => {
    const cfg = join(dir, 'stopped-precinct.json');
    await writeFile(cfg, JSON.stringify({ precinct: { id: 'N', name: 'North' }, api: { port: await freePort() }, stateDir: join(dir, 'stopped-station') }));
    const add = await mdt(['precinct-admin', 'add-operator', 'fleet-1', '--role', 'fleet', '--config', cfg]);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^fleet-1\.[A-Za-z0-9_-]{32}\n$/);
    expect(add.stderr).toContain('shown once');
    expect(add.stderr).not.toContain('restart');
    const ops = JSON.parse(await readFile(join(dir, 'stopped-station', 'operators.json'), 'utf8')) as { operators: Record<string, { role: string; hash: string }> };
    expect(ops.operators['fleet-1']?.role).toBe('fleet');
    expect(JSON.stringify(ops)).not.toContain(add.stdout.trim());

    const list = await mdt(['precinct-admin', 'list', '--config', cfg]);
    expect(list).toMatchObject({ code: 0, stdout: 'no vehicles registered\n' });
    const bad = await mdt(['precinct-admin', 'add-operator', 'x', '--role', 'sheriff', '--config', cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('mdt precinct-admin: --role: expected one of dispatcher, watch_commander, care, fleet, got "sheriff"');
    const unknown = await mdt(['precinct-admin', 'fly', '--config', cfg]);
    expect(unknown.stderr.trim()).toBe('mdt precinct-admin: unknown action "fly" (list, revoke, add-operator)');
  });

  it('the daemon refuses a board newer than it knows, in one line, exit 3, leaving it untouched', async () => {
    const stateDir = join(dir, 'car-state');
    const boards = join(stateDir, 'boards');
    await mkdir(boards, { recursive: true });
    const store = new FileDocStore(boards);
    const newer = Automerge.change(createBoard('B', '1'), (d) => {
      (d as unknown as { schemaVersion: number }).schemaVersion = 99;
    });
    await store.save(docIdOf('B', '1'), newer);
    await store.close();
    const before = await Promise.all((await readdir(boards)).sort().map((f) => readFile(join(boards, f))));

    const cfg = join(dir, 'vehicle.json');
    await writeFile(
      cfg,
      JSON.stringify({
        vehicle: { id: 'V1001', unit: 'NB11', homeBeat: 'B1', sector: 'B', precinct: 'N' },
        brokers: [{ url: `mqtt://127.0.0.1:${await freePort()}` }],
        credentials: { password: 'a-long-enough-test-secret' },
        ui: { port: 0 },
        stateDir,
        hardware: { gps: { kind: 'sim' }, modem: { kind: 'none' }, inputs: { kind: 'none' } },
      }),
    );
    const r = await mdt(['vehicle', '--config', cfg]);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mdt vehicle: .*schema version 99.*upgrade the daemon/);
    expect(lines[0]).toContain('docs/precinct-guide.md');
    const after = await Promise.all((await readdir(boards)).sort().map((f) => readFile(join(boards, f))));
    expect(after).toEqual(before);
  });
});
