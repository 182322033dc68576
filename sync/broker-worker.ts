// The embedded MQTT broker's thread (aedes 1.2, MQTT 3.1.1): it owns aedes and its TCP/TLS
// listeners, so cars keep exchanging messages while the station's main thread is busy with a
// large Automerge load or sync. Credentials are checked by the main thread (the vehicle
// registry lives there); the ACL (acl.ts, pure) runs here. Every refusal is logged with the
// client id and answered with a CONNACK/SUBACK failure, never an exception.
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { Aedes, type Client } from 'aedes';
import { authorizePublish, authorizeSubscribe } from './acl.js';
import { asBuffer, ownBytes, type ClientRef, type FromWorker, type LogLevel, type ToWorker, type WorkerConfig } from './broker-protocol.js';

const parent = parentPort!;
const config = workerData as WorkerConfig;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => parent.postMessage(m, transfer);
const log = (level: LogLevel, obj: Record<string, unknown>, msg: string) => post({ type: 'log', level, obj, msg });

// MQTT 3.1.1 CONNACK return codes (spec 3.2.2.3).
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number) {
  return Object.assign(new Error(message), { returnCode });
}

// Credentials asked of the main thread, by request id; a timeout answers for a stalled main thread.
let nextId = 1;
const askedAuth = new Map<number, (result: ToWorker & { type: 'auth' }) => void>();

function askAuth(clientId: string, username: string, password: string): Promise<(ToWorker & { type: 'auth' })['result']> {
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      askedAuth.delete(id);
      resolve({ error: `no answer from the station within ${config.authTimeoutMs} ms` });
    }, config.authTimeoutMs);
    askedAuth.set(id, (m) => {
      clearTimeout(timer);
      askedAuth.delete(id);
      resolve(m.result);
    });
    post({ type: 'auth', id, clientId, username, password });
  });
}

let nextConn = 1;
const clients = new WeakMap<Client, ClientRef>();

const aedes = await Aedes.createBroker({
  // One frozen subscriber must not stall delivery to every other car (aedes PR #1060).
  drainTimeout: 20_000,
  maxTopicLevels: 8,
  maxInflightInbound: 100,
  // Car keep-alive is 15 s; allow up to 2 min for narrowband links but no more.
  keepaliveLimit: 120,
  maxClientsIdLength: 64,
  authenticate(client, username, password, done) {
    // Persistent sessions (MQTT 3.1.1 §3.1.2.4, CleanSession=0) make the broker keep
    // subscriptions and queue QoS 1 messages for clients that may never return, and 3.1.1 has
    // no session expiry: refused (CONNACK 5), so broker state never grows with the fleet's
    // history. Our clients resync from the durable board on every connect instead.
    if (!client.clean) {
      log('warn', { clientId: client.id, username }, 'broker refused a persistent session (clean session required)');
      done(authError('clean session required', NOT_AUTHORIZED), false);
      return;
    }
    if (!username || !password) {
      log('warn', { clientId: client.id }, 'broker refused connection without credentials');
      done(authError('credentials required', NOT_AUTHORIZED), false);
      return;
    }
    void askAuth(client.id, username, password.toString('utf8')).then((result) => {
      if ('error' in result) {
        log('error', { clientId: client.id, err: result.error }, 'broker authentication failed');
        done(authError('authentication unavailable', NOT_AUTHORIZED), false);
      } else if ('refused' in result) {
        log('warn', { clientId: client.id, username, reason: result.refused }, 'broker refused credentials');
        done(authError(result.refused, BAD_CREDENTIALS), false);
      } else {
        clients.set(client, { clientId: client.id, conn: nextConn++, identity: result });
        done(null, true);
      }
    });
  },
  authorizePublish(client, packet, done) {
    const id = client ? clients.get(client)?.identity : undefined;
    if (!client || !id) {
      done(new Error('unauthenticated publish'));
      return;
    }
    const decision = authorizePublish(id, packet.topic, packet.payload.length);
    if (!decision.allow) {
      log('warn', { clientId: client.id, topic: packet.topic, bytes: packet.payload.length, reason: decision.reason }, 'broker refused publish');
      done(new Error(decision.reason));
      return;
    }
    done(null);
  },
  authorizeSubscribe(client, sub, done) {
    const id = clients.get(client)?.identity;
    const decision = id ? authorizeSubscribe(id, sub.topic) : { allow: false as const, reason: 'unauthenticated' };
    if (!decision.allow) {
      log('warn', { clientId: client.id, filter: sub.topic, reason: decision.reason }, 'broker refused subscription');
      done(null, null);
      return;
    }
    done(null, sub);
  },
});
aedes.on('clientError', (client, err) => log('debug', { clientId: client.id, err: err.message }, 'client error'));
aedes.on('connectionError', (client, err) => log('debug', { clientId: client?.id, err: err.message }, 'connection error'));
aedes.on('clientReady', (client) => {
  const ref = clients.get(client);
  if (ref) post({ type: 'clientReady', client: ref });
});
aedes.on('clientDisconnect', (client) => {
  const ref = clients.get(client);
  if (ref) post({ type: 'clientDisconnect', client: ref });
});
// Only the roaming cars' publishes cross to the main thread (the precinct links relay them):
// the rest of the fleet's traffic, AVL above all, stays here.
aedes.on('publish', (packet, client) => {
  const ref = client ? clients.get(client) : undefined;
  if (ref?.identity.kind !== 'vehicle' || !config.relayFrom.includes(ref.identity.precinct)) return;
  const payload = ownBytes(packet.payload);
  post({ type: 'publish', client: ref, topic: packet.topic, payload, qos: packet.qos, retain: packet.retain }, [payload.buffer as ArrayBuffer]);
});

function listen(server: Server | TlsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

// No Nagle on client sockets: a QoS 0 packet (a position, an ack) is not answered, so the
// client's delayed ACK (40 ms) would hold the next packet to that client behind it.
const server = createServer({ noDelay: true }, aedes.handle);
const boundPort = await listen(server, config.port, config.host);

let tlsServer: TlsServer | undefined;
let tlsBound: { host: string; port: number } | undefined;
if (config.tls) {
  const t = config.tls;
  tlsServer = createTlsServer(
    { cert: t.cert, key: t.key, ...(t.ca ? { ca: t.ca, requestCert: true, rejectUnauthorized: true } : {}), minVersion: 'TLSv1.2', noDelay: true },
    aedes.handle,
  );
  // A failed handshake (wrong CA, plain TCP on the TLS port) is the client's problem, not ours.
  tlsServer.on('tlsClientError', (err) => log('debug', { err: err.message }, 'TLS handshake refused'));
  const tlsHost = t.host ?? config.host;
  tlsBound = { host: tlsHost, port: await listen(tlsServer, t.port ?? 0, tlsHost) };
}

function disconnectVehicle(vehicleId: string): number {
  // aedes keeps its connected clients by client id; our identity map says whose each is.
  const connected = (aedes as unknown as { clients: Record<string, Client> }).clients;
  let closed = 0;
  for (const client of Object.values(connected)) {
    const id = clients.get(client)?.identity;
    if (id?.kind === 'vehicle' && id.vehicleId === vehicleId) {
      client.close();
      closed += 1;
    }
  }
  return closed;
}

async function close(): Promise<void> {
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (tlsServer) await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  post({ type: 'closed' });
}

parent.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'auth':
      askedAuth.get(m.id)?.(m);
      return;
    case 'publish':
      aedes.publish({ cmd: 'publish', topic: m.topic, payload: asBuffer(m.payload), qos: m.qos, retain: m.retain, dup: false }, (err) =>
        post({ type: 'done', id: m.id, ...(err ? { error: err.message } : {}) }),
      );
      return;
    case 'disconnect':
      post({ type: 'done', id: m.id, closed: disconnectVehicle(m.vehicleId) });
      return;
    case 'close':
      void close();
      return;
  }
});

post({ type: 'listening', host: config.host, port: boundPort, ...(tlsBound ? { tls: tlsBound } : {}) });
