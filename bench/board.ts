// A simulated year of one sector's traffic through the real operations, epochs and stores:
// 20-60 calls a day, each with 5-15 changes (assignment, acceptance, progress, notes, closing),
// units signing on and off, held calls, cancellations, CARE reports, beat plan edits, calls that
// span the midnight cut. The precinct and every car keep their own replica (own actor id) and
// exchange changes as they act, so the document carries the actor mix of the field.
//
// Run: `npm run bench` (or `node dist/bench/run.js benchBoard`); BENCH_DAYS=30 for a quick look.
// `node dist/bench/board.js --cold <dir> <docId>` is the fresh-process half of the cold-load figure.
// Start to screen spawns the real vehicle daemon (dist/daemon/main.js) on a state directory holding
// the year-end live board and the year-old first epoch, and polls its screen until it is served.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Automerge from '@automerge/automerge';
import {
  acceptCall,
  addNote,
  assignUnit,
  cancelCall,
  clearCall,
  createBoard,
  createCall,
  deliverReport,
  holdCall,
  markRead,
  readBoard,
  releaseHold,
  setUnitStatus,
  signOff,
  signOn,
  upsertBeat,
  upsertUnit,
  type SectorBoard,
} from '../sync/board.js';
import { FileDocStore } from '../sync/doc-store.js';
import { rolloverEpoch } from '../sync/epoch.js';
import { callView, unitView } from '../sync/ops/read.js';
import { SectorReplica } from '../sync/replica.js';
import type { Actor, OpContext, SectorId, UnitId, VehicleId } from '../sync/schema.js';
import type { BenchTable } from './table.js';

// Sector B of the sample department (Seattle beats), so the real vehicle daemon can start on it.
const SECTOR = 'B' as SectorId;
const BEATS = ['B31', 'B32', 'B33', 'B34', 'B35'];
const UNITS = ['3A11', '3A12', '3A13', '3A14', '3A15', '3B21', '3B22', '3F31'];
const TYPES = ['11R', '11V', '6X', '07', '38', '40', '31', '12R', 'DIST', 'THEFT'];
const DISPOSITIONS = ['RPT', 'NRP', 'ADV', 'ARR', 'CIT', 'GOA', 'UNF'];
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1, 6, 0, 0);

/** mulberry32: a seeded PRNG, so every run simulates the same year. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : 0;
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
/** CPU time (user + system) since `c0`, in ms: robust when other processes share the cores. */
const cpuMs = (c0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
};
const epochOf = (day: number): string => new Date(START + day * DAY).toISOString().slice(0, 10);
const hex = (n: number): string => n.toString(16).padStart(32, '0');

const policy: Actor = { kind: 'policy', precinct: 'P1' };
const dispatcher: Actor = { kind: 'operator', operatorId: 'disp1', role: 'dispatcher' };
const care: Actor = { kind: 'operator', operatorId: 'care1', role: 'care' };
const carActor = (u: string): Actor => ({ kind: 'vehicle', vehicleId: `V-${u}` as VehicleId, unitId: u as UnitId });

interface OpStats {
  count: number;
  totalMs: number;
  cpuMs: number;
}

/** The precinct replica plus one replica per car; each op runs where it happens, then syncs. */
class Sector {
  precinct: SectorBoard;
  cars = new Map<string, SectorBoard>();
  readonly ops = new Map<string, OpStats>();
  changes = 0;

  constructor(board: SectorBoard) {
    this.precinct = board;
    UNITS.forEach((u, i) => this.cars.set(u, Automerge.clone(board, hex(0x100 + i))));
  }

  /** Runs an op on the precinct; refused ops (BoardError) are part of life and skipped. */
  atPrecinct(name: string, fn: (d: SectorBoard) => SectorBoard): boolean {
    return this.time(name, () => {
      this.precinct = fn(this.precinct);
    });
  }

  /**
   * When false, car operations run on the precinct replica (same ctx, so the event still names
   * the vehicle; only the Automerge actor differs). It keeps a year's simulation to minutes; the
   * last days, including the live board, always run with a replica per car.
   */
  perCarReplicas = true;

  /** Runs an op on a car after it caught up, then the precinct takes the car's change. */
  onCar(unit: string, name: string, fn: (d: SectorBoard) => SectorBoard): boolean {
    if (!this.perCarReplicas) return this.atPrecinct(name, fn);
    let car = Automerge.merge(this.cars.get(unit) as SectorBoard, this.precinct);
    const ok = this.time(name, () => {
      car = fn(car);
    });
    this.cars.set(unit, car);
    if (ok) this.precinct = Automerge.merge(this.precinct, car);
    return ok;
  }

  private time(name: string, f: () => void): boolean {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    try {
      f();
    } catch (err) {
      if ((err as { name?: string }).name === 'BoardError') return false;
      throw err;
    }
    const s = this.ops.get(name) ?? { count: 0, totalMs: 0, cpuMs: 0 };
    s.count++;
    s.totalMs += ms(t0);
    s.cpuMs += cpuMs(c0);
    this.ops.set(name, s);
    this.changes++;
    return true;
  }

  /** New epoch: the precinct cuts, every car follows with its own actor. */
  rollover(nextEpoch: string, at: number): SectorBoard {
    for (const c of this.cars.values()) this.precinct = Automerge.merge(this.precinct, c);
    const { closed, next } = rolloverEpoch(this.precinct, nextEpoch, { by: policy, at }, hex(0xa));
    this.precinct = next;
    UNITS.forEach((u, i) => this.cars.set(u, Automerge.clone(next, hex(0x100 + i))));
    return closed;
  }
}

function simulateDay(s: Sector, day: number, rand: () => number, carried: string[]): string[] {
  const t0 = START + day * DAY;
  const ctx = (by: Actor, minute: number): OpContext => ({ by, at: Math.round(t0 + minute * 60_000) });
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

  // Shift start: every unit signs on (crew changes daily), some with a ride-along.
  for (const u of UNITS) {
    s.onCar(u, 'signOn', (d) => signOn(d, { unitId: u, officers: [`Ofc ${u}-${day % 3}`], ...(rand() < 0.05 ? { rider: 'Citizen ride-along' } : {}) }, ctx(carActor(u), 1)));
  }
  // Calls carried over from yesterday are finished first.
  for (const id of carried) {
    const u = callView(s.precinct, id)?.assigned[0];
    if (u) s.onCar(u, 'clearCall', (d) => clearCall(d, { callId: id, disposition: pick(DISPOSITIONS) }, ctx(carActor(u), 5)));
    else s.atPrecinct('cancelCall', (d) => cancelCall(d, { callId: id, reason: 'stale at shift change' }, ctx(dispatcher, 5)));
  }
  if (rand() < 0.1) {
    const beat = pick(BEATS);
    s.onCar(pick(UNITS), 'upsertBeat', (d) =>
      upsertBeat(d, { id: beat, name: `Beat ${beat}`, plans: [{ id: `P${day}`, problem: 'Repeat burglaries near the park', analysis: 'Evenings, weekends', response: 'Bicycle patrol and lighting survey', assessment: 'Review in 30 days' }] }, ctx(carActor(UNITS[0] as string), 20)),
    );
  }

  const calls = 20 + Math.floor(rand() * 41);
  const openAtCut: string[] = [];
  for (let i = 0; i < calls; i++) {
    const minute = 30 + (i * (1380 / calls)) + rand() * 10;
    const id = `${epochOf(day).replace(/-/g, '')}-${String(i).padStart(3, '0')}`;
    const beat = pick(BEATS);
    const type = pick(TYPES);
    const priority = (1 + Math.floor(rand() * 4)) as 1 | 2 | 3 | 4;
    if (!s.atPrecinct('createCall', (d) => createCall(d, { cadNumber: id, type, priority, late: rand() < 0.1, address: `${100 + Math.floor(rand() * 9900)} ${pick(['Elm', 'Oak', 'Pine', 'Main', 'Illinois'])} St`, beat, lat: 32.7 + rand() / 10, lon: -96.8 + rand() / 10, callerNotes: 'Caller on scene, will meet officer' }, ctx(dispatcher, minute)))) continue;
    // Single-unit reads, as the dispatch policy would do; a full readBoard per call would dominate.
    const units = UNITS.map((u) => unitView(s.precinct, u));
    const free = units.filter((u) => u?.status === 'available');
    const unit = free.find((u) => u?.homeBeat === beat)?.id ?? free[0]?.id ?? pick(UNITS);
    if (rand() < 0.08) {
      // Beat officer busy: the call waits for it, then the officer takes it (or the hold lapses).
      s.atPrecinct('holdCall', (d) => holdCall(d, { callId: id, until: ctx(policy, minute + 30).at, reason: 'beat officer out of service', unitId: unit }, ctx(policy, minute)));
      if (rand() < 0.3) s.atPrecinct('releaseHold', (d) => releaseHold(d, { callId: id, reason: 'hold deadline passed' }, ctx(policy, minute + 30)));
    }
    if (rand() < 0.05) {
      s.atPrecinct('cancelCall', (d) => cancelCall(d, { callId: id, reason: 'caller cancelled' }, ctx(dispatcher, minute + 2)));
      continue;
    }
    s.atPrecinct('assignUnit', (d) => assignUnit(d, { callId: id, unitId: unit }, ctx(policy, minute + 1)));
    s.onCar(unit, 'acceptCall', (d) => acceptCall(d, { callId: id, unitId: unit }, ctx(carActor(unit), minute + 2)));
    s.onCar(unit, 'setUnitStatus', (d) => setUnitStatus(d, { unitId: unit, status: 'on_scene' }, ctx(carActor(unit), minute + 9)));
    const notes = Math.floor(rand() * 6);
    for (let n = 0; n < notes; n++) s.onCar(unit, 'addNote', (d) => addNote(d, { callId: id, text: `Spoke with complainant; ${pick(['no injuries', 'suspect left northbound', 'property damage only', 'report number issued', 'referred to CARE'])}.` }, ctx(carActor(unit), minute + 10 + n)));
    if (rand() < 0.15) {
      const backup = pick(UNITS.filter((u) => u !== unit));
      s.atPrecinct('assignUnit', (d) => assignUnit(d, { callId: id, unitId: backup }, ctx(dispatcher, minute + 11)));
      s.onCar(backup, 'setUnitStatus', (d) => setUnitStatus(d, { unitId: backup, status: 'en_route' }, ctx(carActor(backup), minute + 12)));
    }
    if (rand() < 0.05) s.onCar(unit, 'setUnitStatus', (d) => setUnitStatus(d, { unitId: unit, status: 'transporting' }, ctx(carActor(unit), minute + 20)));
    // Late calls stay open across the cut (carried into tomorrow's epoch).
    if (i >= calls - 2 && rand() < 0.5) {
      openAtCut.push(id);
      continue;
    }
    s.onCar(unit, 'clearCall', (d) => clearCall(d, { callId: id, disposition: pick(DISPOSITIONS) }, ctx(carActor(unit), minute + 25 + rand() * 20)));
  }
  for (let r = 0; r < 2; r++) {
    const beat = pick(BEATS);
    const rid = `R${day}-${r}`;
    const beatOfficer = UNITS[BEATS.indexOf(beat)] ?? (UNITS[0] as string);
    s.atPrecinct('deliverReport', (d) => deliverReport(d, { id: rid, beat, title: 'Insurance report: theft from vehicle', body: 'CARE report text '.repeat(20), incidentAt: ctx(care, 0).at, recipients: [{ kind: 'unit', id: beatOfficer }, { kind: 'supervisor', id: 'wc3' }] }, ctx(care, 600 + r)));
    s.onCar(beatOfficer, 'markRead', (d) => markRead(d, { reportId: rid, unitId: beatOfficer }, ctx(carActor(beatOfficer), 700 + r)));
  }
  for (const u of UNITS) s.onCar(u, 'signOff', (d) => signOff(d, { unitId: u }, ctx(carActor(u), 1430)));
  return openAtCut;
}

interface Cold {
  importMs: number;
  loadMs: number;
  loadCpuMs: number;
  viewMs: number;
  rssDeltaMB: number;
  heapDeltaMB: number;
}

/** Fresh process: wasm compiled and warmed on a tiny doc, gc twice, then the first real load. */
function coldLoad(dir: string, docId: string): Promise<Cold> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--cold', dir, docId], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Cold) : reject(new Error(`cold load child exited ${code}`))));
  });
}

async function coldChild(dir: string, docId: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const store = await import('../sync/doc-store.js');
  const board = await import('../sync/board.js');
  const importMs = ms(t0);
  board.readBoard(board.createBoard('warm', 'up'));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const before = process.memoryUsage();
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage();
  const doc = await new store.FileDocStore(dir).load(docId);
  const loadMs = ms(t1);
  const loadCpuMs = cpuMs(c1);
  const t2 = process.hrtime.bigint();
  if (!doc) throw new Error(`no ${docId} in ${dir}`);
  board.readBoard(doc);
  const viewMs = ms(t2);
  const after = process.memoryUsage();
  const res: Cold = { importMs, loadMs, loadCpuMs, viewMs, rssDeltaMB: (after.rss - before.rss) / 2 ** 20, heapDeltaMB: (after.heapUsed - before.heapUsed) / 2 ** 20 };
  process.stdout.write(JSON.stringify(res));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      server.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Fetches `url`, or undefined while nothing listens yet. */
async function tryFetch(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url);
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Spawns `mdt vehicle` on `config` and times it until the screen is served with the live board
 * loaded: /healthz names the live document and `/` renders the screen. Returns ms from spawn, and
 * the CPU time the daemon had used by then (comparable when other processes share the cores).
 */
async function startToScreen(config: string, port: number, liveId: string, unit: string): Promise<{ wallMs: number; cpuMs: number }> {
  const main = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [main, 'vehicle', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MDT_LOG_FORMAT: 'json' } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`vehicle daemon exited ${child.exitCode} before serving its screen`);
      const health = await tryFetch(`http://127.0.0.1:${port}/healthz`);
      const h = health ? ((await health.json()) as { sync?: { docId?: string } }) : undefined;
      if (h?.sync?.docId === liveId) {
        const page = await fetch(`http://127.0.0.1:${port}/`);
        const html = await page.text();
        if (page.status === 200 && html.includes(unit)) return { wallMs: ms(t0), cpuMs: await processCpuMs(child.pid!) };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Spawn to exit of an empty node process: the floor under the start-to-screen figure. */
async function nodeStartMs(): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`node exited ${code}`))));
  });
  return ms(t0);
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}

export async function benchBoard(): Promise<BenchTable[]> {
  const days = Number(process.env.BENCH_DAYS ?? 365);
  const rand = rng(20261127);
  const root = await mkdtemp(join(tmpdir(), 'mdt-bench-board-'));
  const liveDir = join(root, 'live');
  const archiveDir = join(root, 'archive');
  const archive = new FileDocStore(archiveDir);
  const simStart = process.hrtime.bigint();
  try {
    let board = createBoard(SECTOR, epochOf(0), hex(0xa));
    for (const b of BEATS) board = upsertBeat(board, { id: b, name: `Beat ${b}`, profile: { characteristics: 'Mixed residential and retail', resources: ['Neighborhood station, 400 Elm St, 555-0100'], crimeProblems: ['vehicle burglary', 'noise'] } }, { by: dispatcher, at: START });
    UNITS.forEach((u, i) => {
      board = upsertUnit(board, { id: u, callSign: `3-${u}`, homeBeat: BEATS[i % BEATS.length] as string, mode: u.startsWith('3F') ? 'foot' : u.startsWith('3B') ? 'bicycle' : 'car' }, { by: dispatcher, at: START });
    });
    const s = new Sector(board);
    let carried: string[] = [];
    const archived: string[] = [];
    let maxEpochChanges = 0;
    const fullDays = Math.min(days, Number(process.env.BENCH_FULL_REPLICA_DAYS ?? 7));
    for (let day = 0; day < days; day++) {
      s.perCarReplicas = day >= days - fullDays;
      const before = s.changes;
      carried = simulateDay(s, day, rand, carried);
      maxEpochChanges = Math.max(maxEpochChanges, s.changes - before);
      if ((day + 1) % 30 === 0) process.stderr.write(`bench board: day ${day + 1}/${days}, ${s.changes} changes, ${(ms(simStart) / 1000).toFixed(0)} s\n`);
      if (day === days - 1) break; // the last day stays live: that is the board a car loads
      const closed = s.rollover(epochOf(day + 1), START + (day + 1) * DAY - 60_000);
      const docId = `${SECTOR}@${epochOf(day)}`;
      await archive.saveSnapshot(docId, closed);
      archived.push(docId);
    }
    const simMs = ms(simStart);

    // The live board, stored as a car stores it.
    const liveId = `${SECTOR}@${epochOf(days - 1)}`;
    const live = new FileDocStore(liveDir);
    await live.save(liveId, s.precinct);
    await live.close();
    const liveBytes = await dirBytes(liveDir);
    const saveBytes = Automerge.save(s.precinct).length;
    const view = readBoard(s.precinct);

    const warmLoads: number[] = [];
    const warmLoadsCpu: number[] = [];
    const warmViews: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const d = await new FileDocStore(liveDir).load(liveId);
      warmLoads.push(ms(t0));
      warmLoadsCpu.push(cpuMs(c0));
      const t1 = process.hrtime.bigint();
      if (d) readBoard(d);
      warmViews.push(ms(t1));
    }
    const amStats = Automerge.stats(s.precinct);
    const colds: Cold[] = [];
    for (let i = 0; i < 3; i++) colds.push(await coldLoad(liveDir, liveId));

    // Durable operations on the live board: change + incremental save + fsync, as a car does.
    // Done on the year-end live board itself (after its size was taken), through the replica.
    const replicaStore = new FileDocStore(liveDir);
    const replica = await SectorReplica.open({ store: replicaStore, sector: SECTOR, epoch: epochOf(days - 1), actorId: hex(0x1ff) });
    const lastDay = START + (days - 1) * DAY;
    await replica.update((d) => createCall(d, { cadNumber: 'X1', type: '40', priority: 3, address: '1 Main St', beat: 'B31' }, { by: dispatcher, at: lastDay + 1 }));
    const durable: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = process.hrtime.bigint();
      await replica.update((d) => addNote(d, { callId: 'X1', text: `durable note ${i}` }, { by: dispatcher, at: lastDay + 2 + i }));
      durable.push(ms(t0));
    }
    await replicaStore.close();

    // Start to screen: the car's state directory after a year, as the daemon finds it at boot.
    const carDir = join(root, 'car');
    const carBoards = new FileDocStore(join(carDir, 'boards'));
    await carBoards.save(liveId, (await new FileDocStore(liveDir).load(liveId))!);
    const yearOld = archived[0];
    if (yearOld) await carBoards.save(yearOld, (await archive.load(yearOld))!);
    await carBoards.close();
    await writeFile(join(carDir, 'epoch.json'), JSON.stringify({ live: epochOf(days - 1) }));
    const port = await freePort();
    const carConfig = join(root, 'vehicle.json');
    await writeFile(
      carConfig,
      JSON.stringify({
        vehicle: { id: 'V-BENCH', unit: '3A11', homeBeat: 'B1', sector: SECTOR, precinct: 'N' },
        // Nothing listens there: the car starts offline, as after a cold boot out of coverage.
        brokers: [{ url: 'mqtt://127.0.0.1:9' }],
        credentials: { password: 'bench-password' },
        ui: { host: '127.0.0.1', port },
        stateDir: carDir,
        hardware: { gps: { kind: 'sim' }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } },
        log: { level: 'warn' },
      }),
    );
    const starts: Array<{ wallMs: number; cpuMs: number }> = [];
    const nodeStarts: number[] = [];
    for (let i = 0; i < 7; i++) {
      nodeStarts.push(await nodeStartMs());
      starts.push(await startToScreen(carConfig, port, liveId, '3A11'));
    }

    // The archive: one snapshot per closed epoch.
    const archiveBytes = await dirBytes(archiveDir);
    const sample = archived.filter((_, i) => i % Math.max(1, Math.floor(archived.length / 30)) === 0);
    const archiveLoads: number[] = [];
    for (const id of sample) {
      const t0 = process.hrtime.bigint();
      await new FileDocStore(archiveDir).load(id);
      archiveLoads.push(ms(t0));
    }
    const tAll = process.hrtime.bigint();
    let archivedCalls = 0;
    const reader = new FileDocStore(archiveDir);
    for (const id of archived) {
      const d = await reader.load(id);
      if (d) archivedCalls += Object.keys(d.calls).length;
    }
    const archiveAllMs = ms(tAll);
    await archive.close();

    const opRows = [...s.ops.entries()].sort((a, b) => b[1].count - a[1].count).map(([name, st]) => [name, st.count, (st.totalMs / st.count) * 1000, (st.cpuMs / st.count) * 1000]);
    const totalOps = [...s.ops.values()].reduce((a, b) => a + b.count, 0);
    const totalOpMs = [...s.ops.values()].reduce((a, b) => a + b.totalMs, 0);
    const totalOpCpu = [...s.ops.values()].reduce((a, b) => a + b.cpuMs, 0);

    const main: BenchTable = {
      title: `Sector board after a simulated ${days}-day year (epoch = service day)`,
      columns: ['measure', 'value', 'unit', 'target'],
      rows: [
        ['live board size on disk (store files)', liveBytes / 1024, 'KiB', '< 1024'],
        ['live board Automerge.save()', saveBytes / 1024, 'KiB', ''],
        ['live board: calls / units / log entries', `${Object.keys(view.calls).length} / ${Object.keys(view.units).length} / ${Object.keys(s.precinct.callLog).length + Object.keys(s.precinct.unitLog).length}`, '', ''],
        ['live board: Automerge changes / ops / actors', `${amStats.numChanges} / ${amStats.numOps} / ${amStats.numActors}`, '', ''],
        ['warm load (FileDocStore.load), median of 15: wall', median(warmLoads), 'ms', '< 50'],
        ['warm load, median: CPU time (user + system)', median(warmLoadsCpu), 'ms', '< 50'],
        ['warm readBoard after load, median', median(warmViews), 'ms', ''],
        ['cold load in a fresh process, median of 3: wall', median(colds.map((c) => c.loadMs)), 'ms', ''],
        ['cold load: CPU time', median(colds.map((c) => c.loadCpuMs)), 'ms', ''],
        ['cold readBoard (first in process)', median(colds.map((c) => c.viewMs)), 'ms', ''],
        ['cold import of sync/ (wasm compile)', median(colds.map((c) => c.importMs)), 'ms', ''],
        ['vehicle daemon start to served screen, board loaded, median of 7: wall', median(starts.map((x) => x.wallMs)), 'ms', '< 1000'],
        ['  same: CPU time of the daemon by then, median', median(starts.map((x) => x.cpuMs)), 'ms', '< 1000'],
        ['  same: wall, slowest of 7', Math.max(...starts.map((x) => x.wallMs)), 'ms', ''],
        ['  floor: spawn to exit of an empty node process, median', median(nodeStarts), 'ms', ''],
        ['memory after cold load: RSS delta', median(colds.map((c) => c.rssDeltaMB)), 'MiB', ''],
        ['memory after cold load: JS heap delta', median(colds.map((c) => c.heapDeltaMB)), 'MiB', ''],
        ['operation in memory (validate + change), mean: wall', (totalOpMs / totalOps) * 1000, 'µs', ''],
        ['operation in memory, mean: CPU time', (totalOpCpu / totalOps) * 1000, 'µs', ''],
        ['durable operation (change + append + fsync), median of 200', median(durable), 'ms', ''],
        ['durable operation, p95', [...durable].sort((a, b) => a - b)[Math.floor(durable.length * 0.95)] ?? 0, 'ms', ''],
        ['changes simulated (all replicas)', s.changes, '', ''],
        ['largest epoch, changes', maxEpochChanges, '', ''],
        ['archive: closed epochs', archived.length, '', ''],
        ['archive: calls', archivedCalls, '', ''],
        ['archive size on disk', archiveBytes / 2 ** 20, 'MiB', ''],
        ['archive: load one epoch, median', median(archiveLoads), 'ms', ''],
        ['archive: load every epoch in turn', archiveAllMs, 'ms', ''],
        ['simulation wall time', simMs / 1000, 's', ''],
      ],
      notes: [
        `Node ${process.version}, Automerge wasm ${Automerge.releaseInfo().wasm?.cargoPackageVersion ?? '?'}; "cold" = fresh node process, wasm compiled and warmed on a tiny doc, gc twice, then the first load (as in notes/sync-stack.md).`,
        `Cars act on their own replicas (own actor ids, synced with the precinct as they act) for the last ${fullDays} days, the live day included; earlier days run car operations on the precinct replica to keep the simulation short (BENCH_FULL_REPLICA_DAYS to change).`,
        'Durable operations fsync on the bench machine\u2019s disk; a car\u2019s eMMC/SSD differs.',
        'Start to screen: `node dist/daemon/main.js vehicle` on a state directory holding the year-end live board and the year-old first epoch (a closed epoch the car still holds, opened at start), no broker reachable, simulated hardware; timed from spawn until /healthz names the live board and / renders the screen.',
        `Load average at the end of the run: ${loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${cpus().length} cores; when it exceeds the core count, wall times are inflated and the CPU-time rows are the comparable ones.`,
      ],
    };
    const ops: BenchTable = { title: 'Operation cost in memory by kind (validate + Automerge.change), whole simulated year', columns: ['operation', 'count', 'mean wall µs', 'mean CPU µs'], rows: opRows };
    return [main, ops];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--cold') {
  coldChild(process.argv[3] as string, process.argv[4] as string).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
