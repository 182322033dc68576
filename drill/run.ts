// `npm run drill`: fault drills and a soak against the real built programs (issue 9). Each drill
// prints the changes made, acknowledged and present, and start/end figures; the run exits 1 when
// any drill loses an acknowledged change, fails to converge, or a process dies.
//
//   npm run drill                              every drill, default sizes (about 10 minutes)
//   npm run drill -- --quick                   smaller and shorter (about 4 minutes)
//   npm run drill -- --only kill,partition     a subset: stall, kill, broker, partition, disk, clock, malformed, soak
//   npm run drill -- --soak-minutes 10         the soak at N = 200 for 10 minutes (default 2; quick 1)
//   npm run drill -- --soak-day-minutes 2      real minutes per simulated service day (default 2; quick 0.5)
//   npm run drill -- --soak-calls 20           CAD calls per sector per simulated day (default 20; quick 5)
//   npm run drill -- --cut-seconds 120         how long the partition lasts (default 90; quick 20)
// First: it instantiates Automerge's wasm module itself, to read its memory (drill/mem-probe.ts).
import './mem-probe.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as A from '@automerge/automerge';
import { SAMPLE_DEPARTMENT } from '../daemon/config.js';
import { loadDepartment, type Department } from '../daemon/department.js';
import { LightCar } from '../bench/county-car.js';
import { freePort, killGroup, sleep, stopAll, type CarEntry } from '../bench/county-procs.js';
import { printTable, type BenchTable } from '../bench/table.js';
import { LinkProxy, Screen, startStation, startVehicle, writeVehicleConfig } from './station.js';
import { drillSoak } from './soak.js';
import { drillMalformed } from './malformed.js';
import { alive, fleet, heal, healed, lightFleet, log, presentEverywhere, rss, waitFor, type DrillResult } from './common.js';

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------

async function drillKill(dept: Department, rounds: number): Promise<DrillResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-kill-'));
  const sector = 'B';
  const beat = dept.sectors[sector]!.beats[0]!;
  const car: CarEntry = { vehicleId: 'VKILL', unitId: 'UKILL', sector };
  const st = await startStation(dir, dept, [car], { broker: 'aedes' });
  try {
    const callId = await st.postCall(beat, 'DRILL-KILL');
    const cfg = await writeVehicleConfig(join(dir, 'car'), { car, beat, brokerUrl: st.brokerUrl, secret: st.secret, stateDir: join(dir, 'car', 'state'), uiPort: await freePort() });
    let made = 0;
    const acked: string[] = [];
    let rssFirst = NaN;
    for (let r = 0; r < rounds; r++) {
      const v = await startVehicle(cfg);
      const screen = new Screen(v.url);
      await screen.signOn();
      if (r === 0) rssFirst = rss(v.child.child.pid);
      // Notes as fast as the officer's screen acknowledges them; SIGKILL at a random moment.
      const killAt = Date.now() + 300 + Math.random() * 2500;
      let i = 0;
      const writer = (async () => {
        for (;;) {
          const text = `kill-r${r}-${i++}`;
          made += 1;
          try {
            const res = await screen.post(`/api/calls/${callId}/notes`, { text });
            if (res.status === 200) acked.push(text);
          } catch {
            return; // the daemon died mid-request: not acknowledged
          }
        }
      })();
      while (Date.now() < killAt) await sleep(20);
      await killGroup(v.child.child, 'SIGKILL');
      await writer;
    }
    // One more start: every acknowledged note must be on the car's board and reach the precinct.
    const v = await startVehicle(cfg);
    const screen = new Screen(v.url);
    await screen.signOn();
    const onCar = new Set(((await screen.board())?.calls[callId]?.notes ?? []).map((n) => n.text));
    let atPrecinct = new Set<string>();
    await waitFor(async () => {
      atPrecinct = new Set(((await st.board(sector)).calls[callId]?.notes ?? []).map((n) => n.text));
      return acked.every((t) => atPrecinct.has(t));
    }, 30_000);
    const present = acked.filter((t) => onCar.has(t) && atPrecinct.has(t)).length;
    const rssEnd = rss(v.child.child.pid);
    await killGroup(v.child.child, 'SIGTERM');
    return {
      drill: `SIGKILL vehicle daemon x${rounds} during notes`,
      made,
      acked: acked.length,
      present,
      ok: present === acked.length,
      figures: `lost ${acked.length - present}; on car ${acked.filter((t) => onCar.has(t)).length}, at precinct ${acked.filter((t) => atPrecinct.has(t)).length}; vehicle RSS first/last ${rssFirst.toFixed(0)}/${rssEnd.toFixed(0)} MiB`,
    };
  } finally {
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function drillBroker(dept: Department, broker: 'aedes' | 'mosquitto', n: number, kills: number): Promise<DrillResult> {
  const dir = await mkdtemp(join(tmpdir(), `mdt-drill-broker-${broker}-`));
  const cars = fleet(dept, n);
  const st = await startStation(dir, dept, cars, { broker });
  const lc: LightCar[] = [];
  try {
    lc.push(...(await lightFleet(st, dept, cars)));
    const made: Array<{ hash: string; sector: string }> = [];
    let attempts = 0;
    let stop = false;
    const driver = (async () => {
      while (!stop) {
        const c = lc[Math.floor(Math.random() * lc.length)]!;
        attempts += 1;
        const r = await c.act().catch(() => undefined);
        if (r) made.push({ hash: r.hash, sector: c.opts.sector });
        await sleep(50);
      }
    })();
    const pid0 = broker === 'mosquitto' ? st.mosquitto!.child().pid : st.precinct.child.pid;
    const rss0 = rss(pid0);
    for (let k = 0; k < kills; k++) {
      await sleep(3000);
      log(`${broker}: SIGKILL broker (${k + 1}/${kills})`);
      if (broker === 'mosquitto') await st.mosquitto!.restart();
      else await st.restart();
    }
    await sleep(3000);
    stop = true;
    await driver;
    const online = await waitFor(() => lc.every((c) => c.transport.isOnline()), 60_000);
    let converged = await waitFor(() => presentEverywhere(lc, made) === made.length, 30_000);
    if (!converged) {
      await heal(lc);
      converged = await waitFor(() => presentEverywhere(lc, made) === made.length, 30_000);
    }
    const present = presentEverywhere(lc, made);
    const pid1 = broker === 'mosquitto' ? st.mosquitto!.child().pid : st.precinct.child.pid;
    return {
      drill: `kill -9 ${broker === 'aedes' ? 'station (embedded aedes)' : 'Mosquitto'} x${kills} under load, ${n} cars`,
      made: attempts,
      acked: made.length,
      present,
      ok: online && present === made.length,
      figures: `all cars back online: ${online}; present at every car of the sector: ${present}/${made.length}; broker RSS before/after ${rss0.toFixed(0)}/${rss(pid1).toFixed(0)} MiB`,
    };
  } finally {
    await Promise.all(lc.map((c) => c.stop()));
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function drillPartition(dept: Department, cutS: number): Promise<DrillResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-cut-'));
  const sector = 'B';
  const beat = dept.sectors[sector]!.beats[0]!;
  const car: CarEntry = { vehicleId: 'VCUT', unitId: 'UCUT', sector };
  const peers = fleet(dept, 3, 'P').map((c) => ({ ...c, sector }));
  const st = await startStation(dir, dept, [car, ...peers], { broker: 'aedes' });
  const proxy = new LinkProxy(Number(new URL(st.brokerUrl).port));
  const lc: LightCar[] = [];
  try {
    await proxy.start();
    lc.push(...(await lightFleet(st, dept, peers)));
    const cfg = await writeVehicleConfig(join(dir, 'car'), { car, beat, brokerUrl: `mqtt://127.0.0.1:${proxy.port}`, secret: st.secret, stateDir: join(dir, 'car', 'state'), uiPort: await freePort() });
    const v = await startVehicle(cfg);
    const screen = new Screen(v.url);
    await screen.signOn();
    const callId = await st.postCall(beat, 'DRILL-CUT');
    await waitFor(async () => Boolean((await screen.board())?.calls[callId]), 20_000);
    log(`partition: link cut for ${cutS} s`);
    proxy.cut();
    const acked: string[] = [];
    let made = 0;
    const calls: string[] = [];
    const peerMade: Array<{ hash: string; sector: string }> = [];
    const end = Date.now() + cutS * 1000;
    let k = 0;
    while (Date.now() < end) {
      made += 1;
      const text = `cut-${k}`;
      const res = await screen.post(`/api/calls/${callId}/notes`, { text });
      if (res.status === 200) acked.push(text);
      if (k % 5 === 0) calls.push(await st.postCall(beat, `DRILL-CUT-${k}`));
      const r = await lc[k % lc.length]!.act();
      if (r) peerMade.push({ hash: r.hash, sector });
      k += 1;
      await sleep(Math.max(200, (cutS * 1000) / 60));
    }
    proxy.restore();
    log('partition: link restored');
    const t0 = Date.now();
    let atPrecinct = new Set<string>();
    let carCalls: Record<string, unknown> = {};
    const converged = await waitFor(async () => {
      atPrecinct = new Set(((await st.board(sector)).calls[callId]?.notes ?? []).map((n) => n.text));
      carCalls = (await screen.board())?.calls ?? {};
      return acked.every((t) => atPrecinct.has(t)) && calls.every((c) => c in carCalls);
    }, 90_000);
    const ms = Date.now() - t0;
    const onCar = new Set(((await screen.board())?.calls[callId]?.notes ?? []).map((n) => n.text));
    const present = acked.filter((t) => atPrecinct.has(t) && onCar.has(t)).length;
    await killGroup(v.child.child, 'SIGTERM');
    return {
      drill: `car cut off ${cutS} s (blackholing proxy)`,
      made,
      acked: acked.length,
      present,
      ok: converged && present === acked.length,
      figures: `converged ${converged} in ${(ms / 1000).toFixed(1)} s after restore; precinct calls made meanwhile on the car: ${calls.filter((c) => c in carCalls).length}/${calls.length}; peers' changes meanwhile ${peerMade.length}`,
    };
  } finally {
    await Promise.all(lc.map((c) => c.stop()));
    await proxy.close();
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function drillDisk(dept: Department): Promise<DrillResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-disk-'));
  const mnt = join(dir, 'tiny');
  await mkdir(mnt);
  let mounted = false;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    mounted = true;
  } catch (err) {
    log(`disk: tmpfs mount not permitted (${(err as Error).message.split('\n')[0]}); drill skipped`);
    await rm(dir, { recursive: true, force: true });
    return { drill: 'car disk full (2 MiB tmpfs)', made: 0, acked: 0, present: 0, ok: true, figures: 'SKIPPED: mount -t tmpfs not permitted here' };
  }
  const sector = 'B';
  const beat = dept.sectors[sector]!.beats[0]!;
  const car: CarEntry = { vehicleId: 'VDISK', unitId: 'UDISK', sector };
  const st = await startStation(dir, dept, [car], { broker: 'aedes' });
  try {
    const callId = await st.postCall(beat, 'DRILL-DISK');
    const cfg = await writeVehicleConfig(join(dir, 'car'), { car, beat, brokerUrl: st.brokerUrl, secret: st.secret, stateDir: mnt, uiPort: await freePort() });
    const v = await startVehicle(cfg);
    const screen = new Screen(v.url);
    await screen.signOn();
    // Ballast leaves ~300 KiB free, so the board's log fills the disk within a few hundred notes.
    const ballast = join(mnt, 'ballast');
    const { statfs } = await import('node:fs/promises');
    const fs0 = await statfs(mnt);
    await writeFile(ballast, Buffer.alloc(Math.max(0, fs0.bavail * fs0.bsize - 300 * 1024)));
    const acked: string[] = [];
    /** Refused: not on the car's disk when answered, yet kept on its board and sent (sync/replica.ts). */
    const notSaved: string[] = [];
    let made = 0;
    let refused = 0;
    // Random text: repeated characters would compress to nothing in the board's snapshot.
    const text = (i: number) => `disk-${i} ${randomBytes(1100).toString('base64')}`;
    const fillEnd = Date.now() + 90_000;
    let slowest = 0;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2000 && refused < 20 && Date.now() < fillEnd; i++) {
      made += 1;
      const t0 = Date.now();
      const note = text(i);
      const res = await screen.post(`/api/calls/${callId}/notes`, { text: note }, undefined, 15_000).catch(() => undefined);
      slowest = Math.max(slowest, Date.now() - t0);
      statuses.set(res?.status ?? 0, (statuses.get(res?.status ?? 0) ?? 0) + 1);
      if (res?.status === 200) acked.push(note);
      else {
        refused += 1;
        notSaved.push(note);
      }
    }
    log(`disk: fill phase: ${made} notes, HTTP statuses ${JSON.stringify([...statuses])}, slowest ${slowest} ms, vehicle RSS ${rss(v.child.child.pid).toFixed(0)} MiB`);
    const upWhenFull = alive(v.child.child) && (await fetch(new URL('/healthz', v.url)).then((r) => r.status < 500).catch(() => false));
    // Space comes back: the car carries on without a restart.
    await rm(ballast);
    let after = 0;
    for (let i = 0; i < 10; i++) {
      made += 1;
      const t = `disk-after-${i}`;
      const res = await screen.post(`/api/calls/${callId}/notes`, { text: t });
      if (res.status === 200) {
        acked.push(t);
        after += 1;
      }
    }
    const sent = new Set(acked.map((t) => t.slice(0, 40)));
    let atPrecinct = new Set<string>();
    await waitFor(async () => {
      atPrecinct = new Set(((await st.board(sector)).calls[callId]?.notes ?? []).map((n) => n.text.slice(0, 40)));
      return [...sent].every((t) => atPrecinct.has(t));
    }, 60_000);
    const present = [...sent].filter((t) => atPrecinct.has(t)).length;
    const refusedThere = notSaved.filter((t) => atPrecinct.has(t.slice(0, 40))).length;
    const onCar = new Set(((await screen.board())?.calls[callId]?.notes ?? []).map((n) => n.text.slice(0, 40)));
    const msgs = (lines: Array<Record<string, unknown>>) => [...new Set(lines.map((l) => `${String(l.msg)}${l.reason ? ` [${String(l.reason)}]` : ''}${l.err ? ` (${JSON.stringify(l.err).slice(0, 120)})` : ''}`))].slice(0, 14).join('; ');
    const missing = [...sent].filter((t) => !atPrecinct.has(t)).map((t) => t.split(' ')[0]);
    log(`disk: on car ${[...sent].filter((t) => onCar.has(t)).length}/${sent.size}, at precinct ${present}${missing.length ? ` (missing there: ${missing.slice(0, 12).join(', ')})` : ''}; vehicle warnings: ${msgs(v.child.lines)}; precinct warnings: ${msgs(st.precinct.lines)}`);
    const up = alive(v.child.child);
    await killGroup(v.child.child, 'SIGTERM');
    return {
      drill: 'car disk full (2 MiB tmpfs)',
      made,
      acked: acked.length,
      present,
      ok: upWhenFull && up && present === acked.length && after > 0,
      figures: `statuses while filling ${JSON.stringify([...statuses])}, slowest answer ${slowest} ms; refused: ${refused} (at the precinct all the same: ${refusedThere}); daemon up while full: ${upWhenFull}; accepted after space freed: ${after}/10`,
    };
  } finally {
    await st.stop();
    if (mounted) await run('umount', ['-l', mnt]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function drillClock(dept: Department): Promise<DrillResult> {
  // The system clock is not jumped (that would move every process on this machine, other
  // engineers' test runs included). The board's operations take their time from the caller
  // (OpContext.at), which is the daemon's injectable path: cars here act with clocks jumped
  // +1 h, -1 h and -1 day while others keep true time, through the real station.
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-clock-'));
  const sector = 'B';
  const cars = fleet(dept, 4, 'K').map((c) => ({ ...c, sector }));
  const st = await startStation(dir, dept, cars, { broker: 'aedes' });
  const lc: LightCar[] = [];
  try {
    lc.push(...(await lightFleet(st, dept, cars)));
    const offsets = [0, 3_600_000, -3_600_000, -86_400_000];
    const made: Array<{ hash: string; sector: string }> = [];
    for (let k = 0; k < 80; k++) {
      const i = k % lc.length;
      const c = lc[i]!;
      const real = c.ctx.bind(c);
      c.ctx = () => ({ ...real(), at: Date.now() + offsets[i]! });
      const r = await c.act();
      if (r) made.push({ hash: r.hash, sector });
      await sleep(20);
    }
    let converged = await waitFor(() => presentEverywhere(lc, made) === made.length, 20_000);
    if (!converged) {
      await heal(lc);
      converged = await waitFor(() => presentEverywhere(lc, made) === made.length, 20_000);
    }
    // Same changes, same view everywhere: the precinct's and every car's unit statuses agree.
    const pb = await st.board(sector);
    const agree = lc.every((c) => lc.every((u) => c.replica.view().units[u.opts.unitId]?.status === pb.units[u.opts.unitId]?.status));
    return {
      drill: 'clocks jumped (+1 h, -1 h, -1 day) on 3 of 4 cars',
      made: 80,
      acked: made.length,
      present: presentEverywhere(lc, made),
      ok: converged && agree,
      figures: `converged ${converged}; unit statuses agree at precinct and every car: ${agree}`,
    };
  } finally {
    await Promise.all(lc.map((c) => c.stop()));
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Sign-on storm: N cars connect in batches and sign on at once (two changes each), as at a shift
 * change. Counts cars whose heads still differ from their sector's after 20 s, and whether a hello
 * (what a reconnect sends) heals them. Reproduces the sync stall of docs/performance.md.
 */
async function drillStall(dept: Department, n: number): Promise<DrillResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-stall-'));
  const cars = fleet(dept, n);
  const st = await startStation(dir, dept, cars, { broker: 'aedes' });
  const lc: LightCar[] = [];
  try {
    lc.push(...(await lightFleet(st, dept, cars)));
    const apart = () => {
      const out: LightCar[] = [];
      const bySector = new Map<string, LightCar[]>();
      for (const c of lc) bySector.set(c.opts.sector, [...(bySector.get(c.opts.sector) ?? []), c]);
      for (const cs of bySector.values()) {
        const heads = cs.map((x) => A.getHeads(x.replica.doc).sort().join());
        const counts = new Map<string, number>();
        for (const h of heads) counts.set(h, (counts.get(h) ?? 0) + 1);
        const top = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
        cs.forEach((c, i) => heads[i] !== top && out.push(c));
      }
      return out;
    };
    await waitFor(() => apart().length === 0, 20_000);
    const stalled = apart();
    const msgs0 = stalled.map((c) => c.sync.stats.sentMessages);
    await sleep(5000);
    const rate = stalled.map((c, i) => (c.sync.stats.sentMessages - msgs0[i]!) / 5);
    await heal(stalled);
    await waitFor(() => apart().length === 0, 20_000);
    const after = apart().length;
    return {
      drill: `sign-on storm, ${n} cars (sync stall check)`,
      made: n * 2,
      acked: n * 2,
      present: n * 2 - stalled.length,
      ok: stalled.length === 0,
      figures: `cars apart from their sector after 20 s: ${stalled.length} (${stalled.map((c) => c.opts.vehicleId).join(' ')}), sync messages/s while stalled ${rate.map((r) => r.toFixed(1)).join(' ')}; still apart after a hello: ${after}`,
    };
  } finally {
    await Promise.all(lc.map((c) => c.stop()));
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      'soak-minutes': { type: 'string' },
      'soak-day-minutes': { type: 'string' },
      'soak-calls': { type: 'string' },
      'cut-seconds': { type: 'string' },
      'soak-cars': { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const want = (d: string) => !only || only.has(d);
  const soakMinutes = Number(values['soak-minutes'] ?? (quick ? 1 : 2));
  const cutS = Number(values['cut-seconds'] ?? (quick ? 20 : 90));
  const soakCars = Number(values['soak-cars'] ?? 200);
  // Quick: shorter days with fewer calls a day, so that calls reach the station at the same rate.
  const soakDay = Number(values['soak-day-minutes'] ?? (quick ? 0.5 : 2));
  const soakCalls = Number(values['soak-calls'] ?? (quick ? 5 : 20));
  for (const [flag, n] of [['--soak-minutes', soakMinutes], ['--soak-cars', soakCars], ['--soak-day-minutes', soakDay], ['--soak-calls', soakCalls], ['--cut-seconds', cutS]] as const) {
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got ${String(n)}`);
  }
  const dept = await loadDepartment(SAMPLE_DEPARTMENT);
  const results: DrillResult[] = [];
  const tables: BenchTable[] = [];
  const started = Date.now();
  const attempt = async (name: string, fn: () => Promise<DrillResult>) => {
    log(`${name}: start`);
    try {
      healed.cars = 0;
      const r = await fn();
      if (healed.cars > 0 && name !== 'stall') r.figures += `; converged only after a hello to ${healed.cars} car(s) (sync stall)`;
      results.push(r);
    } catch (err) {
      results.push({ drill: name, made: 0, acked: 0, present: 0, ok: false, figures: `FAILED: ${(err as Error).message.slice(0, 300)}` });
    }
    log(`${name}: ${JSON.stringify(results[results.length - 1])}`);
    await stopAll();
  };
  try {
    if (want('stall')) await attempt('stall', () => drillStall(dept, 50));
    if (want('kill')) await attempt('kill', () => drillKill(dept, quick ? 3 : 6));
    if (want('broker')) {
      await attempt('broker', () => drillBroker(dept, 'mosquitto', quick ? 20 : 50, 2));
      await attempt('broker', () => drillBroker(dept, 'aedes', quick ? 20 : 50, 2));
    }
    if (want('partition')) await attempt('partition', () => drillPartition(dept, cutS));
    if (want('disk')) await attempt('disk', () => drillDisk(dept));
    if (want('clock')) await attempt('clock', () => drillClock(dept));
    if (want('malformed')) {
      await attempt('malformed', async () => {
        const m = await drillMalformed(dept, quick ? 6 : 12);
        tables.push(m.table);
        return m.result;
      });
    }
    if (want('soak')) {
      await attempt('soak', async () => {
        const s = await drillSoak(dept, { cars: soakCars, minutes: soakMinutes, dayMinutes: soakDay, callsPerSectorDay: soakCalls });
        tables.push(s.table);
        return s.result;
      });
    }
  } finally {
    await stopAll();
  }
  tables.unshift({
    title: `Drills (${((Date.now() - started) / 60_000).toFixed(1)} min)`,
    columns: ['drill', 'made', 'acknowledged', 'present', 'result', 'figures'],
    rows: results.map((r) => [r.drill, r.made, r.acked, r.present, r.ok ? 'PASS' : 'FAIL', r.figures]),
    notes: ['made = attempted changes; acknowledged = the car (or station) answered that the change is on disk; present = acknowledged changes found where they must be after recovery'],
  });
  for (const t of tables) printTable(t);
  const out = join(process.cwd(), '.bench');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'drill-latest.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, tables }, null, 2));
  void A;
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch(async (err: unknown) => {
  process.stderr.write(`drill failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopAll();
  process.exitCode = 1;
});
