// The `mdt` command as a technician meets it: help, strict flags, and one-line config errors that
// name the field. Runs the built program (dist/), as the systemd unit does.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../../daemon/paths.js';

const run = promisify(execFile);
const MDT = packagePath('dist', 'daemon', 'main.js');

async function mdt(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MDT, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mdt CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists its commands on --help', async () => {
    const r = await mdt('--help');
    expect(r.code).toBe(0);
    for (const cmd of ['vehicle', 'precinct', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
  });

  it('explains each subcommand on --help', async () => {
    const r = await mdt('vehicle', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--config FILE');
  });

  it('refuses an unknown flag in one line and exits non-zero', async () => {
    const r = await mdt('precinct', '--confg', 'x.json');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--confg'");
  });

  it('refuses an unknown command', async () => {
    const r = await mdt('fly');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "fly"');
  });

  it('names the field at fault in a bad vehicle config', async () => {
    const file = join(dir, 'bad-vehicle.json');
    await writeFile(
      file,
      JSON.stringify({
        vehicle: { id: 'V1', unit: 'NB11', homeBeat: 'B1', sector: 'B', precinct: 'N' },
        brokers: [{ url: 'http://precinct-n:1883' }],
        credentials: { password: 'long-enough-secret' },
        hardware: { gps: { kind: 'sim' }, modem: { kind: 'none' }, inputs: { kind: 'none' } },
      }),
    );
    const r = await mdt('vehicle', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`mdt vehicle: ${file}: brokers[0].url: expected an mqtt://, mqtts://, ws:// or wss:// URL with a host`);
  });

  it('refuses a screen bound beyond loopback unless allowed', async () => {
    const file = join(dir, 'remote-ui.json');
    await writeFile(
      file,
      JSON.stringify({
        vehicle: { id: 'V1', unit: 'NB11', homeBeat: 'B1', sector: 'B', precinct: 'N' },
        brokers: [{ url: 'mqtt://127.0.0.1:1883' }],
        credentials: { password: 'long-enough-secret' },
        ui: { host: '0.0.0.0' },
        hardware: { gps: { kind: 'sim' }, modem: { kind: 'none' }, inputs: { kind: 'none' } },
      }),
    );
    const r = await mdt('vehicle', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ui.host: must be a loopback address unless ui.allowRemote is true');
  });

  it('reports an unreadable or non-JSON config file', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ "precinct": ');
    const r = await mdt('precinct', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.json: \(file\): not valid JSON/);
    const missing = await mdt('precinct', '--config', join(dir, 'nope.json'));
    expect(missing.stderr).toContain('(file): cannot read: ENOENT');
  });

  it('names an unknown field in a precinct config', async () => {
    const file = join(dir, 'extra.json');
    await writeFile(file, JSON.stringify({ precinct: { id: 'N', name: 'North' }, brokerr: {} }));
    const r = await mdt('precinct', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(root): unknown field(s) brokerr');
  });
});
