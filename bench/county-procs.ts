// Child processes for the county bench and the drills: the real built `mdt` CLI (precinct and
// vehicle), a real Mosquitto, and CPU/RSS figures read from /proc (no pidusage dependency).
// Every child is spawned as its own process group leader (detached) so that killGroup() ends it
// and anything it started; stopAll() is the bench's last word, whatever happened before.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashIssuedSecret, hashPassword } from '../sync/secret-hash.js';
import { renderMosquittoAcl } from '../sync/mosquitto-acl.js';
import { OperatorRegistry } from '../daemon/operators.js';

const run = promisify(execFile);
/** dist/daemon/main.js, next to this module's dist/bench/. */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'daemon', 'main.js');
export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

const children = new Set<ChildProcess>();

/** Kills the child's whole process group (SIGKILL by default) and waits for the exit. */
export async function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    children.delete(child);
    return;
  }
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  if ((await Promise.race([done, timer])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await done;
  }
  children.delete(child);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => killGroup(c)));
}

/** utime+stime in seconds and RSS in bytes of one process, from /proc (Linux). */
export interface ProcSample {
  at: number;
  cpuS: number;
  rss: number;
  hwm: number;
}

const TICK = 100; // USER_HZ: 100 on every Linux ABI Node supports (sysconf(_SC_CLK_TCK))

export function procSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / TICK; // fields 14 and 15 of proc(5)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { at: performance.now(), cpuS, rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** CPU share (1.0 = one core busy) between two samples. */
export function cpuShare(a: ProcSample | undefined, b: ProcSample | undefined): number {
  if (!a || !b || b.at <= a.at) return 0;
  return (b.cpuS - a.cpuS) / ((b.at - a.at) / 1000);
}

export interface JsonLogChild {
  child: ChildProcess;
  /** Resolves with the first log line whose msg matches. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  lines: Array<Record<string, unknown>>;
  /** The last 4,000 characters the child wrote to stderr (a crash's message). */
  stderr(): string;
}

export interface SpawnCliOptions {
  keep?: (line: Record<string, unknown>) => boolean;
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself (e.g. --trace-gc), before the CLI. */
  nodeArgs?: string[];
  /** Every stdout line that is not a JSON log line (what node's own flags print). */
  onText?: (line: string) => void;
}

/** Spawns `node dist/daemon/main.js <args>` with JSON logs; keeps warn+ lines and watched ones. */
export function spawnCli(args: string[], opts: SpawnCliOptions = {}): JsonLogChild {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MDT_LOG_FORMAT: 'json', ...opts.env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (l: Record<string, unknown>) => void }> = [];
  let buf = '';
  let errText = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        opts.onText?.(text);
        continue;
      }
      for (const w of waiters.splice(0)) {
        if (line.msg === w.msg) w.resolve(line);
        else waiters.push(w);
      }
      if ((typeof line.level === 'number' && line.level >= 40 && lines.length < 5000) || opts.keep?.(line)) lines.push(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    errText = (errText + d.toString()).slice(-4000);
  });
  return {
    child,
    lines,
    stderr: () => errText,
    waitForLog(msg, timeoutMs = 30_000) {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "${msg}" from mdt ${args[0]} in ${timeoutMs} ms; stderr: ${errText}`)), timeoutMs);
        const onExit = (code: number | null, sig: string | null) => {
          clearTimeout(t);
          reject(new Error(`mdt ${args[0]} exited (${code ?? sig}) before "${msg}"; stderr: ${errText}`));
        };
        child.once('exit', onExit);
        waiters.push({
          msg,
          resolve: (l) => {
            clearTimeout(t);
            child.off('exit', onExit);
            resolve(l);
          },
        });
      });
    },
  };
}

export interface CarEntry {
  vehicleId: string;
  unitId: string;
  sector: string;
}

/**
 * The precinct's state directory: vehicles.json with every car (one hash shared by the simulated
 * fleet: hashing 500 secrets would cost the bench half a minute and measure nothing), and a
 * dispatcher token for the CAD API. The hash is what provisioning writes today, or with
 * `legacyScrypt` the scrypt hash of a registry provisioned before machine tokens had their format.
 */
export async function writePrecinctState(stateDir: string, precinct: string, cars: CarEntry[], secret: string, opts: { legacyScrypt?: boolean } = {}): Promise<{ token: string }> {
  const hash = opts.legacyScrypt ? await hashPassword(secret) : await hashIssuedSecret(secret);
  const now = Date.now();
  const vehicles: Record<string, unknown> = {};
  for (const c of cars) vehicles[c.vehicleId] = { unitId: c.unitId, sector: c.sector, precinct, hash, registeredAt: now };
  await writeFile(join(stateDir, 'vehicles.json'), JSON.stringify({ version: 1, vehicles, links: {} }), { mode: 0o600 });
  const ops = await OperatorRegistry.open(join(stateDir, 'operators.json'));
  return { token: await ops.add('bench-cad', 'dispatcher') };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface MosquittoProc {
  url: string;
  port: number;
  child(): ChildProcess;
  /** SIGKILL and start again on the same port (broker crash drill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A real Mosquitto on a free loopback port, with password_file and the generated ACL. */
export async function startMosquitto(dir: string, opts: { precinct: string; sectors: string[]; cars: CarEntry[]; secret: string; precinctSecret: string; bare?: boolean }): Promise<MosquittoProc> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [...(process.getuid?.() === 0 ? ['user root'] : []), 'per_listener_settings false', `listener ${port} 127.0.0.1`, 'persistence false', 'max_packet_size 4194400', 'set_tcp_nodelay true', 'log_dest stderr', 'log_type error', 'log_type warning'];
  if (opts.bare) {
    lines.push('allow_anonymous true');
  } else {
    const passwd = join(dir, 'passwd');
    const users = [`precinct-${opts.precinct}:${opts.precinctSecret}`, ...opts.cars.map((c) => `${c.vehicleId}:${opts.secret}`)];
    await writeFile(passwd, users.join('\n') + '\n', { mode: 0o600 });
    await run('mosquitto_passwd', ['-U', passwd]);
    const acl = join(dir, 'acl');
    await writeFile(acl, renderMosquittoAcl({ precinct: opts.precinct, sectors: opts.sectors, vehicles: opts.cars }), { mode: 0o600 });
    lines.push('allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`);
  }
  await writeFile(conf, lines.join('\n') + '\n');
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(MOSQUITTO, ['-c', conf], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
    children.add(child);
    const c = child;
    c.once('exit', () => children.delete(c));
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    child: () => child,
    async restart() {
      await killGroup(child);
      await launch();
    },
    stop: () => killGroup(child, 'SIGTERM'),
  };
}

/** Samples a process's /proc figures every intervalMs until stopped. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private pid: () => number | undefined,
    private readonly intervalMs = 1000,
  ) {}
  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }
  sample(): ProcSample | undefined {
    const pid = this.pid();
    const s = pid === undefined ? undefined : procSample(pid);
    if (s) this.samples.push(s);
    return s;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
  /** CPU share and mean/peak RSS between two times (performance.now()). */
  window(from: number, to: number): { cpu: number; rssMean: number; rssMax: number } {
    const w = this.samples.filter((s) => s.at >= from && s.at <= to);
    if (w.length < 2) return { cpu: 0, rssMean: w[0]?.rss ?? 0, rssMax: w[0]?.rss ?? 0 };
    return { cpu: cpuShare(w[0], w[w.length - 1]), rssMean: w.reduce((a, s) => a + s.rss, 0) / w.length, rssMax: Math.max(...w.map((s) => s.rss)) };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}
export const median = (xs: ArrayLike<number>): number => quantile(xs, 0.5);
