// The precinct broker's TLS listener with a self-signed certificate made by openssl in the test:
// a car that pins the CA connects and syncs; a client without the CA, or plain MQTT on the TLS
// port, is refused; the broker keeps serving.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../../sync/broker.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { newSecret } from '../../../sync/secret-hash.js';
import { MqttTransport } from '../../../sync/mqtt-transport.js';
import { silentLogger } from '../../../sync/logger.js';
import { topics } from '../../../sync/topics.js';
import { waitFor } from '../../helpers/wait-for.js';

const run = promisify(execFile);

/** Resolves on CONNACK, rejects on the first error or close (a TLS failure may only close). */
function tryConnect(url: string, opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, protocolVersion: 4, ...opts });
    c.once('connect', () => resolve(c));
    const fail = (err?: Error) => {
      c.end(true);
      reject(err ?? new Error('connection closed before CONNACK'));
    };
    c.once('error', fail);
    c.once('close', () => fail());
  });
}

describe('broker TLS listener', () => {
  let dir: string;
  let broker: RunningBroker;
  let ca: string;
  const secret = newSecret();
  const transports: MqttTransport[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    ca = await readFile(cert, 'utf8');
    const registry = VehicleRegistry.inMemory();
    await registry.register('V1', { unitId: 'NB1', sector: 'B', precinct: 'N' }, secret);
    broker = await startBroker({ auth: registry, log: silentLogger, tls: { cert: await readFile(cert), key: await readFile(key) } });
  });
  afterAll(async () => {
    for (const t of transports) await t.close();
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a car pinning the CA over mqtts and delivers its messages', async () => {
    const url = `mqtts://127.0.0.1:${broker.tls!.port}`;
    const car = new MqttTransport({ brokers: [{ url, ca }], clientId: 'V1', username: 'V1', password: secret, log: silentLogger, subscriptions: [topics.presenceAll('B')] });
    transports.push(car);
    const got: string[] = [];
    car.on('message', (t, p) => got.push(p.toString()));
    car.start();
    await waitFor(() => car.isOnline(), { what: 'car online over TLS' });
    await car.publish(topics.presence('B', 'NB1'), JSON.stringify({ v: 1, unit: 'NB1', vehicle: 'V1', state: 'online', at: 1 }), { qos: 1, retain: true });
    await waitFor(() => got.length > 0, { what: 'own presence back over TLS' });
  });

  it('refuses a client that does not trust the certificate, and plain MQTT on the TLS port', async () => {
    const opts = { username: 'V1', password: secret };
    await expect(tryConnect(`mqtts://127.0.0.1:${broker.tls!.port}`, { ...opts, clientId: 'no-ca' })).rejects.toThrow(/self.signed|certificate/i);
    await expect(tryConnect(`mqtt://127.0.0.1:${broker.tls!.port}`, { ...opts, clientId: 'plain' })).rejects.toThrow();
    // Still serving.
    const ok = await tryConnect(`mqtts://127.0.0.1:${broker.tls!.port}`, { ...opts, clientId: 'again', ca });
    await ok.endAsync();
  });
});
