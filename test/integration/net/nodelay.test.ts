// Nagle's algorithm on an MQTT link holds a small packet until the previous one is acknowledged;
// after a QoS 0 packet (a position, a sync ack) nothing answers, so the receiving side's delayed
// ACK (40 ms on Linux) held the next sync message that long. Found in the sync bench: car→car
// 12 ms became 75 ms once acks went at QoS 0. The transport and the broker now set TCP_NODELAY.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../../sync/broker.js';
import type { Identity } from '../../../sync/acl.js';
import { MqttTransport } from '../../../sync/mqtt-transport.js';
import { silentLogger } from '../../../sync/logger.js';
import { waitFor } from '../../helpers/wait-for.js';

let broker: RunningBroker;
let sender: MqttTransport;
let receiver: MqttTransport;
const got: Array<{ topic: string; at: number }> = [];

beforeAll(async () => {
  const ids = new Map<string, Identity>([
    ['tx', { kind: 'link', name: 'tx' }],
    ['rx', { kind: 'link', name: 'rx' }],
  ]);
  broker = await startBroker({ log: silentLogger, auth: { authenticate: async (u, p) => (p === 'secret' && ids.get(u)) || { refused: 'unknown' } } });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  receiver = new MqttTransport({ brokers: [{ url }], clientId: 'rx', username: 'rx', password: 'secret', log: silentLogger, subscriptions: ['mdt/v1/alert/NAGLE/+'] });
  sender = new MqttTransport({ brokers: [{ url }], clientId: 'tx', username: 'tx', password: 'secret', log: silentLogger, subscriptions: [] });
  receiver.on('message', (topic) => got.push({ topic, at: performance.now() }));
  receiver.start();
  sender.start();
  await waitFor(() => receiver.isOnline() && sender.isOnline(), { what: 'both clients online' });
});
afterAll(async () => {
  await sender.close();
  await receiver.close();
  await broker.close();
});

it('delivers a QoS 1 message sent right after a QoS 0 one without waiting for a delayed ACK', async () => {
  const delays: number[] = [];
  for (let i = 0; i < 15; i++) {
    got.length = 0;
    // Quiet first, so every round starts from an idle connection (past TCP's quick-ACK start).
    await new Promise((r) => setTimeout(r, 60));
    void sender.publish('mdt/v1/alert/NAGLE/pos', Buffer.alloc(60, 1), { qos: 0 });
    const t0 = performance.now();
    void sender.publish('mdt/v1/alert/NAGLE/sync', Buffer.alloc(250, 2), { qos: 1 });
    await waitFor(() => got.some((g) => g.topic.endsWith('/sync')), { what: 'the QoS 1 message' });
    delays.push(got.find((g) => g.topic.endsWith('/sync'))!.at - t0);
  }
  delays.sort((a, b) => a - b);
  // With Nagle every one of these waited ~40 ms; without, loopback delivery takes about 1 ms.
  expect(delays[Math.floor(delays.length / 2)]).toBeLessThan(20);
});
