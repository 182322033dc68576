// Roaming between precincts (docs/sync-protocol.md, "Linking precincts").
//
// aedes has no bridge, so each precinct station links itself: for every neighbour it keeps one
// MQTT client connected to the neighbour's broker as identity `link-{ourPrecinct}`, and relays
// only the traffic of cars whose home precinct is that neighbour and which are connected to OUR
// broker right now. A car of sector S (home precinct A) that failed over to precinct B's broker:
//
//   out (B -> A)  everything the car publishes on B (sync to precinct-A, presence, avl, alert),
//                 taken from the local broker's publish events of that client (the broker's
//                 worker reports the publishes of the vehicles of every linked precinct);
//   in  (A -> B)  sync addressed to the car (mdt/v1/sync/S/precinct-A/{car}) and the sector's
//                 presence/avl/alert, so its screen still shows its sector.
//
// No loop: outbound takes only publishes made by a connected client (what the link injects into
// the local broker has no client), and inbound drops the roaming cars' own presence/avl/alert
// echoed back by the neighbour. The link is additive: when it is down, every precinct keeps
// serving its own cars, and a roaming car keeps its edits on disk until it can sync.
import type { Logger } from './logger.js';
import type { ClientRef, RelayedPublish, RunningBroker } from './broker.js';
import { MqttTransport } from './mqtt-transport.js';
import { precinctPeerId } from './acl.js';
import { linkUsername } from './credentials.js';
import { parseTopic, topics } from './topics.js';
import { encodeEnvelope } from './envelope.js';

export interface LinkRemote {
  /** The neighbour's precinct id (home precinct of the cars this link relays). */
  precinct: string;
  url: string;
  password: string;
  ca?: string;
}

export interface PrecinctLinkOptions {
  broker: RunningBroker;
  /** Our own precinct id: the link authenticates at the neighbour as `link-{self}`. */
  self: string;
  remote: LinkRemote;
  log: Logger;
}

interface Roamer {
  vehicleId: string;
  unitId: string;
  sector: string;
  /** Resolves once the neighbour granted the car's inbox: nothing is relayed out before. */
  ready: Promise<void>;
  /** The last document the car synced, to restart its round after the link reconnects. */
  docId?: string;
  /** Its latest retained messages (presence, position), republished when the link reconnects. */
  retained: Map<string, Buffer>;
}

export class PrecinctLink {
  private readonly transport: MqttTransport;
  /** By connection (ClientRef.conn): a car reconnecting may overlap its old connection. */
  private readonly roamers = new Map<number, Roamer>();
  private readonly sectorRefs = new Map<string, number>();
  private readonly detach: Array<() => void> = [];
  readonly stats = { out: 0, in: 0, dropped: 0 };

  constructor(private readonly opts: PrecinctLinkOptions) {
    const { remote, self } = opts;
    this.transport = new MqttTransport({
      brokers: [{ url: remote.url, ...(remote.ca ? { ca: remote.ca } : {}) }],
      clientId: `link-${self}-to-${remote.precinct}`,
      username: linkUsername(self),
      password: remote.password,
      log: opts.log,
      subscriptions: [],
      // Capped at 2 s, not a car's 30 s: a precinct has a handful of links, so there is no fleet
      // to spread out, and every second a restarted neighbour goes unlinked is a second its
      // roaming cars' edits wait (a 10 s cap delayed them up to 10 s after the neighbour was back).
      backoff: { minMs: 100, maxMs: 2000 },
    });
    this.transport.on('message', (topic, payload, retain) => this.inbound(topic, payload, retain));
    this.transport.on('connect', () => this.restartRounds());
  }

  online(): boolean {
    return this.transport.isOnline();
  }

  roaming(): string[] {
    return [...this.roamers.values()].map((r) => r.vehicleId);
  }

  start(): void {
    const broker = this.opts.broker;
    const onReady = (client: ClientRef) => this.onReady(client);
    const onGone = (client: ClientRef) => this.onGone(client);
    const onPublish = (packet: RelayedPublish, client: ClientRef) => this.outbound(packet, client);
    broker.on('clientReady', onReady);
    broker.on('clientDisconnect', onGone);
    broker.on('publish', onPublish);
    this.detach.push(
      () => broker.off('clientReady', onReady),
      () => broker.off('clientDisconnect', onGone),
      () => broker.off('publish', onPublish),
    );
    this.transport.start();
  }

  async close(): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    await this.transport.close();
  }

  /** A vehicle of the neighbour's precinct, authenticated by OUR broker (provisioned here too). */
  private roamerIdentity(client: ClientRef): Omit<Roamer, 'ready' | 'retained'> | undefined {
    const id = client.identity;
    if (id.kind !== 'vehicle' || id.precinct !== this.opts.remote.precinct) return undefined;
    return { vehicleId: id.vehicleId, unitId: id.unitId, sector: id.sector };
  }

  private sectorFilters(sector: string): string[] {
    return [topics.presenceAll(sector), topics.avlAll(sector), topics.alertAll(sector)];
  }

  private onReady(client: ClientRef): void {
    const who = this.roamerIdentity(client);
    if (!who) return;
    const subs = [this.transport.subscribe(topics.sync(who.sector, precinctPeerId(this.opts.remote.precinct), who.vehicleId))];
    const refs = this.sectorRefs.get(who.sector) ?? 0;
    this.sectorRefs.set(who.sector, refs + 1);
    if (refs === 0) subs.push(...this.sectorFilters(who.sector).map((f) => this.transport.subscribe(f)));
    const ready = Promise.all(subs).then(
      () => undefined,
      (err: unknown) => this.opts.log.warn({ err, vehicle: who.vehicleId }, 'link subscription failed; relaying anyway'),
    );
    this.roamers.set(client.conn, { ...who, ready, retained: new Map() });
    this.opts.log.info({ vehicle: who.vehicleId, sector: who.sector, home: this.opts.remote.precinct }, 'roaming car connected; relaying to its home precinct');
  }

  private onGone(client: ClientRef): void {
    const r = this.roamers.get(client.conn);
    if (!r) return;
    this.roamers.delete(client.conn);
    const stillHere = [...this.roamers.values()].some((o) => o.vehicleId === r.vehicleId);
    if (!stillHere) void this.transport.unsubscribe(topics.sync(r.sector, precinctPeerId(this.opts.remote.precinct), r.vehicleId));
    const refs = (this.sectorRefs.get(r.sector) ?? 1) - 1;
    if (refs > 0) this.sectorRefs.set(r.sector, refs);
    else {
      this.sectorRefs.delete(r.sector);
      for (const f of this.sectorFilters(r.sector)) void this.transport.unsubscribe(f);
    }
  }

  private outbound(packet: RelayedPublish, client: ClientRef): void {
    // Only what a connected client published: the broker reports no injected inbound message.
    const who = this.roamerIdentity(client);
    if (!who) return;
    const t = parseTopic(packet.topic);
    if (!t || t.sector !== who.sector) return;
    const { payload } = packet;
    const roamer = this.roamers.get(client.conn);
    if (t.kind === 'sync' && roamer && payload.length > 3) {
      roamer.docId = payload.subarray(3, 3 + payload[2]!).toString('utf8');
    }
    if (packet.retain && roamer) roamer.retained.set(packet.topic, payload);
    // The last will is published after the client left (and its roamer entry with it).
    const ready = roamer?.ready ?? Promise.resolve();
    void ready.then(() =>
      this.transport
        .publish(packet.topic, payload, { qos: packet.qos > 0 ? 1 : 0, retain: packet.retain })
        .then(() => void (this.stats.out += 1))
        .catch((err: unknown) => {
          this.stats.dropped += 1;
          this.opts.log.debug({ topic: packet.topic, err: (err as Error).message }, 'link down: roaming message not relayed (resynced on reconnect)');
        }),
    );
  }

  private inbound(topic: string, payload: Buffer, retain: boolean): void {
    const t = parseTopic(topic);
    if (!t) return;
    const here = [...this.roamers.values()];
    if (t.kind === 'sync') {
      if (!here.some((r) => r.vehicleId === t.to && r.sector === t.sector)) return;
    } else if (t.kind === 'presence' || t.kind === 'avl' || t.kind === 'alert') {
      if (here.some((r) => r.unitId === t.unit)) return; // our roaming car's own message echoed back
    } else {
      return;
    }
    this.stats.in += 1;
    this.opts.broker.publish({ topic, payload, qos: 1, retain }).catch((err: unknown) => {
      this.opts.log.warn({ topic, err: (err as Error).message }, 'relayed message not delivered locally');
    });
  }

  /**
   * After the link (re)connects: republish each roaming car's retained presence and position
   * (they may have been published while the link was down), and ask the home precinct to restart
   * the car's sync round.
   */
  private restartRounds(): void {
    for (const r of this.roamers.values()) {
      for (const [topic, payload] of r.retained) {
        void this.transport.publish(topic, payload, { qos: 1, retain: true }).catch(() => undefined);
      }
      if (!r.docId) continue;
      const hello = encodeEnvelope({ kind: 'hello', docId: r.docId, body: new Uint8Array(0) });
      void this.transport
        .publish(topics.sync(r.sector, r.vehicleId, precinctPeerId(this.opts.remote.precinct)), hello, { qos: 1 })
        .catch(() => undefined);
    }
  }
}
