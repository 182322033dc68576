// The precinct's embedded MQTT broker, run in a worker thread (broker-worker.ts) so the station's
// Automerge work never stalls message routing between cars (docs/sync-protocol.md §11). This side
// answers the worker's credential checks with the Authenticator, writes its log records, and
// turns its reports into events.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger.js';
import type { Identity } from './acl.js';
import { asBuffer, ownBytes, type BrokerTlsOptions, type ClientRef, type FromWorker, type ToWorker, type WorkerConfig } from './broker-protocol.js';

export type { BrokerTlsOptions, ClientRef } from './broker-protocol.js';

export interface Authenticator {
  authenticate(username: string, password: string): Promise<Identity | { refused: string }>;
}

export interface BrokerOptions {
  auth: Authenticator;
  log: Logger;
  host?: string;
  port?: number;
  tls?: BrokerTlsOptions;
  /** A CONNECT whose credentials the main thread has not checked by then is refused. */
  authTimeoutMs?: number;
  /** Home precincts whose vehicles' publishes are reported as 'publish' events (roaming cars). */
  relayFrom?: string[];
}

export interface RelayedPublish {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

export interface BrokerEvents {
  clientReady: [client: ClientRef];
  clientDisconnect: [client: ClientRef];
  /** A message published by a vehicle of one of `relayFrom`'s precincts. */
  publish: [packet: RelayedPublish, client: ClientRef];
  /** The worker died: the broker is gone (unhandled, this ends the station; systemd restarts it). */
  error: [err: Error];
}

export interface RunningBroker extends EventEmitter<BrokerEvents> {
  port: number;
  host: string;
  tls?: { host: string; port: number };
  /** Publishes into the broker as the broker itself (no client: the links never relay it back). */
  publish(packet: { topic: string; payload: Buffer | string; qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /** Cuts every open connection of a vehicle (revoked MDT); resolves to how many were closed. */
  disconnectVehicle(vehicleId: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Compiled, the worker sits beside this module. Run from source (vitest), this module is
 * TypeScript but a worker thread gets no transform and Node 20 cannot run .ts: the built worker
 * in dist/ is used (`npm test` builds first).
 */
function workerFile(): string {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  const file = fileURLToPath(new URL(fromSource ? '../dist/sync/broker-worker.js' : './broker-worker.js', import.meta.url));
  if (!existsSync(file)) throw new Error(`broker worker ${file} is missing: run npm run build`);
  return file;
}

class WorkerBroker extends EventEmitter<BrokerEvents> implements RunningBroker {
  port = 0;
  host = '';
  tls?: { host: string; port: number };
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: FromWorker & { type: 'done' }) => void; reject: (err: Error) => void }>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly opts: BrokerOptions,
  ) {
    super();
  }

  /** Resolves once the worker listens; rejects if it fails to start. */
  started(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      const exited = (code: number) => reject(new Error(`broker worker exited (code ${code}) before listening`));
      this.worker.once('error', failed);
      this.worker.once('exit', exited);
      this.worker.on('message', (m: FromWorker) => {
        if (m.type !== 'listening') return;
        this.worker.off('error', failed);
        this.worker.off('exit', exited);
        this.host = m.host;
        this.port = m.port;
        if (m.tls) this.tls = m.tls;
        this.worker.on('error', (err) => this.fail(err));
        this.worker.on('exit', (code) => this.fail(new Error(`broker worker exited (code ${code})`)));
        resolve();
      });
      this.worker.on('message', (m: FromWorker) => this.receive(m));
    });
  }

  private receive(m: FromWorker): void {
    const { log } = this.opts;
    switch (m.type) {
      case 'auth':
        void this.opts.auth.authenticate(m.username, m.password).then(
          (result) => this.send({ type: 'auth', id: m.id, result }),
          (err: unknown) => this.send({ type: 'auth', id: m.id, result: { error: err instanceof Error ? err.message : String(err) } }),
        );
        return;
      case 'log':
        log[m.level](m.obj, m.msg);
        return;
      case 'clientReady':
      case 'clientDisconnect':
        this.emit(m.type, m.client);
        return;
      case 'publish':
        this.emit('publish', { topic: m.topic, payload: asBuffer(m.payload), qos: m.qos, retain: m.retain }, m.client);
        return;
      case 'done':
        this.pending.get(m.id)?.resolve(m);
        this.pending.delete(m.id);
        return;
      case 'listening':
      case 'closed':
        return;
    }
  }

  private send(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private request(make: (id: number) => ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker & { type: 'done' }> {
    if (this.closing) return Promise.reject(new Error('broker closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(make(id), transfer);
    });
  }

  /** An unexpected end of the worker: the broker is gone; fail loudly, never limp on without it. */
  private fail(err: Error): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.opts.log.error({ err: err.message }, 'broker worker died');
    this.emit('error', err);
  }

  async publish(packet: { topic: string; payload: Buffer | string; qos?: 0 | 1; retain?: boolean }): Promise<void> {
    const payload = ownBytes(packet.payload);
    const done = await this.request(
      (id) => ({ type: 'publish', id, topic: packet.topic, payload, qos: packet.qos ?? 1, retain: packet.retain ?? false }),
      [payload.buffer as ArrayBuffer],
    );
    if (done.error) throw new Error(done.error);
  }

  async disconnectVehicle(vehicleId: string): Promise<number> {
    return (await this.request((id) => ({ type: 'disconnect', id, vehicleId }))).closed ?? 0;
  }

  close(): Promise<void> {
    // The worker closes aedes (every client) and its listeners first, so nothing is cut mid-write.
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'closed') resolve();
      });
      this.send({ type: 'close' });
    }).then(() => this.worker.terminate().then(() => undefined));
    return this.closing;
  }
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const config: WorkerConfig = {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    ...(opts.tls ? { tls: opts.tls } : {}),
    authTimeoutMs: opts.authTimeoutMs ?? 10_000,
    relayFrom: opts.relayFrom ?? [],
  };
  const worker = new Worker(workerFile(), { workerData: config, name: 'mqtt-broker' });
  const broker = new WorkerBroker(worker, opts);
  try {
    await broker.started();
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  opts.log.info({ host: broker.host, port: broker.port }, 'broker listening');
  if (broker.tls) opts.log.info({ host: broker.tls.host, port: broker.tls.port }, 'broker TLS listening');
  return broker;
}
