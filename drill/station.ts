// Shared set-up for the drills: a precinct station (the real built CLI) with registered cars and a
// sign-on roster, a real vehicle daemon child, the in-car screen's API signed on as an officer the
// way the screen does it (CSRF token from the page, roster sign-on with badge and PIN), and a TCP
// proxy on loopback that can blackhole a car's link.
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { hashPin } from '../sync/roster.js';
import { newSecret } from '../sync/secret-hash.js';
import { killGroup, sleep, spawnCli, startMosquitto, writePrecinctState, type CarEntry, type JsonLogChild, type MosquittoProc } from '../bench/county-procs.js';
import type { Department } from '../daemon/department.js';
import { OperatorRegistry } from '../daemon/operators.js';
import type { GcTrace } from './gc-trace.js';

export const PRECINCT = 'N';
export const BADGE = '4711';
export const PIN = '2468';

export interface Station {
  dir: string;
  stateDir: string;
  secret: string;
  /** A dispatcher's token (CAD). */
  token: string;
  /** A Watch Commander's token (overrides, the epoch cut). */
  commanderToken: string;
  brokerUrl: string;
  apiUrl: string;
  sectors: string[];
  cars: CarEntry[];
  precinct: JsonLogChild;
  mosquitto: MosquittoProc | undefined;
  /** SIGKILL the station and start it again on the same ports and state (aedes: the broker too). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The sector board as the precinct serves it. */
  board(sector: string): Promise<{ calls: Record<string, { notes: Array<{ text: string }> }>; units: Record<string, { status: string }> }>;
  postCall(beat: string, cad?: string): Promise<string>;
  /** A dispatcher assigns a unit by hand; false when the station refuses (the unit is not available). */
  assign(callId: string, unitId: string): Promise<boolean>;
  /** The Watch Commander's "cut this sector's epoch now". */
  cutEpoch(sector: string, reason: string): Promise<{ from: string; to: string; carried: { calls: number; units: number; reports: number } }>;
}

export interface StationOptions {
  broker: 'aedes' | 'mosquitto';
  mqttPort?: number;
  /** The config's epochs section (e.g. a compressed day's grace and archive check). */
  epochs?: Record<string, unknown>;
  /** Started with --trace-gc, its collections fed here. */
  gc?: GcTrace;
}

export async function startStation(dir: string, dept: Department, cars: CarEntry[], opts: StationOptions): Promise<Station> {
  const stateDir = join(dir, 'precinct');
  await mkdir(stateDir, { recursive: true });
  const sectors = Object.keys(dept.sectors).sort();
  const secret = newSecret();
  const { token } = await writePrecinctState(stateDir, PRECINCT, cars, secret);
  const commanderToken = await (await OperatorRegistry.open(join(stateDir, 'operators.json'))).add('drill-watch-commander', 'watch_commander');
  await writeFile(join(stateDir, 'roster.json'), JSON.stringify({ v: 1, officers: [{ badge: BADGE, name: 'Drill Officer', pinHash: await hashPin(PIN), role: 'officer' }] }));
  const precinctSecret = newSecret();
  const mosquitto = opts.broker === 'mosquitto' ? await startMosquitto(dir, { precinct: PRECINCT, sectors, cars, secret, precinctSecret }) : undefined;
  const { freePort } = await import('../bench/county-procs.js');
  const mqttPort = opts.mqttPort ?? (await freePort());
  const apiPort = await freePort();
  const cfg = join(dir, 'precinct.json');
  await writeFile(
    cfg,
    JSON.stringify({
      precinct: { id: PRECINCT, name: 'Drill station' },
      sectors,
      mqtt: { host: '127.0.0.1', port: mqttPort, ...(mosquitto ? { external: { url: mosquitto.url, password: precinctSecret } } : {}) },
      api: { host: '127.0.0.1', port: apiPort },
      stateDir,
      ...(opts.epochs ? { epochs: opts.epochs } : {}),
      log: { level: 'info' },
    }),
  );
  const gc = opts.gc;
  const launch = async () => {
    const p = spawnCli(['precinct', '--config', cfg], gc ? { nodeArgs: ['--trace-gc'], onText: (l) => gc.line(l) } : {});
    const ready = await p.waitForLog('precinct station ready', 60_000);
    return { p, ready };
  };
  let { p, ready } = await launch();
  const st: Station = {
    dir,
    stateDir,
    secret,
    token,
    commanderToken,
    brokerUrl: String(ready.brokerUrl),
    apiUrl: String(ready.apiUrl),
    sectors,
    cars,
    get precinct() {
      return p;
    },
    mosquitto,
    async restart() {
      await killGroup(p.child);
      ({ p, ready } = await launch());
    },
    async stop() {
      await killGroup(p.child, 'SIGTERM');
      if (mosquitto) await mosquitto.stop();
    },
    async board(sector) {
      const res = await fetch(new URL(`/api/v1/sectors/${sector}/board`, st.apiUrl), { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`board ${sector}: ${res.status}`);
      return ((await res.json()) as { board: Awaited<ReturnType<Station['board']>> }).board;
    },
    async postCall(beat, cad) {
      const res = await fetch(new URL('/api/v1/calls', st.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...(cad ? { cadNumber: cad } : {}), type: 'DRILL', priority: 3, address: '600 4th Ave', beat }),
      });
      if (res.status !== 201) throw new Error(`call refused: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async assign(callId, unitId) {
      const res = await fetch(new URL(`/api/v1/calls/${encodeURIComponent(callId)}/assign`, st.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ unitId, reason: 'nearest free unit' }),
      });
      await res.arrayBuffer();
      return res.status === 200;
    },
    async cutEpoch(sector, reason) {
      const post = () =>
        fetch(new URL(`/api/v1/sectors/${sector}/epoch/cut`, st.apiUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${commanderToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason }),
        });
      // A kept-alive socket the station closed as the request left is the usual "fetch failed":
      // the request never arrived, so it is sent once more (the error says why if not).
      const res = await post().catch(async (err: unknown) => {
        await sleep(200);
        return post().catch((again: unknown) => {
          throw new Error(`epoch cut of ${sector}: ${(again as Error).message} (${String((again as Error).cause ?? (err as Error).cause)})`);
        });
      });
      if (res.status !== 200) throw new Error(`epoch cut of ${sector} refused: ${res.status} ${await res.text()}`);
      return (await res.json()) as Awaited<ReturnType<Station['cutEpoch']>>;
    },
  };
  return st;
}

export interface RealVehicle {
  child: JsonLogChild;
  url: string;
}

export async function writeVehicleConfig(dir: string, o: { car: CarEntry; beat: string; brokerUrl: string; secret: string; stateDir: string; uiPort: number; gps?: object }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'vehicle.json');
  await writeFile(
    file,
    JSON.stringify({
      vehicle: { id: o.car.vehicleId, unit: o.car.unitId, homeBeat: o.beat, sector: o.car.sector, precinct: PRECINCT },
      brokers: [{ url: o.brokerUrl }],
      credentials: { password: o.secret },
      ui: { host: '127.0.0.1', port: o.uiPort },
      stateDir: o.stateDir,
      hardware: { gps: o.gps ?? { kind: 'sim', intervalMs: 1000 }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } },
      log: { level: 'info' },
    }),
  );
  return file;
}

export async function startVehicle(configFile: string, gc?: GcTrace): Promise<RealVehicle> {
  const child = spawnCli(['vehicle', '--config', configFile], gc ? { nodeArgs: ['--trace-gc'], onText: (l) => gc.line(l) } : {});
  const ready = await child.waitForLog('vehicle screen ready', 60_000);
  return { child, url: String(ready.url) };
}

/** The in-car screen's API as the page uses it: CSRF token from the page, then roster sign-on. */
export class Screen {
  private csrf = '';
  constructor(readonly url: string) {}

  async signOn(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const page = await (await fetch(this.url)).text();
    this.csrf = /<meta name="mdt-csrf" content="([^"]+)"/.exec(page)?.[1] ?? '';
    if (!this.csrf) throw new Error('no CSRF token on the screen page');
    for (;;) {
      const res = await this.post('/api/session/sign-on', { badge: BADGE, pin: PIN });
      if (res.status === 200) return;
      // Until the roster has arrived from the precinct the badge is unknown.
      if (Date.now() > end) throw new Error(`sign-on refused: ${res.status} ${await res.text()}`);
      await sleep(500);
    }
  }

  post(path: string, body: unknown, raw?: string, timeoutMs?: number): Promise<Response> {
    return fetch(new URL(path, this.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mdt-csrf': this.csrf },
      body: raw ?? JSON.stringify(body),
      ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
    });
  }

  async board(): Promise<{ calls: Record<string, { notes: Array<{ text: string }> }> } | null> {
    const s = (await (await fetch(new URL('/api/state', this.url))).json()) as { board: { calls: Record<string, { notes: Array<{ text: string }> }> } | null };
    return s.board;
  }
}

/**
 * A loopback TCP proxy in front of the broker. `cut()` blackholes the link (bytes are held, not
 * refused: a car in a dead zone sees silence, not a reset) until `restore()`, which drops every
 * held connection so both ends notice and the car reconnects.
 */
export class LinkProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private blackhole = false;
  port = 0;
  constructor(private readonly target: number) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      const upstream = net.connect(this.target, '127.0.0.1');
      this.sockets.add(upstream);
      const pipe = (from: net.Socket, to: net.Socket) =>
        from.on('data', (d: Buffer) => {
          if (!this.blackhole) to.write(d);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  cut(): void {
    this.blackhole = true;
  }

  restore(): void {
    this.blackhole = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.restore();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
