// Real gpsd for integration tests, fed recorded NMEA on loopback (docs/hardware.md, "How to
// test"; recipes from the hardware notes):
// - startNmeaFeeder: a Node TCP server writing a capture line by line; gpsd reads it as
//   `tcp://127.0.0.1:PORT`. Deterministic, no pty, no Python, no root.
// - startGpsd: `gpsd -N -b -S PORT tcp://...` in its own process group. Without `-n`, gpsd opens
//   the feed only when the first client WATCHes, so nothing is lost before the client is there.
// - startGpsfake: `gpsfake -P PORT` server mode (cycles the log; `-1` times out in server mode).
// Every process runs in its own process group and is stopped with SIGTERM then SIGKILL: gpsfake
// busy-loops and has been seen to hang on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { sleep, waitFor } from './wait-for.js';

/** Absolute path of a capture in test/fixtures/nmea/. */
export function nmeaFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/nmea/${name}`, import.meta.url));
}

/** The NMEA sentences of a capture, without the gpsd test suite's `#` header lines. */
export async function readNmea(path: string): Promise<string[]> {
  const text = await readFile(path, 'latin1');
  return text.split(/\r?\n/).filter((l) => l.length > 0 && !l.startsWith('#'));
}

export interface NmeaFeeder {
  port: number;
  /** Connections gpsd made to the feeder so far. */
  connections(): number;
  /** Drops gpsd's connection(s), like a receiver being unplugged; the listener stays up. */
  dropClients(): void;
  close(): Promise<void>;
}

export interface NmeaFeederOptions {
  /** Pause between sentences. Real receivers send a burst per second; 10..50 ms keeps tests short. */
  intervalMs?: number;
  /** Replay the capture again and again instead of once. */
  loop?: boolean;
}

export async function startNmeaFeeder(path: string, options: NmeaFeederOptions = {}): Promise<NmeaFeeder> {
  const sentences = await readNmea(path);
  return serveNmea(options.intervalMs ?? 20, () => {
    let i = 0;
    return () => {
      if (i >= sentences.length) {
        if (!options.loop) return '';
        i = 0;
      }
      return `${sentences[i++]}\r\n`;
    };
  });
}

/**
 * A TCP listener gpsd reads NMEA from: each connection gets its own writer, called once at
 * connect and then every `intervalMs`, and sends what it returns.
 */
async function serveNmea(intervalMs: number, writerFor: () => () => string): Promise<NmeaFeeder> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    const next = writerFor();
    const send = (): void => {
      const text = next();
      if (text) socket.write(text);
    };
    send();
    const timer = setInterval(send, intervalMs);
    const forget = (): void => {
      clearInterval(timer);
      sockets.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    dropClients: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ManagedProcess {
  pid: number;
  port: number;
  /** stderr/stdout tail, for failure messages. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface GpsdProcess extends ManagedProcess {
  /**
   * Sends a command to gpsd's control socket, as udev's hotplug script (gpsdctl) does when a
   * USB receiver is plugged (`+PATH`) or unplugged (`-PATH`). Resolves with gpsd's answer.
   */
  control(command: string): Promise<string>;
}

/** Starts `gpsd -N -b -S PORT SOURCE` (foreground, read-only) and waits until it accepts. */
export async function startGpsd(source: string, options: { port?: number } = {}): Promise<GpsdProcess> {
  const port = options.port ?? (await freePort());
  // -N foreground, -b read-only (never reconfigure a receiver), -S port, -F a private control
  // socket so parallel tests do not fight over /run/gpsd.sock, -D 0 quiet.
  const dir = await mkdtemp(join(tmpdir(), 'mdt-gpsd-'));
  const controlSocket = join(dir, 'gpsd.sock');
  const proc = spawnGroup('gpsd', ['-N', '-b', '-D', '0', '-S', String(port), '-F', controlSocket, source]);
  const managed = manage(proc, port, async () => rm(dir, { recursive: true, force: true }));
  await waitUntilListening(managed, port);
  return { ...managed, control: (command) => controlCommand(controlSocket, command) };
}

function controlCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath, () => socket.write(`${command}\n`));
    socket.setEncoding('utf8');
    socket.once('data', (answer: string) => {
      socket.end();
      resolve(answer.trim());
    });
    socket.once('error', reject);
  });
}

/**
 * Starts gpsfake in server mode on a free port, cycling `log`. gpsfake creates its
 * `gpsfake-<pid>.sock` in TMPDIR and leaves it behind, so it gets a private TMPDIR we delete.
 */
export async function startGpsfake(log: string, options: { cycleS?: number } = {}): Promise<ManagedProcess> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mdt-gpsfake-'));
  const proc = spawnGroup('gpsfake', ['-q', '-P', String(port), '-c', String(options.cycleS ?? 0.05), log], {
    ...process.env,
    TMPDIR: dir,
  });
  const managed = manage(proc, port, async () => rm(dir, { recursive: true, force: true }));
  await waitUntilListening(managed, port);
  return managed;
}

function spawnGroup(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  // detached: the child leads a new process group, so kill(-pid) reaches gpsfake's gpsd too.
  return spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
}

function manage(proc: ChildProcess, port: number, cleanup: () => Promise<void>): ManagedProcess {
  let output = '';
  let exited = false;
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  const exit = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  proc.once('error', (err) => {
    append(Buffer.from(String(err)));
    exited = true;
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: proc.pid ?? -1,
    port,
    output: () => output,
    exited: () => exited,
    stop: () => (stopping ??= stopGroup(proc, exit, () => exited).then(cleanup)),
  };
}

async function stopGroup(proc: ChildProcess, exit: Promise<void>, hasExited: () => boolean): Promise<void> {
  const pid = proc.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  signalGroup('SIGTERM');
  const termed = await Promise.race([exit.then(() => true), sleep(1500).then(() => false)]);
  // Even if the leader exited, a grandchild (gpsfake's gpsd) may linger: SIGKILL the group.
  signalGroup('SIGKILL');
  if (!termed && !hasExited()) await Promise.race([exit, sleep(2000)]);
}

async function waitUntilListening(proc: ManagedProcess, port: number): Promise<void> {
  try {
    await waitFor(
      async () => {
        if (proc.exited()) throw new Error(`process exited early: ${proc.output()}`);
        return await canConnect(port);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `port ${port} to accept` },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** NMEA 0183 checksum: XOR of the characters between `$` and `*`, two hex digits. */
function nmea(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * One epoch of a stationary receiver with a 3D fix at `at` (RMC for date and speed, GGA for
 * altitude and satellites, GSA for the fix mode). Used where a test needs a fix with the
 * current time, which the recorded captures cannot give (their dates are years old).
 */
export function liveNmeaEpoch(at: Date, lat: number, lon: number): string[] {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const time = `${pad(at.getUTCHours(), 2)}${pad(at.getUTCMinutes(), 2)}${pad(at.getUTCSeconds(), 2)}.${pad(Math.floor(at.getUTCMilliseconds() / 10), 2)}`;
  const date = `${pad(at.getUTCDate(), 2)}${pad(at.getUTCMonth() + 1, 2)}${pad(at.getUTCFullYear() % 100, 2)}`;
  const dm = (deg: number, w: number): string => {
    const a = Math.abs(deg);
    const d = Math.floor(a);
    return `${pad(d, w)}${((a - d) * 60).toFixed(4).padStart(7, '0')}`;
  };
  const latText = `${dm(lat, 2)},${lat >= 0 ? 'N' : 'S'}`;
  const lonText = `${dm(lon, 3)},${lon >= 0 ? 'E' : 'W'}`;
  return [
    nmea(`GPRMC,${time},A,${latText},${lonText},0.0,0.0,${date},,,A`),
    nmea(`GPGGA,${time},${latText},${lonText},1,08,0.9,52.4,M,-17.0,M,,`),
    nmea('GPGSA,A,3,04,05,09,12,24,25,29,31,,,,,1.8,0.9,1.5'),
  ];
}

/** A feeder that sends a current-time epoch every `intervalMs` (default 1 s, like a receiver). */
export async function startLiveNmeaFeeder(options: { lat: number; lon: number; intervalMs?: number }): Promise<NmeaFeeder> {
  return serveNmea(options.intervalMs ?? 1000, () => () => liveNmeaEpoch(new Date(), options.lat, options.lon).map((l) => `${l}\r\n`).join(''));
}
