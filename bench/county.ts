// County-scale bench (issue 9): one precinct station (the real built CLI, `mdt precinct`, as a
// child process so its CPU and RSS come from /proc) serving every sector of the sample
// department, N lightweight cars in this process (bench/county-car.ts: the real board, sync and
// transport modules without disk, screen or hardware), one real `mdt vehicle` child, 1 Hz AVL per
// car, car status changes and CAD calls from the real Seattle PD calls. The same run with the
// embedded aedes and with Mosquitto as the station's external broker, then the raw floor of
// notes/sync-stack.md §8 in the same process.
//
// `npm run bench` runs it with the other benches; alone: `node dist/bench/run.js benchCounty`.
// COUNTY_N=50,200 picks the fleet sizes, COUNTY_SECONDS the measured window, COUNTY_RUNS the
// repetitions (medians are reported), BENCH_QUICK=1 = N 50,200 with a 10 s window.
// COUNTY_BROKERS=aedes runs one broker only, COUNTY_FLOOR=0 skips the raw floor,
// COUNTY_LEGACY_SCRYPT=1 starts the station on a registry of scrypt hashes (provisioned before
// machine tokens had their own format: each car's first CONNECT pays scrypt), and
// COUNTY_PROF=<dir> runs the station under `node --cpu-prof` (the profile lands in <dir> when it
// exits on SIGTERM at the end of a run).
// Diagnostics (bench/county-trace.ts): COUNTY_TRACE=<ms> prints the phase trace (bench loop lag,
// CPU, cars' queued sync messages) periodically; COUNTY_SELF_PROF=<dir> profiles this process
// after the window (COUNTY_SELF_PROF_SIGNON=1: during sign-on); COUNTY_STOP_TEST=1 stops the
// fleet with the offline burst still queued and ends the run; COUNTY_CAR_DIRECT=1 hands received
// sync messages straight to PeerSync, as cars did before (to compare).
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as A from '@automerge/automerge';
import { SAMPLE_DEPARTMENT } from '../daemon/config.js';
import { loadDepartment, type Department } from '../daemon/department.js';
import { departmentPriority, loadRecordedCalls, type RecordedCall } from '../daemon/sample-calls.js';
import { newSecret } from '../sync/secret-hash.js';
import { fileNameOf } from '../sync/doc-store.js';
import { LightCar } from './county-car.js';
import { CountyTrace } from './county-trace.js';
import { runFloor, type FloorResult } from './county-floor.js';
import { killGroup, median, quantile, ProcSampler, sleep, spawnCli, startMosquitto, stopAll, writePrecinctState, type CarEntry, type JsonLogChild, type MosquittoProc } from './county-procs.js';
import type { BenchTable } from './table.js';

const run = promisify(execFile);
const PRECINCT = 'N';
const now = (): number => performance.timeOrigin + performance.now();
const MB = 2 ** 20;

export interface CountyOptions {
  n: number;
  broker: 'aedes' | 'mosquitto';
  windowS: number;
  /** Officer actions per second, fleet-wide. */
  changesPerS: number;
  /** CAD calls per second, fleet-wide (real calls, sped up). */
  callsPerS: number;
}

export interface CountyResult {
  broker: string;
  n: number;
  connectS: number;
  stalled: number;
  /** Of the cars apart at 20 s, those still apart 30 s later with no hello (late ones converge). */
  stalledStuck: number;
  /** Sync messages per second those stuck cars sent meanwhile (a livelock keeps sending). */
  stuckMsgsPerS: number;
  stalledAfterHello: number;
  maxSyncMsgsPerCar: number;
  changes: number;
  changeDeliveries: number;
  changeExpected: number;
  changeMedMs: number;
  changeP99Ms: number;
  calls: number;
  callDeliveries: number;
  callExpected: number;
  callMedMs: number;
  callP99Ms: number;
  avlMedMs: number;
  avlP99Ms: number;
  avlPerS: number;
  precinctCpu: number;
  precinctRssMB: number;
  brokerCpu: number;
  brokerRssMB: number;
  carsCpu: number;
  carsRssMB: number;
  vehicleIdleCpu: number;
  vehicleIdleRssMB: number;
  vehicleLoadCpu: number;
  vehicleLoadRssMB: number;
  catchupChanges: number;
  catchupMs: number;
  catchupBytes: number;
  /** From the first change of the offline period to the sector quiet again (the car then reconnects). */
  catchupDigestS: number;
  /** How long stopping the N cars took, and the received sync messages they still had queued (dropped). */
  fleetStopS: number;
  queuedAtStop: number;
  boardsKiB: number;
  biggestBoardKiB: number;
  boardColdLoadMs: number;
  boardColdViewMs: number;
}

interface Pending {
  t0: number;
  sector: string;
  waiting: Set<LightCar>;
  inWindow: boolean;
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}${detail ? ` (${detail()})` : ''}`);
    await sleep(100);
  }
}

async function dirBytes(dir: string): Promise<{ total: number; biggest: { name: string; bytes: number } }> {
  let total = 0;
  const sizes = new Map<string, number>();
  for (const f of await readdir(dir)) {
    const b = (await stat(join(dir, f))).size;
    total += b;
    const doc = f.replace(/\.(snapshot|log)$/, '');
    sizes.set(doc, (sizes.get(doc) ?? 0) + b);
  }
  const biggest = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  return { total, biggest: { name: biggest[0], bytes: biggest[1] } };
}

export async function runCounty(o: CountyOptions, dept: Department, recorded: RecordedCall[]): Promise<CountyResult> {
  const dir = await mkdtemp(join(tmpdir(), `mdt-county-${o.broker}-${o.n}-`));
  const stateDir = join(dir, 'precinct');
  await mkdir(stateDir, { recursive: true });
  const sectors = Object.keys(dept.sectors).sort();
  const cars: CarEntry[] = [];
  for (let i = 0; i < o.n; i++) cars.push({ vehicleId: `C${i}`, unitId: `U${i}`, sector: sectors[i % sectors.length]! });
  const realSector = sectors[0]!;
  const realBeat = dept.sectors[realSector]!.beats[0]!;
  const real: CarEntry = { vehicleId: 'VREAL', unitId: 'UREAL', sector: realSector };
  const secret = newSecret();
  const { token } = await writePrecinctState(stateDir, PRECINCT, [...cars, real], secret, { legacyScrypt: process.env.COUNTY_LEGACY_SCRYPT === '1' });
  let mosq: MosquittoProc | undefined;
  const precinctSecret = newSecret();
  if (o.broker === 'mosquitto') mosq = await startMosquitto(dir, { precinct: PRECINCT, sectors, cars: [...cars, real], secret, precinctSecret });
  const cfgFile = join(dir, 'precinct.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      precinct: { id: PRECINCT, name: 'County bench station' },
      sectors,
      mqtt: { host: '127.0.0.1', port: 0, ...(mosq ? { external: { url: mosq.url, password: precinctSecret } } : {}) },
      api: { host: '127.0.0.1', port: 0 },
      stateDir,
      log: { level: 'info' },
    }),
  );
  const liveCars: LightCar[] = [];
  let vehicle: JsonLogChild | undefined;
  let precinct: JsonLogChild | undefined;
  const samplers: ProcSampler[] = [];
  const trace = new CountyTrace(`${o.broker} N=${o.n}`, () => liveCars, { station: () => precinct?.child.pid, mosquitto: () => mosq?.child().pid });
  try {
    const profDir = process.env.COUNTY_PROF;
    precinct = spawnCli(['precinct', '--config', cfgFile], profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {});
    const ready = await precinct.waitForLog('precinct station ready', 60_000);
    const brokerUrl = String(ready.brokerUrl);
    const apiUrl = String(ready.apiUrl);
    trace.phase('station ready');
    const pSampler = new ProcSampler(() => precinct?.child.pid, 500).start();
    const bSampler = new ProcSampler(() => mosq?.child().pid, 500).start();
    const selfSampler = new ProcSampler(() => process.pid, 500).start();
    samplers.push(pSampler, bSampler, selfSampler);

    // Latency bookkeeping: a change is pending until every other online car of its sector has it.
    const pendingChanges = new Map<string, Pending>();
    const pendingCalls = new Map<string, Pending>();
    const changeLat: number[] = [];
    const callLat: number[] = [];
    const avlLat: number[] = [];
    let avlCount = 0;
    let measuring = false;
    const bySector = new Map<string, LightCar[]>();
    const onBoardChange = (car: LightCar) => {
      const t = now();
      for (const [hash, p] of pendingChanges) {
        if (p.sector !== car.opts.sector || !p.waiting.has(car) || !car.has(hash)) continue;
        p.waiting.delete(car);
        if (p.inWindow) changeLat.push(t - p.t0);
        if (p.waiting.size === 0) pendingChanges.delete(hash);
      }
      if (pendingCalls.size === 0) return;
      const calls = (car.replica.doc as unknown as { calls: Record<string, unknown> }).calls;
      for (const [cad, p] of pendingCalls) {
        if (p.sector !== car.opts.sector || !p.waiting.has(car) || !(cad in calls)) continue;
        p.waiting.delete(car);
        if (p.inWindow) callLat.push(t - p.t0);
        if (p.waiting.size === 0) pendingCalls.delete(cad);
      }
    };
    const onAvl = (_u: string, sentAt: number, at: number) => {
      if (!measuring) return;
      avlCount += 1;
      if (avlLat.length < 2_000_000) avlLat.push(at - sentAt);
    };

    // Connect the fleet in batches, as a precinct sees cars come on at shift change.
    const tConnect = performance.now();
    for (let i = 0; i < cars.length; i += 25) {
      const batch: LightCar[] = [];
      for (const c of cars.slice(i, i + 25)) {
        const beat = dept.sectors[c.sector]!.beats[0]!;
        const car = await LightCar.create({ ...c, precinct: PRECINCT, brokerUrl, password: secret, center: dept.beats[beat]!.center, stateDir: join(dir, 'cars'), onAvl, onBoardChange });
        car.start();
        batch.push(car);
        liveCars.push(car);
        bySector.set(c.sector, [...(bySector.get(c.sector) ?? []), car]);
      }
      await waitUntil(() => batch.every((c) => c.transport.isOnline()), 120_000, `cars ${i}.. online`);
    }
    const connectS = (performance.now() - tConnect) / 1000;
    trace.phase('fleet online');
    if (process.env.COUNTY_SELF_PROF_SIGNON === '1') await trace.startProfile();
    for (const car of liveCars) await car.signOn();
    trace.phase('signed on');
    // Settled when every sector's cars hold the same heads (each car's sign-on reached the others).
    // A car whose exchange with the precinct stalls (both sides sending empty sync messages while
    // each lacks one change of the other: see docs/performance.md, "Sync stall") is counted and
    // given a fresh hello, which is what its next reconnect would do.
    const apart = (): LightCar[] => {
      const out: LightCar[] = [];
      for (const cs of bySector.values()) {
        const heads = cs.map((x) => A.getHeads(x.replica.doc).sort().join());
        const counts = new Map<string, number>();
        for (const h of heads) counts.set(h, (counts.get(h) ?? 0) + 1);
        const top = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
        cs.forEach((c, i) => {
          if (heads[i] !== top) out.push(c);
        });
      }
      return out;
    };
    // Which way a car is apart (it lacks its sector's changes, or the sector lacks its own), what
    // its link did and what it believes, and what the station logged at warn or above.
    const hasAll = (doc: A.Doc<unknown>, heads: A.Heads) => {
      try {
        return A.hasHeads(doc, heads);
      } catch {
        return false;
      }
    };
    const describeApart = (cs: LightCar[], away: LightCar[] = apart()) => {
      const d = { cars: cs.length, lacksSector: 0, sectorLacksIt: 0, both: 0, believesPrecinctHasAll: 0, reconnected: 0, unackedPublishes: 0, queued: 0, syncIn: 0, syncSent: 0, signedOn: 0 };
      for (const c of cs) {
        const ref = bySector.get(c.opts.sector)!.find((x) => !cs.includes(x) && !away.includes(x));
        const lacks = ref ? !hasAll(c.replica.doc, A.getHeads(ref.replica.doc)) : false;
        const lacked = ref ? !hasAll(ref.replica.doc, A.getHeads(c.replica.doc)) : false;
        if (lacks && lacked) d.both += 1;
        else if (lacks) d.lacksSector += 1;
        else if (lacked) d.sectorLacksIt += 1;
        if (c.sync.inSync(`precinct-${PRECINCT}`)) d.believesPrecinctHasAll += 1;
        if (c.connects > 1) d.reconnected += 1;
        d.unackedPublishes += c.acks.started - c.acks.n;
        d.queued += c.syncIn - c.syncDone;
        d.syncIn += c.syncIn;
        d.syncSent += c.sync.stats.sentMessages;
        if (c.replica.view().units[c.opts.unitId]?.status !== 'off_duty') d.signedOn += 1;
      }
      return d;
    };
    const stationWarnings = () => {
      const byMsg: Record<string, number> = {};
      for (const l of precinct?.lines ?? []) {
        const k = `${String(l.msg)}${l.err ? `: ${String(l.err).slice(0, 80)}` : ''}${l.reason ? ` (${String(l.reason).slice(0, 80)})` : ''}`;
        byMsg[k] = (byMsg[k] ?? 0) + 1;
      }
      return byMsg;
    };
    await waitUntil(() => apart().length === 0, 20_000, 'fleet converged after sign-on').catch(() => undefined);
    const stalled = apart();
    trace.phase('converged after sign-on, or 20 s', { apart: describeApart(stalled), stationWarnings: stationWarnings() });
    // Late or stuck? A loaded station only delays the exchange: left alone, those cars converge.
    // A stall does not, while both sides keep sending messages that carry no change.
    const msgs0 = new Map(stalled.map((c) => [c, c.sync.stats.sentMessages]));
    if (stalled.length > 0) await waitUntil(() => apart().length === 0, 30_000, 'fleet converged without hello').catch(() => undefined);
    const stuck = apart().filter((c) => msgs0.has(c));
    if (stalled.length > 0) trace.phase('converged without hello, or 30 s', { stuck: describeApart(stuck), stationWarnings: stationWarnings() });
    const stuckMsgsPerS = stuck.reduce((a, c) => a + c.sync.stats.sentMessages - msgs0.get(c)!, 0) / Math.max(1, stuck.length) / 30;
    for (const c of apart()) await c.sync.hello(`precinct-${PRECINCT}`);
    await waitUntil(() => apart().length === 0, 30_000, 'fleet converged after hello').catch(() => undefined);
    const stalledAfterHello = apart().length;
    trace.phase('after hello', { apart: describeApart(apart()), stationWarnings: stationWarnings() });
    await trace.stopProfile(`${o.broker[0]}${o.n}-signon`);

    // The real vehicle daemon: sim GPS, its own state dir and screen port.
    const vdir = join(dir, 'vehicle');
    await mkdir(vdir);
    const vcfg = join(vdir, 'vehicle.json');
    await writeFile(
      vcfg,
      JSON.stringify({
        vehicle: { id: real.vehicleId, unit: real.unitId, homeBeat: realBeat, sector: realSector, precinct: PRECINCT },
        brokers: [{ url: brokerUrl }],
        credentials: { password: secret },
        ui: { host: '127.0.0.1', port: 0 },
        stateDir: join(vdir, 'state'),
        hardware: { gps: { kind: 'sim', intervalMs: 1000 }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } },
        log: { level: 'info' },
      }),
    );
    vehicle = spawnCli(['vehicle', '--config', vcfg]);
    // Under load the station may take long to admit one more car: its figures are then taken
    // from whenever it got on, or left out (NaN) after 120 s.
    const vehicleOnline = await vehicle.waitForLog('broker link online', 120_000).then(
      () => true,
      (err: unknown) => {
        process.stderr.write(`county: real vehicle not online: ${(err as Error).message.slice(0, 200)}\n`);
        return false;
      },
    );
    const vSampler = new ProcSampler(() => (vehicleOnline ? vehicle?.child.pid : undefined), 500).start();
    samplers.push(vSampler);
    await sleep(3000);
    const idle0 = performance.now();
    await sleep(5000);
    const vIdle = vSampler.window(idle0, performance.now());
    trace.phase('real vehicle', { online: vehicleOnline });

    // Traffic: AVL on every car, officer actions, CAD calls from the real data.
    liveCars.forEach((c, i) => c.startAvl((i * 1000) / liveCars.length));
    let inWindow = false;
    let made = 0;
    let callsMade = 0;
    const online = (s: string, except?: LightCar) => new Set((bySector.get(s) ?? []).filter((c) => c !== except && c.transport.isOnline()));
    const actTimer = setInterval(() => {
      const car = liveCars[Math.floor(Math.random() * liveCars.length)]!;
      if (!car.transport.isOnline()) return;
      const win = inWindow;
      void car.act().then((r) => {
        if (!r) return;
        if (win) made += 1;
        pendingChanges.set(r.hash, { t0: r.at, sector: car.opts.sector, waiting: online(car.opts.sector, car), inWindow: win });
      });
    }, 1000 / o.changesPerS);
    let callIdx = 0;
    const runId = `${o.broker[0]}${o.n}`;
    const postCall = async (rc: RecordedCall, cad: string, win: boolean) => {
      const sector = dept.beats[rc.beat]!.sector;
      const p: Pending = { t0: now(), sector, waiting: online(sector), inWindow: win };
      pendingCalls.set(cad, p);
      const body = JSON.stringify({ cadNumber: cad, type: `SPD P${rc.spdPriority}`, priority: departmentPriority(rc.spdPriority), address: rc.neighborhood || 'unknown', beat: rc.beat, lat: rc.lat, lon: rc.lon });
      let res: Response | undefined;
      for (let attempt = 0; !res; attempt++) {
        try {
          res = await fetch(new URL('/api/v1/calls', apiUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        } catch (err) {
          if (attempt >= 3 || precinct?.child.exitCode !== null) {
            pendingCalls.delete(cad);
            throw new Error(`CAD API unreachable (station ${precinct?.child.exitCode === null ? 'running' : `exited ${precinct?.child.exitCode ?? precinct?.child.signalCode}`}): ${String(err)}`);
          }
          await sleep(250);
        }
      }
      if (res.status !== 201) {
        pendingCalls.delete(cad);
        throw new Error(`CAD call refused: ${res.status} ${await res.text()}`);
      }
      await res.arrayBuffer();
      return p;
    };
    const callTimer = setInterval(() => {
      const rc = recorded[callIdx % recorded.length]!;
      callIdx += 1;
      const win = inWindow;
      if (win) callsMade += 1;
      postCall(rc, `${runId}-${callIdx}`, win).catch(() => undefined);
    }, 1000 / o.callsPerS);

    await sleep(3000); // warm-up: every car publishing, caches warm
    trace.phase('warm-up');
    measuring = true;
    inWindow = true;
    const w0 = performance.now();
    await sleep(o.windowS * 1000);
    inWindow = false;
    measuring = false;
    const w1 = performance.now();
    clearInterval(actTimer);
    clearInterval(callTimer);
    trace.phase('window');
    // Deliveries still in flight at the window's end count if they arrive within 10 s.
    const windowPending = () => [...pendingChanges.values(), ...pendingCalls.values()].some((p) => p.inWindow);
    await waitUntil(() => !windowPending(), 10_000, 'drain').catch(() => undefined);
    const expectedOf = (lat: number[], m: Map<string, Pending>) => lat.length + [...m.values()].filter((p) => p.inWindow).reduce((a, p) => a + p.waiting.size, 0);
    const changeExpected = expectedOf(changeLat, pendingChanges);
    const callExpected = expectedOf(callLat, pendingCalls);
    trace.phase('drain', { pendingChanges: pendingChanges.size, pendingCalls: pendingCalls.size });
    const pw = pSampler.window(w0, w1);
    const bw = bSampler.window(w0, w1);
    const sw = selfSampler.window(w0, w1);
    const vw = vSampler.window(w0, w1);
    // The window's figures now: the catch-up and the fleet's stop that follow can take minutes.
    process.stderr.write(
      `county: window ${JSON.stringify({ n: o.n, broker: o.broker, connectS, stalled: stalled.length, stalledStuck: stuck.length, stuckMsgsPerS, stalledAfterHello, vehicleOnline, changes: made, changeDeliveries: changeLat.length, changeExpected, changeMedMs: median(changeLat), changeP99Ms: quantile(changeLat, 0.99), callDeliveries: callLat.length, callExpected, callMedMs: median(callLat), avlMedMs: median(avlLat), avlPerS: avlCount / ((w1 - w0) / 1000), precinctCpu: pw.cpu, precinctRssMB: pw.rssMax / MB })}\n`,
    );

    // Catch-up after 30 minutes offline: one car drops; its sector gets what 30 minutes of this
    // run's (sped-up) traffic brings one sector; then it reconnects and merges.
    const sector = realSector;
    const peers = bySector.get(sector)!;
    const away = peers[0]!;
    const others = peers.slice(1);
    await trace.startProfile();
    await away.stop();
    // The sector's sync traffic as its cars see it: messages received from the station and sent to it.
    const sectorSync = () => ({ sectorIn: others.reduce((a, c) => a + c.syncIn, 0), sectorOut: others.reduce((a, c) => a + c.sync.stats.sentMessages, 0) });
    trace.phase('catch-up: car off', sectorSync());
    const perSector = ((o.changesPerS + o.callsPerS) * 1800) / sectors.length;
    const nCalls = Math.round((perSector * o.callsPerS) / (o.changesPerS + o.callsPerS));
    const nActs = Math.round(perSector) - nCalls;
    const sectorCalls = recorded.filter((r) => dept.beats[r.beat]?.sector === sector);
    const offHashes: string[] = [];
    const digest0 = performance.now();
    for (let k = 0; k < nActs; k++) {
      const r = await others[k % others.length]!.act();
      if (r) offHashes.push(r.hash);
      if (k % 20 === 0) await sleep(5);
    }
    trace.phase('catch-up: offline changes made', { n: offHashes.length, ...sectorSync() });
    if (process.env.COUNTY_STOP_TEST === '1') {
      // How long the fleet takes to stop while the sector's cars still have the burst queued.
      for (const c of liveCars) c.stopAvl();
      const queuedAtStop = liveCars.reduce((a, c) => a + c.syncIn - c.syncDone, 0);
      const t = performance.now();
      await Promise.all(liveCars.map((c) => c.stop()));
      trace.phase('stop test: fleet stopped', { queuedAtStop, stopS: Math.round((performance.now() - t) / 100) / 10 });
      throw new Error('COUNTY_STOP_TEST: the run ends after the stop test');
    }
    const offCalls: string[] = [];
    for (let k = 0; k < nCalls; k++) {
      offCalls.push(`${runId}-off-${k}`);
      await postCall(sectorCalls[k % sectorCalls.length]!, `${runId}-off-${k}`, false);
    }
    trace.phase('catch-up: offline calls posted', { n: offCalls.length, ...sectorSync() });
    // The precinct has it all once a connected peer holds every change and call made meanwhile.
    // A board never loses a change, so each car's progress through the list is kept: checking all
    // ~600 hashes of ~30 cars every 100 ms (a missing hash costs Automerge a thrown error) was 7 %
    // of this process's CPU at N = 500 while the station digested the offline period.
    const held = new Map<LightCar, number>();
    const complete = (c: LightCar) => {
      let i = held.get(c) ?? 0;
      while (i < offHashes.length && c.has(offHashes[i]!)) i += 1;
      held.set(c, i);
      return i === offHashes.length && offCalls.every((id) => id in (c.replica.doc as unknown as { calls: Record<string, unknown> }).calls);
    };
    let catchupMs = NaN;
    let catchupBytes = NaN;
    let catchupDigestS = NaN;
    try {
      // The offline period's traffic was made in seconds, not spread over 30 minutes: let the
      // station digest it (every peer has it, then no sync message for 1 s), or the reconnecting
      // car's hello queues behind thousands of other cars' acks, which a real sector never piles up.
      // At N = 500 that took 77 s (and did not end in 60 + 60 s in another run): the station
      // fans ~630 changes and ~100 calls out to the sector's ~28 other cars, which all share this
      // process. Its time is reported (digest s); the limits only stop a run that hangs.
      await waitUntil(() => others.every(complete), 240_000, 'the connected peers hold the offline period', () => `${others.filter(complete).length} of ${others.length} do`);
      trace.phase('catch-up: peers hold the offline period', sectorSync());
      let seen = -1;
      let quietSince = performance.now();
      await waitUntil(() => {
        const n = others.reduce((a, c) => a + c.sync.stats.receivedMessages, 0);
        if (n !== seen) [seen, quietSince] = [n, performance.now()];
        return performance.now() - quietSince > 1000;
      }, 120_000, 'the sector quiet after the offline period');
      catchupDigestS = (performance.now() - digest0) / 1000;
      trace.phase('catch-up: sector quiet', { digestS: Math.round(catchupDigestS), ...sectorSync() });
      const ref = others.find(complete)!;
      const refHeads = A.getHeads(ref.replica.doc);
      const bytes0 = away.sync.stats.receivedBytes;
      const c0 = performance.now();
      away.start();
      await waitUntil(() => A.hasHeads(away.replica.doc, refHeads), 120_000, 'catch-up');
      catchupMs = performance.now() - c0;
      catchupBytes = away.sync.stats.receivedBytes - bytes0;
      trace.phase('catch-up', { ms: Math.round(catchupMs), bytes: catchupBytes });
    } catch (err) {
      trace.phase('catch-up failed', sectorSync());
      process.stderr.write(`county: catch-up not measured: ${(err as Error).message}\n`);
    }

    // Stop the fleet, then the station (SIGTERM: it flushes), then measure its boards cold.
    for (const c of liveCars) c.stopAvl();
    const queuedAtStop = liveCars.reduce((a, c) => a + c.syncIn - c.syncDone, 0);
    trace.phase('AVL stopped', { queuedAtStop });
    const stop0 = performance.now();
    const stopMs: number[] = [];
    await Promise.all(
      liveCars.map(async (c) => {
        const t = performance.now();
        await c.stop();
        stopMs.push(performance.now() - t);
      }),
    );
    const fleetStopS = (performance.now() - stop0) / 1000;
    trace.phase('fleet stopped', { stopMedMs: Math.round(median(stopMs)), stopMaxMs: Math.round(Math.max(...stopMs)) });
    await trace.stopProfile(runId);
    await killGroup(vehicle.child, 'SIGTERM');
    // A profiled station also writes its profile on the way out: give it longer.
    await killGroup(precinct.child, 'SIGTERM', process.env.COUNTY_PROF ? 60_000 : 10_000);
    trace.phase('vehicle and station stopped', { stationWarnings: stationWarnings() });
    const boards = await dirBytes(join(stateDir, 'boards'));
    const biggestDoc = decodeURIComponent(boards.biggest.name);
    void fileNameOf;
    const boardJs = join(dirname(fileURLToPath(import.meta.url)), 'board.js');
    let cold = { loadMs: NaN, viewMs: NaN };
    try {
      const { stdout } = await run(process.execPath, ['--expose-gc', boardJs, '--cold', join(stateDir, 'boards'), biggestDoc], { timeout: 60_000 });
      cold = JSON.parse(stdout) as typeof cold;
    } catch (err) {
      process.stderr.write(`county: cold load of ${biggestDoc} failed: ${String(err)}\n`);
    }
    return {
      broker: o.broker,
      n: o.n,
      connectS,
      stalled: stalled.length,
      stalledStuck: stuck.length,
      stuckMsgsPerS,
      stalledAfterHello,
      maxSyncMsgsPerCar: Math.max(...liveCars.map((c) => c.sync.stats.sentMessages)),
      changes: made,
      changeDeliveries: changeLat.length,
      changeExpected,
      changeMedMs: median(changeLat),
      changeP99Ms: quantile(changeLat, 0.99),
      calls: callsMade,
      callDeliveries: callLat.length,
      callExpected,
      callMedMs: median(callLat),
      callP99Ms: quantile(callLat, 0.99),
      avlMedMs: median(avlLat),
      avlP99Ms: quantile(avlLat, 0.99),
      avlPerS: avlCount / ((w1 - w0) / 1000),
      precinctCpu: pw.cpu,
      precinctRssMB: pw.rssMax / MB,
      brokerCpu: bw.cpu,
      brokerRssMB: bw.rssMax / MB,
      carsCpu: sw.cpu,
      carsRssMB: sw.rssMax / MB,
      vehicleIdleCpu: vIdle.cpu,
      vehicleIdleRssMB: vIdle.rssMax / MB,
      vehicleLoadCpu: vw.cpu,
      vehicleLoadRssMB: vw.rssMax / MB,
      catchupChanges: nActs + nCalls,
      catchupMs,
      catchupBytes,
      catchupDigestS,
      fleetStopS,
      queuedAtStop,
      boardsKiB: boards.total / 1024,
      biggestBoardKiB: boards.biggest.bytes / 1024,
      boardColdLoadMs: cold.loadMs,
      boardColdViewMs: cold.viewMs,
    };
  } finally {
    for (const s of samplers) s.stop();
    await trace.stopProfile(`${o.broker[0]}${o.n}-failed`).catch(() => undefined);
    trace.close();
    await Promise.all(liveCars.map((c) => c.stop().catch(() => undefined)));
    if (vehicle) await killGroup(vehicle.child);
    if (precinct) await killGroup(precinct.child);
    if (mosq) await mosq.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function medianResult(rs: CountyResult[]): CountyResult {
  const first = rs[0]!;
  const out = { ...first } as Record<string, unknown>;
  for (const k of Object.keys(first) as Array<keyof CountyResult>) {
    if (typeof first[k] === 'number') out[k] = median(rs.map((r) => r[k] as number));
  }
  return out as unknown as CountyResult;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(2)}%`);
const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : 'n/a');

export function countyTables(results: CountyResult[], floor: FloorResult[], opts: { windowS: number; runs: number; changesPerS: number; callsPerS: number; speedup: number; sectors: number }): BenchTable[] {
  const cond = [
    `one \`mdt precinct\` child serving all ${opts.sectors} sectors of the sample department; N lightweight cars in the bench process (bench/county-car.ts: real SectorReplica/board ops/PeerSync/MqttTransport, boards in memory, no screen or hardware); one real \`mdt vehicle\` child (sim GPS/modem/inputs)`,
    `traffic: 1 Hz AVL per car (QoS 0, retained, to every car of its sector); ${opts.changesPerS} officer status changes/s fleet-wide; ${opts.callsPerS} CAD call/s from the Seattle PD sample (x${Math.round(opts.speedup)} real time) through the precinct API`,
    `${opts.windowS} s measured window after 3 s warm-up; ${opts.runs} run(s) per cell${opts.runs > 1 ? ' (medians)' : ''}; 2-core VM, loopback; CPU 1.00 = one core`,
  ];
  const lat: BenchTable = {
    title: 'County bench: latency and delivery (car→precinct→car, CAD→car, AVL car→car)',
    columns: ['N', 'broker', 'connect s', 'stalled at sign-on', 'changes', 'delivered', 'change med ms', 'change p99 ms', 'CAD calls', 'CAD med ms', 'CAD p99 ms', 'AVL med ms', 'AVL p99 ms', 'AVL deliveries/s'],
    rows: results.map((r) => [r.n, r.broker, r1(r.connectS), `${r.stalled}${r.stalled ? ` (${r.stalledStuck} stuck${r.stalledStuck ? ` at ${r1(r.stuckMsgsPerS)} msg/s` : ''}${r.stalledAfterHello ? `, ${r.stalledAfterHello} after hello` : ''})` : ''}`, r.changes, pct(r.changeDeliveries, r.changeExpected), r2(r.changeMedMs), r2(r.changeP99Ms), r.calls, r2(r.callMedMs), r2(r.callP99Ms), r2(r.avlMedMs), r2(r.avlP99Ms), Math.round(r.avlPerS)]),
    notes: [...cond, '"stalled at sign-on" = cars whose heads still differed from their sector 20 s after sign-on; "stuck" = of those, still apart after 30 s more with no intervention (a sync stall, see docs/performance.md; the others were only late), with the sync messages/s each sent meanwhile; every car still apart then gets a fresh hello before traffic starts', '"delivered" = arrivals at every other online car of the sector within the window + 10 s, over those expected'],
  };
  const res: BenchTable = {
    title: 'County bench: station and fleet resources during the window',
    columns: ['N', 'broker', 'precinct CPU', 'precinct RSS MiB', 'Mosquitto CPU', 'Mosquitto RSS MiB', 'station CPU total', 'cars process CPU', 'cars process RSS MiB'],
    rows: results.map((r) => [r.n, r.broker, r2(r.precinctCpu), r1(r.precinctRssMB), r.broker === 'mosquitto' ? r2(r.brokerCpu) : '-', r.broker === 'mosquitto' ? r1(r.brokerRssMB) : '-', r2(r.precinctCpu + r.brokerCpu), r2(r.carsCpu), r1(r.carsRssMB)]),
    notes: ['with aedes the broker runs inside the precinct process; with Mosquitto the station total is precinct + mosquitto', 'RSS = peak VmRSS sampled every 0.5 s from /proc'],
  };
  const ratios: BenchTable = {
    title: 'County bench: aedes / Mosquitto ratios (same N, same traffic; < 1 = aedes lower)',
    columns: ['N', 'change med', 'change p99', 'CAD med', 'AVL med', 'AVL p99', 'station CPU', 'station RSS', 'connect time'],
    rows: [...new Set(results.map((r) => r.n))].flatMap((n) => {
      const a = results.find((r) => r.n === n && r.broker === 'aedes');
      const m = results.find((r) => r.n === n && r.broker === 'mosquitto');
      if (!a || !m) return [];
      return [[n, ratio(a.changeMedMs, m.changeMedMs), ratio(a.changeP99Ms, m.changeP99Ms), ratio(a.callMedMs, m.callMedMs), ratio(a.avlMedMs, m.avlMedMs), ratio(a.avlP99Ms, m.avlP99Ms), ratio(a.precinctCpu, m.precinctCpu + m.brokerCpu), ratio(a.precinctRssMB, m.precinctRssMB + m.brokerRssMB), ratio(a.connectS, m.connectS)]];
    }),
  };
  const veh: BenchTable = {
    title: 'Vehicle daemon (real `mdt vehicle` child in the bench fleet): RSS and CPU',
    columns: ['N', 'broker', 'idle RSS MiB', 'idle CPU', 'traffic RSS MiB', 'traffic CPU'],
    rows: results.map((r) => [r.n, r.broker, r1(r.vehicleIdleRssMB), r2(r.vehicleIdleCpu), r1(r.vehicleLoadRssMB), r2(r.vehicleLoadCpu)]),
    notes: ['idle = fleet connected, no bench traffic, the car sending its own 1 Hz sim GPS (5 s); traffic = the measured window, receiving its sector\'s AVL and sync'],
  };
  const catchup: BenchTable = {
    title: 'Catch-up after 30 minutes offline, and the station\'s boards after the run',
    columns: ['N', 'broker', 'changes missed', 'offline period digested s', 'catch-up ms', 'bytes received', 'boards on disk KiB', 'biggest board KiB', 'its cold load ms', 'cold readBoard ms'],
    rows: results.map((r) => [r.n, r.broker, r.catchupChanges, r1(r.catchupDigestS), Math.round(r.catchupMs), r.catchupBytes, r1(r.boardsKiB), r1(r.biggestBoardKiB), r1(r.boardColdLoadMs), r1(r.boardColdViewMs)]),
    notes: [
      'missed = 30 min of one sector\'s share of this run\'s sped-up traffic (status changes by its other cars + CAD calls), made while the car was off; catch-up = reconnect (once the station has digested the offline period, which the bench makes in seconds) to holding the heads of a connected peer, persisted sync state; digested = from the offline period\'s first change until every other car of the sector held all of it and no sync message had arrived for 1 s',
      'cold load: `node dist/bench/board.js --cold` (the board bench\'s fresh-process load) on the station\'s store after SIGTERM',
    ],
  };
  const fl: BenchTable = {
    title: 'Raw fleet floor (notes/sync-stack.md §8), measured in this run',
    columns: ['broker', 'clients', 'position deliveries/s', 'change med ms', 'change p99 ms', 'broker CPU', 'broker RSS MiB', 'notes §8 (same machine, 2026-11-27)'],
    rows: floor.map((f) => [f.broker, f.clients, Math.round(f.positionDeliveriesPerS), r2(f.changeMedianMs), r2(f.changeP99Ms), r2(f.brokerCpu), r1(f.brokerRssMB), f.broker === 'aedes' ? '7,900/s; 1.4-1.8 ms; p99 32-39 ms' : '7,900/s; 1.0-1.4 ms; p99 37-39 ms']),
    notes: [`500 plain MQTT.js clients, 30 sectors, 1 Hz positions to sector peers, 20 changes/s of 200 B QoS 1; ${floor[0]?.seconds ?? 0} s per broker (notes: 20 s); no auth, no ACL, no Automerge`],
  };
  return [lat, res, ratios, veh, catchup, fl];
}

export async function benchCounty(): Promise<BenchTable[]> {
  const quick = process.env.BENCH_QUICK === '1';
  const ns = (process.env.COUNTY_N ?? (quick ? '50,200' : '50,200,500')).split(',').map(Number).filter((x) => x > 0);
  const windowS = Number(process.env.COUNTY_SECONDS ?? (quick ? 10 : 20));
  const runs = Number(process.env.COUNTY_RUNS ?? 1);
  const brokers = (process.env.COUNTY_BROKERS ?? 'aedes,mosquitto').split(',').map((b) => {
    if (b !== 'aedes' && b !== 'mosquitto') throw new Error(`COUNTY_BROKERS: expected aedes and/or mosquitto, got ${JSON.stringify(b)}`);
    return b;
  });
  const dept = await loadDepartment(SAMPLE_DEPARTMENT);
  const recorded = await loadRecordedCalls(dept);
  const callsPerS = 1;
  const changesPerS = 5;
  // The sample's own rate: calls per second of real time over its span.
  const spanS = ((recorded[recorded.length - 1]?.queuedAt ?? 0) - (recorded[0]?.queuedAt ?? 0)) / 1000;
  const speedup = spanS > 0 ? callsPerS / (recorded.length / spanS) : 1;
  const results: CountyResult[] = [];
  const floor: FloorResult[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'mdt-county-floor-'));
  try {
    for (const n of ns) {
      for (const broker of brokers) {
        const rs: CountyResult[] = [];
        for (let i = 0; i < runs; i++) {
          process.stderr.write(`county: N=${n} ${broker} run ${i + 1}/${runs}\n`);
          try {
            const r = await runCounty({ n, broker, windowS, changesPerS, callsPerS }, dept, recorded);
            process.stderr.write(`county: ${JSON.stringify(r)}\n`);
            rs.push(r);
          } catch (err) {
            process.stderr.write(`county: N=${n} ${broker} run ${i + 1} failed: ${(err as Error).message}\n`);
            await stopAll();
          }
        }
        if (rs.length > 0) results.push(medianResult(rs));
      }
    }
    for (const broker of process.env.COUNTY_FLOOR === '0' ? [] : (['aedes', 'mosquitto'] as const)) {
      process.stderr.write(`county: raw floor ${broker}\n`);
      floor.push(await runFloor(broker, scratch, { seconds: quick ? 5 : 10 }));
    }
  } finally {
    await stopAll();
    await rm(scratch, { recursive: true, force: true });
  }
  return countyTables(results, floor, { windowS, runs, changesPerS, callsPerS, speedup, sectors: Object.keys(dept.sectors).length });
}
