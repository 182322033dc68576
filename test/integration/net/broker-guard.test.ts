// The precinct broker refuses what it must (unknown client, wrong password, persistent session,
// another sector's topics) and survives a bounded stream of random, mutated, oversized and
// replayed payloads on every topic: each is rejected and logged, and broker, precinct and car
// keep working.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { newSecret } from '../../../sync/secret-hash.js';
import { encodeEnvelope } from '../../../sync/envelope.js';
import { topics } from '../../../sync/topics.js';
import { createFleet, postCall, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';

const connect = (url: string, opts: mqtt.IClientOptions) =>
  mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });

describe('precinct broker guards (aedes)', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let car: RunningVehicle;
  const secret = newSecret();
  const linkSecret = newSecret();
  const clients: MqttClient[] = [];
  const open = async (opts: mqtt.IClientOptions) => {
    const c = await connect(precinct.brokerUrl, opts);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    fleet = await createFleet();
    precinct = await fleet.addPrecinct({ id: 'N', sectors: ['B'] });
    await precinct.registry.register('V1', { unitId: 'NB1', sector: 'B', precinct: 'N' }, secret);
    await precinct.registry.registerLink('X', ['B'], linkSecret);
    car = await fleet.addVehicle({ precinct, vehicleId: 'V1', unit: 'NB1', beat: 'B1', password: secret });
    await waitFor(() => car.transport.isOnline(), { what: 'car online' });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await fleet?.close();
  });

  it('refuses an unknown client, a wrong password, no credentials and a persistent session', async () => {
    await expect(connect(precinct.brokerUrl, { clientId: 'x1', username: 'V404', password: 'whatever-123' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(precinct.brokerUrl, { clientId: 'x2', username: 'V1', password: 'wrong-password' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(precinct.brokerUrl, { clientId: 'x3' })).rejects.toThrow(/Not authorized/i);
    await expect(connect(precinct.brokerUrl, { clientId: 'x4', username: 'V1', password: secret, clean: false })).rejects.toThrow(/Not authorized/i);
    // The broker and the car are unharmed.
    expect(car.transport.isOnline()).toBe(true);
  });

  it("refuses a car's subscription to another sector and disconnects it for publishing there", async () => {
    const probe = await open({ clientId: 'V1-probe', username: 'V1', password: secret });
    for (const f of [topics.avlAll('C'), 'mdt/v1/#', topics.syncInbox('B', 'V2')]) {
      // SUBACK 0x80 (MQTT 3.1.1 §3.9.3); MQTT.js turns it into a rejection.
      await expect(probe.subscribeAsync(f, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    expect((await probe.subscribeAsync(topics.avlAll('B'), { qos: 1 }))[0]?.qos).toBe(1);
    const seen: string[] = [];
    const watcher = await open({ clientId: 'link-X-watch', username: 'link-X', password: linkSecret });
    await watcher.subscribeAsync([topics.presenceAll('B')], { qos: 1 });
    watcher.on('message', (t) => seen.push(t));
    const closed = new Promise<void>((r) => probe.once('close', () => r()));
    // MQTT 3.1.1 has no negative PUBACK: the broker closes the connection (§4.8 allows it).
    probe.publish('mdt/v1/presence/C/EC1', JSON.stringify({ v: 1, unit: 'EC1', vehicle: 'V1', state: 'online', at: 1 }), { qos: 1 });
    await closed;
    const probe2 = await open({ clientId: 'V1-probe2', username: 'V1', password: secret });
    const closed2 = new Promise<void>((r) => probe2.once('close', () => r()));
    probe2.publish(topics.presence('B', 'NB2'), JSON.stringify({ v: 1, unit: 'NB2', vehicle: 'V1', state: 'offline', at: 1 }), { qos: 1 });
    await closed2;
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.filter((t) => t.endsWith('/NB2') || t.includes('/C/'))).toEqual([]);
  });

  it('survives random, mutated, oversized and replayed payloads on every topic', async () => {
    const sb = precinct.sectors.get('B')!;
    // Capture real sync traffic between the car and the precinct, to replay and mutate it.
    const captured: Array<{ topic: string; payload: Buffer }> = [];
    const tap = await open({ clientId: 'link-X-tap', username: 'link-X', password: linkSecret });
    await tap.subscribeAsync([`mdt/v1/sync/B/+/+`], { qos: 1 });
    tap.on('message', (topic, payload) => captured.push({ topic, payload: Buffer.from(payload) }));
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Fuzz baseline', priority: 3, address: '1 Main', beat: 'B1' });
    await waitFor(() => car.replica.view().calls[id], { what: 'baseline call on the car' });
    // The call went to the live car as a bare change; a greeting adds a hello and a sync round.
    await car.sync.hello('precinct-N');
    await waitFor(() => new Set(captured.map((c) => c.payload[1])).size >= 3, { what: 'captured sync traffic (change, hello, round)' });
    const headsBefore = JSON.stringify(Object.keys(sb.replica.view().calls).sort());
    const rejectedBefore = sb.sync.stats.rejected + car.sync.stats.rejected;

    // As the car itself (authenticated, allowed topics) toward the precinct, and as a link
    // toward the car: every topic kind, 250 payloads, reproducible seed.
    const asCar = await open({ clientId: 'V1-fuzz', username: 'V1', password: secret });
    const asLink = await open({ clientId: 'link-X-fuzz', username: 'link-X', password: linkSecret });
    const targets: Array<[MqttClient, string]> = [
      [asCar, topics.sync('B', 'V1', 'precinct-N')],
      [asCar, topics.presence('B', 'NB1')],
      [asCar, topics.avl('B', 'NB1')],
      [asCar, topics.alert('B', 'NB1')],
      [asLink, topics.sync('B', 'precinct-N', 'V1')],
      [asLink, topics.presence('B', 'NB7')],
      [asLink, topics.avl('B', 'NB7')],
    ];
    const real = captured.map((c) => c.payload);
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(...real), fc.nat(), fc.nat(255)).map(([p, i, v]) => {
        const m = Buffer.from(p);
        if (m.length > 0) m[i % m.length] = v; // one byte flipped
        return m;
      }),
      fc.tuple(fc.constantFrom(...real), fc.nat()).map(([p, n]) => p.subarray(0, n % (p.length + 1))), // truncated
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => encodeEnvelope({ kind: 'sync', docId: 'B@1', body: b })),
      fc.json().map((j) => Buffer.from(j)),
    );
    const samples = fc.sample(fc.tuple(fc.nat(targets.length - 1), payload), { numRuns: 250, seed: 4242 });
    for (const [i, p] of samples) {
      const [client, topic] = targets[i]!;
      client.publish(topic, p, { qos: 0 });
    }
    // Oversized: far above the car's sync cap (1 MiB) and above the presence cap.
    asCar.publish(topics.sync('B', 'V1', 'precinct-N'), Buffer.concat([encodeEnvelope({ kind: 'sync', docId: 'B@1', body: randomBytes(16) }), Buffer.alloc(1_200_000)]), { qos: 0 });
    // Replayed: yesterday's real messages again, in order.
    for (const c of captured) (c.topic.endsWith('/precinct-N') ? asCar : asLink).publish(c.topic.endsWith('/precinct-N') ? topics.sync('B', 'V1', 'precinct-N') : c.topic, c.payload, { qos: 1 });
    await asCar.publishAsync(topics.avl('B', 'NB1'), Buffer.alloc(0), { qos: 1 }).catch(() => undefined);

    await waitFor(() => sb.sync.stats.rejected + car.sync.stats.rejected > rejectedBefore, { what: 'rejections counted' });
    // Everyone is still up and working: the broker takes a new client, the precinct API answers,
    // and a new call still reaches the car through the same broker.
    const fresh = await open({ clientId: 'after-fuzz', username: 'V1', password: secret });
    expect(fresh.connected).toBe(true);
    const { id: after } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'After fuzz', priority: 3, address: '2 Main', beat: 'B1' });
    await waitFor(() => car.replica.view().calls[after], { what: 'post-fuzz call on the car', timeoutMs: 15_000 });
    expect(JSON.stringify(Object.keys(sb.replica.view().calls).filter((c) => c !== after).sort())).toBe(headsBefore);
    expect(sb.breadcrumbs.get('NB7')).toBeUndefined();
  });
});
