// A pseudo-terminal pair from socat, standing in for a serial cable: the device simulator opens
// one end, the adapter under test the other. Links live in a private temp directory, so parallel
// tests never collide. Killing socat makes both ends vanish, which is how tests unplug a
// "USB modem"; starting again with the same paths plugs it back in.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, waitFor } from './wait-for.js';

export interface PtyPair {
  /** The end the adapter under test opens (the "device" as the daemon sees it). */
  devicePath: string;
  /** The end the simulator opens (the modem or interface module side). */
  simulatorPath: string;
  /** Kills socat: both links vanish. */
  unplug(): Promise<void>;
  /** Starts socat again with the same link paths. */
  plug(): Promise<void>;
  /** Unplugs and removes the temp directory. */
  close(): Promise<void>;
}

export async function createPtyPair(name = 'tty'): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-pty-'));
  const devicePath = join(dir, `${name}DEV`);
  const simulatorPath = join(dir, `${name}SIM`);
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const plug = async (): Promise<void> => {
    if (proc) return;
    // raw,echo=0: no line discipline, so bytes pass unchanged in both directions, as on a real
    // serial link to a modem.
    const child = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${simulatorPath}`], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    let gone = false;
    exited = new Promise((resolve) => child.once('exit', () => ((gone = true), resolve())));
    proc = child;
    await waitFor(
      () => {
        if (gone) throw new Error(`socat exited: ${stderr}`);
        return existsSync(devicePath) && existsSync(simulatorPath);
      },
      { timeoutMs: 5000, intervalMs: 10, what: 'socat pty links' },
    );
  };

  const unplug = async (): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child?.pid) return;
    const pid = child.pid;
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    };
    // socat removes its links on SIGTERM; SIGKILL if it does not exit promptly.
    kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(1000).then(() => false)]);
    if (!done) {
      kill('SIGKILL');
      await Promise.race([exited, sleep(1000)]);
    }
    await rm(devicePath, { force: true });
    await rm(simulatorPath, { force: true });
  };

  await plug();
  return {
    devicePath,
    simulatorPath,
    unplug,
    plug,
    close: async () => {
      await unplug();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
