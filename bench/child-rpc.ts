// Calls between the sync bench (bench/sync.ts) and the processes it forks (the station, the probe
// cars): the child serves an object of async functions over IPC, the parent calls them by name.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Request = { id: number; call: string; args: unknown[] } | { stop: true };
type Reply = { ready: unknown } | { id: number; result?: unknown; error?: string } | { failed: string };

type Fn = (...args: never[]) => unknown;
type Args<F> = F extends Fn ? Parameters<F> : never;
type Result<F> = F extends Fn ? Awaited<ReturnType<F>> : never;

export interface Child<C, R> {
  /** What the child said when it was ready. */
  ready: R;
  ask<K extends keyof C & string>(call: K, ...args: Args<C[K]>): Promise<Result<C[K]>>;
  /** Asks the child to stop (its `stop` hook), kills it if it has not gone within 5 s. */
  stop(): Promise<void>;
}

/** Parent side: forks `path` with the JSON of `spec` as its argument and waits until it is ready. */
export async function startChild<C, R>(path: string, spec: unknown): Promise<Child<C, R>> {
  const child: ChildProcess = fork(path, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const ready = await new Promise<R>((resolve, reject) => {
    child.on('message', (m: Reply) => {
      if ('ready' in m) resolve(m.ready as R);
      else if ('failed' in m) reject(new Error(`${path}: ${m.failed}`));
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.result);
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`${path} exited (${code}) before it was ready`));
      for (const p of pending.values()) p.reject(new Error(`${path} exited (${code})`));
    });
  });
  return {
    ready,
    ask: (call, ...args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, call, args } satisfies Request);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ stop: true } satisfies Request);
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** Child side: answers the parent's calls; `stop` runs on the parent's stop request, then the process exits. */
export function serveCalls(calls: object, ready: unknown, stop: () => Promise<void>): void {
  const send = (m: Reply) => process.send?.(m);
  process.on('message', (m: Request) => {
    if ('stop' in m) {
      void stop().finally(() => process.exit(0));
      return;
    }
    void (async () => {
      try {
        const fn = (calls as Record<string, ((...a: unknown[]) => unknown) | undefined>)[m.call];
        if (!fn) throw new Error(`no call ${m.call}`);
        send({ id: m.id, result: await fn(...m.args) });
      } catch (err) {
        send({ id: m.id, error: String(err) });
      }
    })();
  });
  send({ ready });
}

/** Child side: runs main when this module is the forked child (bench/run.ts imports every module of the folder). */
export function runAsChild<S>(moduleUrl: string, main: (spec: S) => Promise<void>): void {
  if (!process.send || process.argv[1] !== fileURLToPath(moduleUrl)) return;
  main(JSON.parse(process.argv[2] ?? '{}') as S).catch((err: unknown) => {
    process.send?.({ failed: String(err) } satisfies Reply);
    process.exit(1);
  });
}
