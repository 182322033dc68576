// The embedded broker runs in a worker thread (sync/broker-worker.ts, docs/sync-protocol.md §11):
// cars keep exchanging messages while the station's main thread is busy, credentials are still
// checked by the main thread (with a deadline), and the precinct links get the events they need.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type ClientRef, type RelayedPublish, type RunningBroker } from '../../../sync/broker.js';
import type { Identity } from '../../../sync/acl.js';
import type { Logger } from '../../../sync/logger.js';
import { packagePath } from '../../../daemon/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

const ids = new Map<string, Identity>([
  ['rx', { kind: 'link', name: 'rx' }],
  ['tx', { kind: 'link', name: 'tx' }],
  ['V1', { kind: 'vehicle', vehicleId: 'V1', unitId: 'NB1', sector: 'B', precinct: 'N' }],
  ['V2', { kind: 'vehicle', vehicleId: 'V2', unitId: 'EC1', sector: 'C', precinct: 'E' }],
]);
const auth = { authenticate: async (u: string, p: string) => (p === 'secret' && ids.get(u)) || { refused: 'unknown' } };

const connect = (url: string, id: string) =>
  mqtt.connectAsync(url, { clientId: id, username: id, password: 'secret', reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });

// Two MQTT clients in a process of their own, so blocking this thread blocks only the station's
// side: `rx` subscribes, `tx` publishes one QoS 1 message at the time it is told, and the times
// of sending, delivery to rx and PUBACK to tx are reported back.
const PAIR = `
import mqtt from 'mqtt';
const opts = (id) => ({ clientId: id, username: id, password: 'secret', reconnectPeriod: 0, protocolVersion: 4 });
const rx = await mqtt.connectAsync(process.env.BROKER_URL, opts('rx'));
const tx = await mqtt.connectAsync(process.env.BROKER_URL, opts('tx'));
await rx.subscribeAsync('mdt/v1/alert/B/+', { qos: 1 });
const times = {};
const report = () => { if (times.deliveredAt && times.ackedAt) process.send(times); };
rx.on('message', () => { times.deliveredAt = Date.now(); report(); });
process.on('message', ({ publishAt }) => setTimeout(() => {
  times.sentAt = Date.now();
  tx.publish('mdt/v1/alert/B/NB1', 'hello', { qos: 1 }, () => { times.ackedAt = Date.now(); report(); });
}, publishAt - Date.now()));
process.on('disconnect', () => { rx.end(true); tx.end(true); });
process.send({ ready: true });
`;

describe('broker in a worker thread', () => {
  let broker: RunningBroker;
  let url: string;
  const warnings: Array<Record<string, unknown> & { msg?: string }> = [];
  const log: Logger = { debug() {}, info() {}, error: (obj, msg) => warnings.push({ ...obj, msg }), warn: (obj, msg) => warnings.push({ ...obj, msg }) };

  beforeAll(async () => {
    broker = await startBroker({ log, auth, relayFrom: ['E'] });
    url = `mqtt://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('delivers a QoS 1 message between two clients while the main thread is blocked for 500 ms', async () => {
    const pair: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', PAIR], {
      cwd: packagePath(),
      env: { ...process.env, BROKER_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      await once(pair, 'message');
      // The IPC write is attempted at once, so the order leaves before the spin starts.
      const blockedFrom = Date.now();
      pair.send({ publishAt: blockedFrom + 100 });
      while (Date.now() - blockedFrom < 500); // the station's Automerge work, as the broker sees it
      const blockedUntil = Date.now();
      const [times] = (await once(pair, 'message')) as [{ sentAt: number; deliveredAt: number; ackedAt: number }];
      expect(times.sentAt).toBeGreaterThan(blockedFrom);
      // Routed and acknowledged by the worker while this thread was still spinning.
      expect(times.deliveredAt).toBeLessThan(blockedUntil);
      expect(times.ackedAt).toBeLessThan(blockedUntil);
    } finally {
      pair.kill();
    }
  });

  it('reports connects, disconnects and only the linked precincts\' vehicles\' publishes, with their identity', async () => {
    // Only this test's cars: the previous test's clients may still be leaving.
    const events: Array<[string, ClientRef, RelayedPublish?]> = [];
    const mine = (c: ClientRef) => c.identity.kind === 'vehicle';
    const onReady = (c: ClientRef) => mine(c) && events.push(['ready', c]);
    const onGone = (c: ClientRef) => mine(c) && events.push(['gone', c]);
    const onPublish = (p: RelayedPublish, c: ClientRef) => events.push(['publish', c, p]);
    broker.on('clientReady', onReady).on('clientDisconnect', onGone).on('publish', onPublish);
    try {
      const home = await connect(url, 'V1');
      const roamer = await connect(url, 'V2');
      await home.publishAsync('mdt/v1/avl/B/NB1', Buffer.from('{}'), { qos: 1 });
      await roamer.publishAsync('mdt/v1/avl/C/EC1', Buffer.from('{"at":1}'), { qos: 1, retain: true });
      await home.endAsync();
      await roamer.endAsync();
      await waitFor(() => events.filter((e) => e[0] === 'gone').length === 2, { what: 'both disconnects reported' });
      const v1 = { clientId: 'V1', identity: ids.get('V1'), conn: expect.any(Number) };
      const v2 = { clientId: 'V2', identity: ids.get('V2'), conn: expect.any(Number) };
      expect(events).toEqual([
        ['ready', v1],
        ['ready', v2],
        ['publish', v2, { topic: 'mdt/v1/avl/C/EC1', payload: Buffer.from('{"at":1}'), qos: 1, retain: true }],
        ['gone', v1],
        ['gone', v2],
      ]);
      expect(events[0]![1].conn).not.toBe(events[1]![1].conn);
    } finally {
      broker.off('clientReady', onReady).off('clientDisconnect', onGone).off('publish', onPublish);
    }
  });

  it('publishes retained messages from the main thread and cuts a vehicle\'s connection on demand', async () => {
    await broker.publish({ topic: 'mdt/v1/presence/B/NB9', payload: '{"state":"offline"}', qos: 1, retain: true });
    const car = await connect(url, 'V1');
    const got = new Promise<[string, Buffer]>((resolve) => car.on('message', (topic, payload) => resolve([topic, payload])));
    await car.subscribeAsync('mdt/v1/presence/B/+', { qos: 1 });
    expect(await got).toEqual(['mdt/v1/presence/B/NB9', Buffer.from('{"state":"offline"}')]);
    const closed = new Promise<void>((resolve) => car.once('close', () => resolve()));
    expect(await broker.disconnectVehicle('V1')).toBe(1);
    await closed;
    expect(await broker.disconnectVehicle('V1')).toBe(0);
    car.end(true);
  });

  it('logs each refusal with the client id', async () => {
    warnings.length = 0;
    await expect(connect(url, 'V404')).rejects.toThrow(/Bad username or password/i);
    const car = await connect(url, 'V1');
    await expect(car.subscribeAsync('mdt/v1/avl/C/+', { qos: 1 })).rejects.toThrow(/Subscribe error/); // not its sector
    await car.endAsync();
    await waitFor(() => warnings.length >= 2, { what: 'two refusals logged' });
    expect(warnings).toEqual([
      expect.objectContaining({ clientId: 'V404', reason: 'unknown', msg: 'broker refused credentials' }),
      expect.objectContaining({ clientId: 'V1', filter: 'mdt/v1/avl/C/+', msg: 'broker refused subscription' }),
    ]);
  });
});

describe('broker worker edges', () => {
  it('refuses a CONNECT whose credentials the main thread does not check in time', async () => {
    const errors: Array<Record<string, unknown> & { msg?: string }> = [];
    const log: Logger = { debug() {}, info() {}, warn() {}, error: (obj, msg) => errors.push({ ...obj, msg }) };
    const broker = await startBroker({ log, auth: { authenticate: () => new Promise(() => undefined) }, authTimeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(connect(`mqtt://127.0.0.1:${broker.port}`, 'V1')).rejects.toThrow(/Not authorized/i);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(errors).toEqual([expect.objectContaining({ clientId: 'V1', msg: 'broker authentication failed' })]);
    } finally {
      await broker.close();
    }
  });

  it('fails to start on a port already taken, leaving no worker behind', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await expect(startBroker({ log: { debug() {}, info() {}, warn() {}, error() {} }, auth, port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('reports a dead worker as an error and refuses further commands', async () => {
    const errors: Array<Record<string, unknown> & { msg?: string }> = [];
    const log: Logger = { debug() {}, info() {}, warn() {}, error: (obj, msg) => errors.push({ ...obj, msg }) };
    const broker = await startBroker({ log, auth });
    const failed = new Promise<Error>((resolve) => broker.once('error', resolve));
    // What a crash looks like from here: the thread ends on its own.
    await (broker as unknown as { worker: Worker }).worker.terminate();
    expect((await failed).message).toMatch(/broker worker exited/);
    expect(errors).toEqual([expect.objectContaining({ msg: 'broker worker died' })]);
    await expect(broker.disconnectVehicle('V1')).rejects.toThrow(/broker closed/);
    await expect(connect(`mqtt://127.0.0.1:${broker.port}`, 'V1')).rejects.toThrow(/ECONNREFUSED/);
    await broker.close();
  });

  it('closes its listeners and its thread', async () => {
    const broker = await startBroker({ log: { debug() {}, info() {}, warn() {}, error() {} }, auth });
    const car = await connect(`mqtt://127.0.0.1:${broker.port}`, 'V1');
    const closed = new Promise<void>((resolve) => car.once('close', () => resolve()));
    await broker.close();
    await closed;
    car.end(true);
    await expect(connect(`mqtt://127.0.0.1:${broker.port}`, 'V1')).rejects.toThrow(/ECONNREFUSED/);
  });
});
