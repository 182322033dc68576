// Composition root of the in-car daemon: board replica on disk, broker link, peer sync, AVL,
// presence, hardware, and the screen. Start order: board (so the screen never shows nothing),
// hardware, UI, then older epochs and the broker link once the first screen is served
// (daemon/first-screen.ts).
// Stop order is the reverse.
import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from './log.js';
import { SAMPLE_STATIONS, type VehicleConfig } from './config.js';
import { loadStations, type Department, type Station } from './department.js';
import type { DeviceHealth, GpsFix, GpsSource, ModemSource, ModemStatus, VehicleInputs, InputEvent } from '../hardware/types.js';
import { FileDocStore } from '../sync/doc-store.js';
import type { SectorReplica } from '../sync/replica.js';
import { CarEpochs } from '../sync/car-epochs.js';
import { parseEpochAnnouncement } from '../sync/epoch-announce.js';
import * as board from '../sync/board.js';
import type { BoardView, OpContext, SectorId, UnitId, VehicleId, UnitStatus } from '../sync/schema.js';
import { MqttTransport, type BrokerEndpoint } from '../sync/mqtt-transport.js';
import { CAR_SETTLE, PeerSync } from '../sync/peer-sync.js';
import { FileSyncStateStore } from '../sync/sync-state-store.js';
import { precinctPeerId } from '../sync/acl.js';
import { parseTopic, topics } from '../sync/topics.js';
import { parseAvl, shouldSendPosition, type AvlPosition } from '../sync/avl.js';
import { parseAlert, parsePresence, type Alert, type Presence } from '../sync/presence.js';
import { createVehicleUi } from '../ui/app.js';
import { FirstScreenGate } from './first-screen.js';
import { isNewerRoster, parseRoster, readCachedRoster, writeCachedRoster, type Roster } from '../sync/roster.js';
import type { VehicleScreen, ScreenEvents, UnitIdentity, VehicleHealth } from '../ui/screen.js';

export interface VehicleHardware {
  gps: GpsSource;
  modem: ModemSource;
  inputs: VehicleInputs;
}

export interface VehicleDeps {
  config: VehicleConfig;
  password: string;
  hardware: VehicleHardware;
  department: Department;
  log: Logger;
  /** Board epoch; one document per sector per epoch (docs/sector-board.md). */
  epoch?: string;
  /** How long the broker link waits for a first screen before starting anyway (default 250 ms). */
  linkStartFallbackMs?: number;
}

export interface RunningVehicle {
  url: string;
  screen: VehicleScreen;
  /** The live board: follows the epoch the precinct announces (sync/car-epochs.ts). */
  replica: SectorReplica;
  epochs: CarEpochs;
  transport: MqttTransport;
  /** The live epoch's sync with the home precinct. */
  readonly sync: PeerSync<unknown>;
  hardware: VehicleHardware;
  stop(): Promise<void>;
}

function toAvl(unit: string, fix: GpsFix): AvlPosition {
  return {
    v: 1,
    unit,
    lat: fix.lat,
    lon: fix.lon,
    mode: fix.mode,
    at: fix.fixTime,
    ...(fix.speed !== undefined ? { speed: Math.min(100, Math.max(0, fix.speed)) } : {}),
    ...(fix.track !== undefined ? { track: fix.track } : {}),
  };
}

function gpsFixBrief(fix: GpsFix | undefined): Pick<VehicleHealth, 'gpsFix'> {
  if (!fix) return {};
  return {
    gpsFix: {
      mode: fix.mode,
      at: fix.receivedAt,
      ...(fix.eph !== undefined ? { eph: fix.eph } : {}),
      ...(fix.satellitesUsed !== undefined ? { satellites: fix.satellitesUsed } : {}),
    },
  };
}

function modemBrief(m: ModemStatus | undefined): Pick<VehicleHealth, 'modemStatus'> {
  if (!m) return {};
  return {
    modemStatus: {
      bars: m.bars,
      registration: m.registration,
      ...(m.rssiDbm !== undefined ? { rssiDbm: m.rssiDbm } : {}),
      ...(m.tech ? { tech: m.tech } : {}),
      ...(m.operator ? { operator: m.operator } : {}),
    },
  };
}

function brief(h: DeviceHealth): { state: DeviceHealth['state']; reason?: string } {
  return h.state === 'ok' ? { state: 'ok' } : { state: h.state, reason: h.reason };
}

/**
 * How long after the screen listens the broker link waits for a first screen before starting
 * anyway: a client already waiting gets its page within a few ms; a kiosk that comes up later
 * must not hold the link back.
 */
const LINK_START_FALLBACK_MS = 250;

export async function startVehicle(deps: VehicleDeps): Promise<RunningVehicle> {
  const { config, hardware, log } = deps;
  const v = config.vehicle;
  const sector = v.sector as SectorId;
  const unitId = v.unit as UnitId;
  const vehicleId = v.id as VehicleId;
  const boardsDir = join(config.stateDir, 'boards');
  await mkdir(boardsDir, { recursive: true });

  const ctx = (): OpContext => ({ by: { kind: 'vehicle', vehicleId, unitId }, at: Date.now() });
  const home = precinctPeerId(v.precinct);
  // Shared heads with the precinct, so a reconnect (or a restart of the car) costs ~250 B.
  const syncStates = await FileSyncStateStore.open(join(config.stateDir, 'sync-states'), log.child({ component: 'sync-states' }));
  // The broker link, built now (it connects at start(), step 4): the board's sync publishes on it.
  const { gps, modem, inputs } = hardware;
  const brokers: BrokerEndpoint[] = [];
  for (const b of config.brokers) {
    brokers.push({ url: b.url, ...(b.precinct ? { precinct: b.precinct } : {}), ...(b.caFile ? { ca: await readFile(b.caFile, 'utf8') } : {}) });
  }
  const presenceMsg = (state: 'online' | 'offline', broker?: string): Presence => ({
    v: 1,
    unit: unitId,
    vehicle: vehicleId,
    state,
    at: Date.now(),
    ...(broker ? { broker } : {}),
    ...(state === 'online' ? { health: { gps: brief(gps.health()), modem: brief(modem.health()), inputs: brief(inputs.health()) } } : {}),
  });
  const transport = new MqttTransport({
    brokers,
    clientId: vehicleId,
    username: vehicleId,
    password: deps.password,
    log: log.child({ component: 'mqtt' }),
    subscriptions: [
      topics.syncInbox(sector, vehicleId),
      topics.avlAll(sector),
      topics.presenceAll(sector),
      topics.alertAll(sector),
      topics.rosterAll(sector),
      topics.epochAll(sector),
    ],
    will: { topic: topics.presence(sector, unitId), payload: JSON.stringify(presenceMsg('offline')), qos: 1, retain: true },
    birth: () => ({ topic: topics.presence(sector, unitId), payload: JSON.stringify(presenceMsg('online')), qos: 1, retain: true }),
  });

  // 1. The board, from disk: the officer sees the last known board even with no network. The
  // live epoch is the one the precinct last announced (sync/car-epochs.ts).
  const store = new FileDocStore(boardsDir, log.child({ component: 'doc-store' }));
  const epochs = await CarEpochs.open({
    sector,
    store,
    stateFile: join(config.stateDir, 'epoch.json'),
    initialEpoch: deps.epoch ?? '1',
    home,
    makeSync: (r) =>
      new PeerSync({
        replica: r,
        publisher: transport,
        sector,
        selfPeer: vehicleId,
        log: log.child({ component: 'sync', docId: r.docId }),
        allowPeer: (p) => p.startsWith('precinct-'),
        stateStore: syncStates,
        settle: CAR_SETTLE,
      }) as PeerSync<unknown>,
    forgetSyncStates: (docId) => syncStates.forgetDoc(docId),
    ctx,
    self: { vehicleId, unitId },
    log: log.child({ component: 'board' }),
  });
  const replica = epochs.live;
  if (!replica.view().units[unitId]) {
    await replica.update((d) =>
      board.upsertUnit(d, { id: unitId, callSign: v.callSign ?? v.unit, homeBeat: v.homeBeat, mode: v.mode }, ctx()),
    );
  }

  // The sector roster for sign-on, from the car's own disk first: an officer can sign on before
  // (or without) any contact with the precinct, as long as the car once received the roster.
  const rosterFile = join(config.stateDir, 'roster.json');
  let roster: Roster | undefined = await readCachedRoster(rosterFile).catch((err: unknown) => {
    log.warn({ err, file: rosterFile }, 'cached roster unreadable; waiting for the precinct to send it');
    return undefined;
  });
  if (roster && (roster.sector !== sector || roster.precinct !== v.precinct)) roster = undefined;
  let stations: Station[] = [];
  const stationsFile = config.stationsFile ?? SAMPLE_STATIONS;
  try {
    stations = await loadStations(stationsFile);
  } catch (err) {
    log.warn({ err: (err as Error).message, file: stationsFile }, 'station directory not loaded; the beat page lists no stations');
  }

  const events = new EventEmitter<ScreenEvents>();
  const positions = new Map<string, AvlPosition>();
  const presence = new Map<string, Presence>();
  const alerts: Alert[] = [];

  // 2. Hardware.
  const health = (): VehicleHealth => ({
    gps: gps.health(),
    modem: modem.health(),
    inputs: inputs.health(),
    broker: transport.state(),
    sync: { docId: replica.docId, pending: !epochs.inSync(), peer: home, waiting },
    ...gpsFixBrief(gps.latest()),
    ...modemBrief(modem.latest()),
  });
  // Officer actions made since the car was last in sync with its precinct (the header's
  // "n waiting"): counted per action, reset once the precinct has every change of ours.
  let waiting = 0;
  const refreshWaiting = () => {
    if (waiting > 0 && epochs.inSync()) {
      waiting = 0;
      events.emit('health', health());
    }
  };

  // Sync with the home precinct, on every connect (the link starts in step 4).
  transport.on('connect', () => {
    void epochs.hello();
  });
  transport.on('state', () => events.emit('health', health()));
  transport.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    if (!t) return;
    if (t.kind === 'sync') {
      void epochs.route(topic, payload).then(refreshWaiting);
    } else if (t.kind === 'epoch') {
      // Only the home precinct decides the epoch; a roaming car follows its own precinct.
      if (t.precinct !== v.precinct) return;
      let epoch: string;
      try {
        const a = parseEpochAnnouncement(payload);
        if (a.sector !== sector || a.precinct !== t.precinct) throw new Error(`announcement names ${a.sector}/${a.precinct}, topic ${t.sector}/${t.precinct}`);
        epoch = a.epoch;
      } catch (err) {
        return void log.warn({ topic, bytes: payload.length, reason: (err as Error).message }, 'malformed epoch announcement dropped');
      }
      void epochs.announce(epoch).catch((err: unknown) => log.error({ err, epoch }, 'announced epoch not opened; retried at the next announcement'));
    } else if (t.kind === 'roster') {
      const r = parseRoster(payload);
      if (!r || r.sector !== sector || r.precinct !== t.precinct) return void log.warn({ topic, bytes: payload.length }, 'malformed roster dropped');
      // Only the home precinct's roster: a car roaming on another precinct's broker keeps its own.
      if (t.precinct !== v.precinct || !isNewerRoster(roster, r)) return;
      const changed = !roster || roster.at !== r.at;
      roster = r;
      if (!changed) return;
      log.info({ precinct: r.precinct, officers: r.officers.length, at: r.at }, 'roster received');
      events.emit('roster', r);
      void writeCachedRoster(rosterFile, r).catch((err: unknown) => log.error({ err, file: rosterFile }, 'roster not cached on disk; sign-on offline will use the previous one'));
    } else if (t.kind === 'avl') {
      const pos = parseAvl(payload);
      if (!pos || pos.unit !== t.unit) return void log.debug({ topic, bytes: payload.length }, 'bad position dropped');
      positions.set(t.unit, pos);
      events.emit('avl', pos);
    } else if (t.kind === 'presence') {
      const p = parsePresence(payload);
      if (!p) return void log.debug({ topic, bytes: payload.length }, 'bad presence dropped');
      presence.set(t.unit, p);
      events.emit('presence', p);
    } else if (t.kind === 'alert') {
      const a = parseAlert(payload);
      if (!a) return void log.debug({ topic, bytes: payload.length }, 'bad alert dropped');
      alerts.push(a);
      if (alerts.length > 50) alerts.shift();
      events.emit('alert', a);
    }
  });
  replica.on('change', (view: BoardView) => events.emit('board', view));

  // AVL: our own fixes go out ephemerally, throttled; never into the board.
  let lastSent: AvlPosition | undefined;
  let lastSentAt = 0;
  gps.on('fix', (fix) => {
    const pos = toAvl(unitId, fix);
    positions.set(unitId, pos);
    events.emit('avl', pos);
    const now = Date.now();
    if (!transport.isOnline() || !shouldSendPosition(lastSent, lastSentAt, pos, now, config.avl)) return;
    lastSent = pos;
    lastSentAt = now;
    transport.publish(topics.avl(sector, unitId), JSON.stringify(pos), { qos: 0, retain: true }).catch(() => undefined);
  });
  const onHealth = () => events.emit('health', health());
  gps.on('health', onHealth);
  modem.on('health', onHealth);
  modem.on('status', onHealth);
  inputs.on('health', onHealth);

  // Officer and vehicle actions: the board change is on disk before the promise resolves.
  const act = async (fn: (d: board.SectorBoard, c: OpContext) => board.SectorBoard) => {
    // The view is cached per document heads: a new view object means a real change was written.
    const before = replica.view();
    const after = await replica.update((d) => fn(d, ctx()));
    if (replica.view() !== before && !epochs.inSync()) {
      waiting += 1;
      events.emit('health', health());
    }
    return after;
  };
  const raiseEmergency = async (source: 'button' | 'screen') => {
    const at = Date.now();
    const fix = gps.latest();
    const alert: Alert = { v: 1, unit: unitId, kind: 'emergency', at, ...(fix ? { lat: fix.lat, lon: fix.lon } : {}) };
    // The alert goes out first: it must not wait behind a disk write or a sync round.
    const sent = transport.isOnline()
      ? transport.publish(topics.alert(sector, unitId), JSON.stringify(alert), { qos: 1 }).catch((err: unknown) => {
          log.error({ err }, 'emergency alert not delivered to broker');
        })
      : Promise.resolve(log.error({ source }, 'emergency raised while the broker link is offline; it will sync on reconnect'));
    try {
      await act((d, c) => board.setUnitStatus(d, { unitId, status: 'emergency', reason: `emergency ${source}` }, c));
    } catch (err) {
      // The alert above is what summons help; a board refusal (e.g. nobody signed on) must not
      // turn a delivered alert into an error. Offline, the board change is the only carrier.
      log.error({ err: (err as Error).message, source }, 'emergency not recorded on the board');
      if (!transport.isOnline()) throw err;
    }
    await sent;
    log.warn({ source, unitId }, 'emergency raised');
  };
  inputs.on('input', (e: InputEvent) => {
    if (e.input === 'emergency' && e.active) void raiseEmergency('button').catch((err: unknown) => log.error({ err }, 'emergency handling failed'));
  });

  const identity: UnitIdentity = {
    vehicleId,
    unitId,
    callSign: v.callSign ?? v.unit,
    sector,
    precinct: v.precinct,
    homeBeat: v.homeBeat,
  };
  const screen: VehicleScreen = {
    identity,
    department: deps.department,
    events,
    board: () => replica.view(),
    health,
    positions: () => Object.fromEntries(positions),
    presence: () => Object.fromEntries(presence),
    alerts: () => [...alerts],
    actions: {
      setStatus: async (status: UnitStatus, reason?: string) => {
        await act((d, c) => board.setUnitStatus(d, { unitId, status, ...(reason ? { reason } : {}) }, c));
      },
      acceptCall: async (callId: string) => {
        await act((d, c) => board.acceptCall(d, { callId: callId as never, unitId }, c));
      },
      addNote: async (callId: string, text: string) => {
        await act((d, c) => board.addNote(d, { callId: callId as never, text }, c));
      },
      clearCall: async (callId: string, disposition: string) => {
        await act((d, c) => board.clearCall(d, { callId: callId as never, disposition }, c));
      },
      emergency: () => raiseEmergency('screen'),
      signOn: async (officer) => {
        const u = replica.view().units[unitId];
        // After a daemon restart the board still has this officer on: resume, write nothing.
        if (u && u.status !== 'off_duty' && u.officers.includes(officer.badge)) return;
        await act((d, c) => board.signOn(d, { unitId, officers: [officer.badge] }, c));
      },
      signOff: async () => {
        if (replica.view().units[unitId]?.status === 'off_duty') return;
        await act((d, c) => board.signOff(d, { unitId }, c));
      },
      markRead: async (reportId: string) => {
        await act((d, c) => board.markRead(d, { reportId, unitId }, c));
      },
      sendMessage: async (to, text) => {
        await act((d, c) => board.sendMessage(d, { to, text }, c));
      },
      markMessageRead: async (messageId: string) => {
        await act((d, c) => board.markMessageRead(d, { messageId, unitId }, c));
      },
    },
    roster: () => roster,
    stations,
  };

  await gps.start();
  await modem.start();
  await inputs.start();

  // 3. The screen. 4. Trailing epochs and the broker link, once the screen has been served (or
  // shortly after it listens when nobody asks): their work comes after the officer's first page.
  const ui = createVehicleUi(screen, log.child({ component: 'ui' }), {
    lockAfterMs: config.ui.lockAfterSeconds * 1000,
    hosts: config.ui.allowRemote ? [config.ui.host.includes(':') ? `[${config.ui.host}]` : config.ui.host] : [],
  });
  let stopping = false;
  const linkGate = new FirstScreenGate(() => {
    // Older epochs first, so the link's first greeting covers them too.
    void epochs.openTrailing().then(() => {
      if (stopping) return;
      log.info({}, 'starting the broker link');
      transport.start();
    });
  }, deps.linkStartFallbackMs ?? LINK_START_FALLBACK_MS);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: linkGate.wrap(ui.app.fetch), hostname: config.ui.host, port: config.ui.port }, () => resolve(s));
  });
  linkGate.arm();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.ui.port;
  const url = `http://${config.ui.host.includes(':') ? `[${config.ui.host}]` : config.ui.host}:${port}/`;
  log.info({ url, unit: unitId, sector }, 'vehicle screen ready');

  return {
    url,
    screen,
    replica,
    transport,
    epochs,
    get sync() {
      return epochs.sync;
    },
    hardware,
    async stop() {
      stopping = true;
      linkGate.cancel();
      ui.dispose();
      // SSE streams stay open until the page goes: close them so server.close() can finish.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Mark ourselves offline cleanly (the will only fires on an unclean drop).
      if (transport.isOnline()) {
        await transport
          .publish(topics.presence(sector, unitId), JSON.stringify(presenceMsg('offline')), { qos: 1, retain: true })
          .catch(() => undefined);
      }
      await transport.close();
      // Received changes are written behind: on disk before the sync states that name them.
      await epochs.saved();
      await syncStates.flush();
      await inputs.stop();
      await modem.stop();
      await gps.stop();
    },
  };
}
