// A real Mosquitto (Debian package) on an ephemeral loopback port, with a generated config,
// password_file (hashed by mosquitto_passwd, as a precinct's provisioning does) and acl_file.
// stop() sends SIGTERM and waits for the process to exit; kill() is the SIGKILL of a crash.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  users: Array<{ username: string; password: string }>;
  acl: string;
  /** Extra lines for mosquitto.conf (e.g. a bridge `connection` block). */
  extra?: string[];
  port?: number;
}

export interface RunningMosquitto {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  /** Everything Mosquitto logged (stderr), for assertions on refusals. */
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL, then start again on the same port with the same files. */
  restart(): Promise<void>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(opts: MosquittoOptions): Promise<RunningMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  // Plain "user:password" lines, then `mosquitto_passwd -U` hashes them in place (PBKDF2-SHA512).
  await writeFile(passwd, opts.users.map((u) => `${u.username}:${u.password}`).join('\n') + '\n', { mode: 0o600 });
  await run('mosquitto_passwd', ['-U', passwd]);
  await writeFile(acl, opts.acl, { mode: 0o600 });
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      // Mosquitto started as root drops to the `mosquitto` user, which cannot read a test's
      // 0600 files; keep the test's own user.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      'persistence false',
      'max_packet_size 1048576',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      ...(opts.extra ?? []),
      '',
    ].join('\n'),
  );
  let logText = '';
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      logText += d.toString();
    });
    await waitFor(async () => (child.exitCode !== null ? Promise.reject(new Error(`mosquitto exited: ${logText}`)) : listening(port)), {
      what: `mosquitto listening on ${port}`,
      timeoutMs: 10_000,
    });
  };
  const exit = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await done;
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    get process() {
      return child;
    },
    log: () => logText,
    async stop() {
      await exit('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await exit('SIGKILL');
      await launch();
    },
  };
}
