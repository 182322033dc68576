// Composition root of the precinct station: the broker, every sector board of the precinct on
// disk, sync with the cars, presence and AVL breadcrumbs, and the HTTP API for CAD and CARE.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from './log.js';
import type { PrecinctConfig } from './config.js';
import type { Department } from './department.js';
import { OperatorRegistry } from './operators.js';
import { createPrecinctApi } from './precinct-api.js';
import { startBroker, type RunningBroker, type Authenticator } from '../sync/broker.js';
import { VehicleRegistry } from '../sync/credentials.js';
import { precinctPeerId, type Identity } from '../sync/acl.js';
import { MqttTransport } from '../sync/mqtt-transport.js';
import { PeerSync } from '../sync/peer-sync.js';
import { parseTopic, topics } from '../sync/topics.js';
import { parseAvl, type AvlPosition } from '../sync/avl.js';
import { parseAlert, parsePresence, type Alert, type Presence } from '../sync/presence.js';
import { FileDocStore } from '../sync/doc-store.js';
import { SectorReplica } from '../sync/replica.js';

/** Positions kept per unit for the Watch Commander's map trail: 10 min at 1 Hz. */
const BREADCRUMB_LIMIT = 600;

export interface SectorState {
  replica: SectorReplica;
  sync: PeerSync<unknown>;
  presence: Map<string, Presence>;
  breadcrumbs: Map<string, AvlPosition[]>;
  alerts: Alert[];
}

export interface RunningPrecinct {
  id: string;
  broker: RunningBroker;
  brokerUrl: string;
  apiUrl: string;
  registry: VehicleRegistry;
  operators: OperatorRegistry;
  sectors: Map<string, SectorState>;
  stop(): Promise<void>;
}

export interface PrecinctDeps {
  config: PrecinctConfig;
  department: Department;
  log: Logger;
  epoch?: string;
}

export async function startPrecinct(deps: PrecinctDeps): Promise<RunningPrecinct> {
  const { config, department, log } = deps;
  const id = config.precinct.id;
  const served = config.sectors ?? department.precincts[id]?.sectors ?? [];
  if (served.length === 0) throw new Error(`precinct ${id} serves no sectors (set "sectors" or use a department file that lists it)`);
  for (const s of served) {
    if (!department.sectors[s]) throw new Error(`sector ${s} is not in the department file`);
  }
  await mkdir(config.stateDir, { recursive: true, mode: 0o750 });
  const registry = await VehicleRegistry.open(join(config.stateDir, 'vehicles.json'));
  const operators = await OperatorRegistry.open(join(config.stateDir, 'operators.json'));

  // The station's own client authenticates with a secret that lives only in this process.
  const peerId = precinctPeerId(id);
  const serviceSecret = randomBytes(24).toString('base64url');
  const serviceIdentity: Identity = { kind: 'precinct', precinct: id, peerId, sectors: served };
  const auth: Authenticator = {
    async authenticate(username, password) {
      if (username === peerId) return password === serviceSecret ? serviceIdentity : { refused: 'wrong password' };
      return registry.authenticate(username, password);
    },
  };
  const broker = await startBroker({ auth, log: log.child({ component: 'broker' }), host: config.mqtt.host, port: config.mqtt.port });
  const brokerUrl = `mqtt://${broker.host.includes(':') ? `[${broker.host}]` : broker.host}:${broker.port}`;

  // Boards.
  const boardsDir = join(config.stateDir, 'boards');
  await mkdir(boardsDir, { recursive: true });
  const store = new FileDocStore(boardsDir, log.child({ component: 'doc-store' }));
  const transport = new MqttTransport({
    brokers: [{ url: `mqtt://127.0.0.1:${broker.port}` }],
    clientId: peerId,
    username: peerId,
    password: serviceSecret,
    log: log.child({ component: 'precinct-link' }),
    subscriptions: served.flatMap((s) => [topics.syncInbox(s, peerId), topics.presenceAll(s), topics.avlAll(s), topics.alertAll(s)]),
    backoff: { minMs: 100, maxMs: 2000 },
  });
  const sectors = new Map<string, SectorState>();
  for (const s of served) {
    const replica = await SectorReplica.open({
      store,
      sector: s as never,
      epoch: deps.epoch ?? '1',
      actorId: randomBytes(16).toString('hex'),
      log: log.child({ component: 'board', sector: s }),
    });
    const sync = new PeerSync({ replica, publisher: transport, sector: s, selfPeer: peerId, log: log.child({ component: 'sync', sector: s }) });
    sectors.set(s, { replica, sync: sync as PeerSync<unknown>, presence: new Map(), breadcrumbs: new Map(), alerts: [] });
  }

  transport.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    const st = t ? sectors.get(t.sector) : undefined;
    if (!t || !st) return;
    if (t.kind === 'sync') {
      void st.sync.handle(topic, payload);
    } else if (t.kind === 'presence') {
      const p = parsePresence(payload);
      if (!p) return void log.warn({ topic, bytes: payload.length }, 'malformed presence dropped');
      const was = st.presence.get(t.unit);
      st.presence.set(t.unit, p);
      if (p.state !== was?.state) log.info({ unit: t.unit, vehicle: p.vehicle, state: p.state }, 'unit presence');
    } else if (t.kind === 'avl') {
      const pos = parseAvl(payload);
      if (!pos || pos.unit !== t.unit) return void log.debug({ topic, bytes: payload.length }, 'malformed position dropped');
      const trail = st.breadcrumbs.get(t.unit) ?? [];
      trail.push(pos);
      if (trail.length > BREADCRUMB_LIMIT) trail.splice(0, trail.length - BREADCRUMB_LIMIT);
      st.breadcrumbs.set(t.unit, trail);
    } else if (t.kind === 'alert') {
      const a = parseAlert(payload);
      if (!a) return void log.warn({ topic, bytes: payload.length }, 'malformed alert dropped');
      st.alerts.push(a);
      if (st.alerts.length > 100) st.alerts.shift();
      log.error({ unit: a.unit, kind: a.kind, lat: a.lat, lon: a.lon }, 'EMERGENCY alert from unit');
    }
  });
  // After our own (re)connect, cars already online do not know we restarted: greet each one.
  transport.on('connect', () => {
    for (const [, st] of sectors) {
      for (const [, p] of st.presence) if (p.state === 'online') void st.sync.hello(p.vehicle);
    }
  });
  transport.start();

  const app = createPrecinctApi({ precinct: config.precinct, department, sectors, operators, registry, log: log.child({ component: 'api' }) });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, () => resolve(s));
  });
  const address = server.address();
  const apiPort = typeof address === 'object' && address ? address.port : config.api.port;
  const apiUrl = `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${apiPort}/`;
  log.info({ precinct: id, sectors: served, brokerUrl, apiUrl }, 'precinct station ready');

  return {
    id,
    broker,
    brokerUrl,
    apiUrl,
    registry,
    operators,
    sectors,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await transport.close();
      await broker.close();
    },
  };
}
