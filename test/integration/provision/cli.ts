// The built `mdt` as a technician runs it, and long-running daemons started from it, each
// stopped by its own pid at teardown (SIGTERM, then SIGKILL if it does not stop in time).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { packagePath } from '../../../daemon/paths.js';

export const MDT = packagePath('dist', 'daemon', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function mdt(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MDT, ...args], { timeout: 30_000, env: { ...process.env, MDT_LOG_FORMAT: 'json', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startDaemon(args: string[], env: NodeJS.ProcessEnv = {}): Daemon {
  const child = spawn(process.execPath, [MDT, ...args], {
    env: { ...process.env, MDT_LOG_FORMAT: 'json', MDT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}
