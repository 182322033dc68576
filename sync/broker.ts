// The precinct's embedded MQTT broker (aedes 1.2, MQTT 3.1.1). Authentication and ACL are
// delegated to the vehicle registry and acl.ts; every refusal is logged with the client id and
// answered with a CONNACK/SUBACK failure, never an exception.
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Logger } from './logger.js';
import { authorizePublish, authorizeSubscribe, type Identity } from './acl.js';

export interface Authenticator {
  authenticate(username: string, password: string): Promise<Identity | { refused: string }>;
}

export interface BrokerTlsOptions {
  host?: string;
  port?: number;
  cert: string | Buffer;
  key: string | Buffer;
  /** When set, clients must also present a certificate signed by this CA. */
  ca?: string | Buffer;
}

export interface BrokerOptions {
  auth: Authenticator;
  log: Logger;
  host?: string;
  port?: number;
  tls?: BrokerTlsOptions;
}

export interface RunningBroker {
  aedes: Aedes;
  server: Server;
  port: number;
  host: string;
  tls?: { server: TlsServer; host: string; port: number };
  /** The identity a connected client authenticated as (undefined before CONNACK). */
  identityOf(client: Client): Identity | undefined;
  /** Cuts every open connection of a vehicle (revoked MDT); returns how many were closed. */
  disconnectVehicle(vehicleId: string): number;
  close(): Promise<void>;
}

async function listen(server: Server | TlsServer, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

// MQTT 3.1.1 CONNACK return codes (spec 3.2.2.3).
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number) {
  return Object.assign(new Error(message), { returnCode });
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const { log } = opts;
  const identities = new WeakMap<Client, Identity>();
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
        log.warn({ clientId: client.id, username }, 'broker refused a persistent session (clean session required)');
        done(authError('clean session required', NOT_AUTHORIZED), false);
        return;
      }
      if (!username || !password) {
        log.warn({ clientId: client.id }, 'broker refused connection without credentials');
        done(authError('credentials required', NOT_AUTHORIZED), false);
        return;
      }
      opts.auth
        .authenticate(username, password.toString('utf8'))
        .then((result) => {
          if ('refused' in result) {
            log.warn({ clientId: client.id, username, reason: result.refused }, 'broker refused credentials');
            done(authError(result.refused, BAD_CREDENTIALS), false);
            return;
          }
          identities.set(client, result);
          done(null, true);
        })
        .catch((err: unknown) => {
          log.error({ err, clientId: client.id }, 'broker authentication failed');
          done(authError('authentication unavailable', NOT_AUTHORIZED), false);
        });
    },
    authorizePublish(client, packet, done) {
      const id = client ? identities.get(client) : undefined;
      if (!client || !id) {
        done(new Error('unauthenticated publish'));
        return;
      }
      const decision = authorizePublish(id, packet.topic, packet.payload.length);
      if (!decision.allow) {
        log.warn({ clientId: client.id, topic: packet.topic, bytes: packet.payload.length, reason: decision.reason }, 'broker refused publish');
        done(new Error(decision.reason));
        return;
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const id = identities.get(client);
      const decision = id ? authorizeSubscribe(id, sub.topic) : { allow: false as const, reason: 'unauthenticated' };
      if (!decision.allow) {
        log.warn({ clientId: client.id, filter: sub.topic, reason: decision.reason }, 'broker refused subscription');
        done(null, null);
        return;
      }
      done(null, sub);
    },
  });
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'connection error'));

  // No Nagle on client sockets: a QoS 0 packet (a position, an ack) is not answered, so the
  // client's delayed ACK (40 ms) would hold the next packet to that client behind it.
  const server = createServer({ noDelay: true }, aedes.handle);
  const host = opts.host ?? '127.0.0.1';
  const port = await listen(server, opts.port ?? 0, host);
  log.info({ host, port }, 'broker listening');

  let tls: RunningBroker['tls'];
  if (opts.tls) {
    const t = opts.tls;
    const tlsServer = createTlsServer(
      { cert: t.cert, key: t.key, ...(t.ca ? { ca: t.ca, requestCert: true, rejectUnauthorized: true } : {}), minVersion: 'TLSv1.2', noDelay: true },
      aedes.handle,
    );
    // A failed handshake (wrong CA, plain TCP on the TLS port) is the client's problem, not ours.
    tlsServer.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake refused'));
    const tlsHost = t.host ?? host;
    tls = { server: tlsServer, host: tlsHost, port: await listen(tlsServer, t.port ?? 0, tlsHost) };
    log.info({ host: tlsHost, port: tls.port }, 'broker TLS listening');
  }

  return {
    aedes,
    server,
    host,
    port,
    ...(tls ? { tls } : {}),
    identityOf: (client) => identities.get(client),
    disconnectVehicle(vehicleId) {
      // aedes keeps its connected clients by client id; our identity map says whose each is.
      const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
      let closed = 0;
      for (const client of Object.values(clients)) {
        const id = identities.get(client);
        if (id?.kind === 'vehicle' && id.vehicleId === vehicleId) {
          client.close();
          closed += 1;
        }
      }
      return closed;
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (tls) await new Promise<void>((resolve) => tls.server.close(() => resolve()));
    },
  };
}
