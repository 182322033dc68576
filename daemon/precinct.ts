// Composition root of the precinct station: the broker, every sector board of the precinct on
// disk, sync with the cars, presence and AVL breadcrumbs, and the HTTP API for CAD and CARE.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
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
import { PeerSync, STATION_SETTLE } from '../sync/peer-sync.js';
import { parseTopic, topics } from '../sync/topics.js';
import { appendBreadcrumb, parseAvl, type AvlPosition } from '../sync/avl.js';
import { FileSyncStateStore } from '../sync/sync-state-store.js';
import { RetainedStore } from '../sync/retained-store.js';
import { PrecinctLink } from '../sync/precinct-link.js';
import { MAX_BOARD_BYTES, MAX_CAR_SYNC_PAYLOAD, MAX_SYNC_PAYLOAD } from '../sync/envelope.js';
import { parseAlert, parsePresence, type Alert, type Presence } from '../sync/presence.js';
import { FileDocStore } from '../sync/doc-store.js';
import type { SectorReplica } from '../sync/replica.js';
import { PrecinctEpochs } from '../sync/precinct-epochs.js';
import { startEpochSchedule } from '../sync/epoch-schedule.js';
import { encodeRoster, readRosterFile, rosterForSector, type RosterFile } from '../sync/roster.js';
import { startPrecinctDispatch, type PrecinctDispatch } from '../dispatch/station.js';


export interface SectorState {
  /** The live board: follows the epoch cuts (sync/precinct-epochs.ts). */
  replica: SectorReplica;
  /** The live epoch's sync with the cars. */
  readonly sync: PeerSync<unknown>;
  epochs: PrecinctEpochs;
  presence: Map<string, Presence>;
  breadcrumbs: Map<string, AvlPosition[]>;
  alerts: Alert[];
}

export interface RunningPrecinct {
  id: string;
  /** The embedded aedes; undefined when the station uses an external broker (mqtt.external). */
  broker: RunningBroker | undefined;
  brokerUrl: string;
  /** mqtts:// URL of the TLS listener, when mqtt.tls is configured. */
  tlsUrl?: string;
  links: PrecinctLink[];
  /** The station's own client on the broker. */
  transport: MqttTransport;
  apiUrl: string;
  registry: VehicleRegistry;
  operators: OperatorRegistry;
  sectors: Map<string, SectorState>;
  /** The dispatch policy at work on the boards (dispatch/station.ts). */
  dispatch: PrecinctDispatch;
  /** Re-reads the roster file and publishes it (retained) to every served sector. */
  reloadRoster(): Promise<void>;
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

  // The station's own client authenticates with a secret that lives only in this process (or, with
  // an external broker, with the password provisioned in that broker's password file).
  const peerId = precinctPeerId(id);
  const external = config.mqtt.external;
  const serviceSecret = external
    ? (external.password ?? (await readFile(external.passwordFile!, 'utf8')).trim())
    : randomBytes(24).toString('base64url');
  const serviceIdentity: Identity = { kind: 'precinct', precinct: id, peerId, sectors: served };
  const auth: Authenticator = {
    async authenticate(username, password) {
      if (username === peerId) return password === serviceSecret ? serviceIdentity : { refused: 'wrong password' };
      return registry.authenticate(username, password);
    },
  };
  const retained = await RetainedStore.open(join(config.stateDir, 'retained.json'), log.child({ component: 'retained' }));
  let broker: RunningBroker | undefined;
  // A revoked MDT (stolen) loses its open connection now, not at its next reconnect. With an
  // external broker, its password and ACL files must be regenerated (docs/precinct-guide.md).
  registry.onRevoked((vehicleId) => {
    void (broker?.disconnectVehicle(vehicleId) ?? Promise.resolve(0)).then(
      (closed) => log.warn({ vehicleId, closed }, 'vehicle revoked: open connections cut'),
      (err: unknown) => log.error({ err, vehicleId }, 'vehicle revoked but its open connections could not be cut'),
    );
  });
  let brokerUrl: string;
  let tlsUrl: string | undefined;
  if (external) {
    brokerUrl = external.url;
  } else {
    const tls = config.mqtt.tls;
    // The broker runs in a worker thread. If that thread dies, its 'error' is left unhandled on
    // purpose: the station exits (lifecycle.ts) and systemd restarts it, presence restored below.
    broker = await startBroker({
      auth,
      log: log.child({ component: 'broker' }),
      host: config.mqtt.host,
      port: config.mqtt.port,
      // The links relay the cars of their neighbours that roam onto our broker.
      relayFrom: config.links.map((l) => l.precinct),
      ...(tls
        ? {
            tls: {
              host: tls.host,
              port: tls.port,
              cert: await readFile(tls.certFile),
              key: await readFile(tls.keyFile),
              ...(tls.caFile ? { ca: await readFile(tls.caFile) } : {}),
            },
          }
        : {}),
    });
    const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);
    brokerUrl = `mqtt://${urlHost(broker.host)}:${broker.port}`;
    if (broker.tls) tlsUrl = `mqtts://${urlHost(broker.tls.host)}:${broker.tls.port}`;
    // Presence survives a restart: aedes keeps retained messages in memory only. No car is
    // connected to a broker that just started, so every unit comes back as offline until its
    // car reconnects and announces itself again.
    for (const [topic, payload] of retained.all()) {
      const p = parsePresence(payload);
      const restored = p && p.state === 'online' ? Buffer.from(JSON.stringify({ ...p, state: 'offline' })) : payload;
      await broker.publish({ topic, payload: restored, qos: 1, retain: true });
    }
  }

  // Boards, and the per-car sync states that make a reconnect cost ~250 B instead of ~7.8 KB.
  const boardsDir = join(config.stateDir, 'boards');
  await mkdir(boardsDir, { recursive: true });
  const store = new FileDocStore(boardsDir, log.child({ component: 'doc-store' }));
  const syncStates = await FileSyncStateStore.open(join(config.stateDir, 'sync-states'), log.child({ component: 'sync-states' }));
  const transport = new MqttTransport({
    brokers: [{ url: external ? external.url : `mqtt://127.0.0.1:${broker!.port}`, ...(external?.caFile ? { ca: await readFile(external.caFile, 'utf8') } : {}) }],
    clientId: peerId,
    username: peerId,
    password: serviceSecret,
    log: log.child({ component: 'precinct-link' }),
    subscriptions: served.flatMap((s) => [topics.syncInbox(s, peerId), topics.presenceAll(s), topics.avlAll(s), topics.alertAll(s)]),
    backoff: { minMs: 100, maxMs: 2000 },
  });
  // Author binding: a car's changes must name the vehicle that authenticated on the topic.
  const boundVehicle = (peer: string) => {
    const v = registry.get(peer);
    return v && v.revokedAt === undefined && served.includes(v.sector) ? { vehicleId: peer, unitId: v.unitId } : undefined;
  };
  const archive = new FileDocStore(join(config.stateDir, 'archive'), log.child({ component: 'archive' }));
  const sectors = new Map<string, SectorState>();
  for (const s of served) {
    const epochs = await PrecinctEpochs.open({
      sector: s,
      precinct: id,
      store,
      archive,
      publisher: transport,
      makeSync: (replica) =>
        new PeerSync({
          replica,
          publisher: transport,
          sector: s,
          selfPeer: peerId,
          log: log.child({ component: 'sync', sector: s, docId: replica.docId }),
          boundVehicle,
          stateStore: syncStates,
          maxPayload: MAX_CAR_SYNC_PAYLOAD,
          maxBoardBytes: MAX_BOARD_BYTES,
          // A car accepts up to MAX_SYNC_PAYLOAD; half leaves room for a round's heads and Bloom filter.
          chunkBytes: MAX_SYNC_PAYLOAD / 2,
          settle: STATION_SETTLE,
        }) as PeerSync<unknown>,
      forgetSyncStates: (docId) => syncStates.forgetDoc(docId),
      initialEpoch: deps.epoch ?? '1',
      keepClosedMs: config.epochs.keepClosedHours * 3_600_000,
      ...(config.epochs.timeZone ? { timeZone: config.epochs.timeZone } : {}),
      log: log.child({ component: 'board', sector: s }),
    });
    sectors.set(s, {
      replica: epochs.live,
      get sync() {
        return epochs.sync;
      },
      epochs,
      presence: new Map(),
      breadcrumbs: new Map(),
      alerts: [],
    });
  }

  /** Cars greeted (sync restarted) since our link to the broker last came up. */
  const greeted = new Set<string>();
  transport.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    const st = t ? sectors.get(t.sector) : undefined;
    if (!t || !st) return;
    if (t.kind === 'sync') {
      void st.epochs.route(topic, payload);
    } else if (t.kind === 'presence') {
      const p = parsePresence(payload);
      if (!p || p.unit !== t.unit) return void log.warn({ topic, bytes: payload.length }, 'malformed presence dropped');
      if (!external) retained.record(topic, payload);
      const was = st.presence.get(t.unit);
      st.presence.set(t.unit, p);
      if (p.state !== was?.state) log.info({ unit: t.unit, vehicle: p.vehicle, state: p.state }, 'unit presence');
      // A car that was online before our (re)connect only shows up in the retained presence
      // that arrives after it: greet it then, or an idle car would never resync.
      if (p.state === 'online' && !greeted.has(p.vehicle)) {
        greeted.add(p.vehicle);
        void st.epochs.hello(p.vehicle);
      } else if (p.state === 'offline') {
        greeted.delete(p.vehicle);
      }
    } else if (t.kind === 'avl') {
      const pos = parseAvl(payload);
      if (!pos || pos.unit !== t.unit) return void log.debug({ topic, bytes: payload.length }, 'malformed position dropped');
      if (!appendBreadcrumb(st.breadcrumbs, pos)) log.debug({ topic, at: pos.at }, 'stale or replayed position dropped');
    } else if (t.kind === 'alert') {
      const a = parseAlert(payload);
      if (!a) return void log.warn({ topic, bytes: payload.length }, 'malformed alert dropped');
      st.alerts.push(a);
      if (st.alerts.length > 100) st.alerts.shift();
      log.error({ unit: a.unit, kind: a.kind, lat: a.lat, lon: a.lon }, 'EMERGENCY alert from unit');
    }
  });
  // The sign-on roster: read from the roster file, published retained per sector on every
  // connect, so a car gets it the moment it subscribes and caches it for offline sign-on.
  const rosterPath = config.rosterFile ?? join(config.stateDir, 'roster.json');
  let roster: { file: RosterFile; at: number } | undefined;
  const loadRoster = async () => {
    try {
      const file = await readRosterFile(rosterPath);
      if (!file) {
        log.warn({ file: rosterPath }, 'no roster file: officers cannot sign on to cars that have never received a roster');
        return;
      }
      // The file's mtime, not the load time: a restart republishes the same roster unchanged.
      roster = { file, at: Math.floor((await stat(rosterPath)).mtimeMs) };
      log.info({ file: rosterPath, officers: file.officers.length }, 'roster loaded');
    } catch (err) {
      log.error({ err: (err as Error).message, file: rosterPath }, 'roster file refused; keeping the previous roster');
    }
  };
  const publishRoster = async () => {
    if (!roster || !transport.isOnline()) return;
    for (const s of served) {
      const payload = encodeRoster(rosterForSector(roster.file, s, id, roster.at));
      await transport.publish(topics.roster(s, id), payload, { qos: 1, retain: true }).catch((err: unknown) => log.warn({ err, sector: s }, 'roster not published'));
    }
  };
  await loadRoster();

  // After our own (re)connect, cars already online do not know we restarted: greet each one.
  transport.on('connect', () => {
    void publishRoster();
    greeted.clear();
    for (const [, st] of sectors) {
      void st.epochs.announce();
      for (const [, p] of st.presence) {
        if (p.state !== 'online') continue;
        greeted.add(p.vehicle);
        void st.epochs.hello(p.vehicle);
      }
    }
  });
  transport.start();

  // Links to neighbouring precincts, for their cars that roam onto our broker. With an external
  // broker, Mosquitto's own bridge does this (deploy/mosquitto-bridge.conf).
  const links: PrecinctLink[] = [];
  if (broker) {
    for (const l of config.links) {
      const password = l.password ?? (await readFile(l.passwordFile!, 'utf8')).trim();
      const link = new PrecinctLink({
        broker,
        self: id,
        remote: { precinct: l.precinct, url: l.url, password, ...(l.caFile ? { ca: await readFile(l.caFile, 'utf8') } : {}) },
        log: log.child({ component: 'link', to: l.precinct }),
      });
      link.start();
      links.push(link);
    }
  } else if (config.links.length > 0) {
    log.warn({}, 'links are ignored with an external broker: configure a Mosquitto bridge instead');
  }

  // The daily epoch cut and the archiving of closed epochs (docs/sector-board.md, "Epochs").
  const epochSchedule = startEpochSchedule({
    sectors: [...sectors.values()].map((st) => st.epochs),
    rolloverAt: config.epochs.rolloverAt,
    timeZone: config.epochs.timeZone,
    archiveEveryMs: config.epochs.archiveCheckMinutes * 60_000,
    log: log.child({ component: 'epochs' }),
  });

  // Dispatch after the boards are open: its first pass recovers the holds a previous run left.
  const dispatch = await startPrecinctDispatch({ precinct: id, department, sectors, config: config.dispatch, log: log.child({ component: 'dispatch' }) });
  const app = createPrecinctApi({ precinct: config.precinct, department, sectors, operators, registry, dispatch, log: log.child({ component: 'api' }) });
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
    ...(tlsUrl ? { tlsUrl } : {}),
    links,
    transport,
    apiUrl,
    registry,
    operators,
    sectors,
    dispatch,
    async reloadRoster() {
      await loadRoster();
      await publishRoster();
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatch.stop();
      await epochSchedule.stop();
      for (const l of links) await l.close();
      await transport.close();
      // Received changes are written behind: on disk before the sync states that name them.
      for (const s of sectors.values()) await s.epochs.saved();
      await syncStates.flush();
      await retained.flush();
      await broker?.close();
    },
  };
}
