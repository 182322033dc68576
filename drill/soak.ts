// The soak (issue 9): N lightweight cars and one real vehicle against the real station, as a
// compressed model of operation. A simulated service day lasts `dayMinutes` real minutes. Each
// sector receives `callsPerSectorDay` CAD calls a day; a dispatcher assigns each to a free unit of
// the sector through the station's API (automatic dispatch needs a schedule, which the drill's
// station has not); the unit's car accepts it and clears it after a service time counted in
// simulated minutes. At each simulated day's end the Watch Commander's "cut now" runs the
// station's real epoch cut on every sector, closed epochs are archived after one simulated day of
// quiet, and the cars follow the cut with their real epoch code (sync/car-epochs.ts), dropping a
// closed epoch once the precinct holds all of it. Officer actions (status toggles, notes) and AVL
// keep real-time rates. Memory and latency are judged over the second half of the run.
import * as A from '@automerge/automerge';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CarChange, LightCar } from '../bench/county-car.js';
import { freePort, killGroup, median, quantile, sleep, type CarEntry } from '../bench/county-procs.js';
import type { BenchTable } from '../bench/table.js';
import type { Department } from '../daemon/department.js';
import { docIdOf } from '../sync/board.js';
import { FileDocStore } from '../sync/doc-store.js';
import { alive, fleet, heal, lightFleet, log, MB, now, rss, secondHalf, showGrowth, waitFor, type DrillResult } from './common.js';
import { GcTrace } from './gc-trace.js';
import { liveHeapMiB, memProbe } from './mem-probe.js';
import { memComposition, nodeMemory } from './proc-mem.js';
import { writeHeapSnapshot } from 'node:v8';
import { Screen, startStation, startVehicle, writeVehicleConfig } from './station.js';

export interface SoakOptions {
  cars: number;
  minutes: number;
  /** Real minutes per simulated service day. */
  dayMinutes: number;
  /** CAD calls per sector per simulated day. */
  callsPerSectorDay: number;
}

const DAY_MIN = 24 * 60;
/** Fleet-wide officer actions per real second (status toggles; notes while on a call). */
const ACTS_PER_S = 5;
/** Simulated minutes from dispatch to the officer accepting, and on the call before clearing. */
const ACCEPT_SIM_MIN = 3;
const SERVICE_SIM_MIN = 45;
/** Simulated minutes a unit stays out of service (a meal) before the officer is available again. */
const BREAK_SIM_MIN = 30;
/** SOAK_HEAP_SNAPSHOTS=2,8: minutes at which the cars process writes a V8 heap snapshot to the temp dir (investigation only). */
const SNAP_AT = (process.env.SOAK_HEAP_SNAPSHOTS ?? '').split(',').filter(Boolean).map(Number);

interface Made extends CarChange {
  sector: string;
}

export async function drillSoak(dept: Department, o: SoakOptions): Promise<{ result: DrillResult; table: BenchTable }> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-soak-'));
  const cars = fleet(dept, o.cars);
  const sectors = Object.keys(dept.sectors).sort();
  const dayMs = o.dayMinutes * 60_000;
  const simMin = dayMs / DAY_MIN;
  const sector = 'B';
  const beat = dept.sectors[sector]!.beats[0]!;
  const realCar: CarEntry = { vehicleId: 'VSOAK', unitId: 'USOAK', sector };
  const stationGc = new GcTrace();
  const vehicleGc = new GcTrace();
  // The nightly grace (keepClosedHours: 24) is one simulated day; archiving is checked every 3 simulated hours.
  const st = await startStation(dir, dept, [...cars, realCar], { broker: 'aedes', gc: stationGc, epochs: { keepClosedHours: o.dayMinutes / 60, archiveCheckMinutes: o.dayMinutes / 8 } });
  const lc: LightCar[] = [];
  const timers: NodeJS.Timeout[] = [];
  const steps = new Set<NodeJS.Timeout>(); // officers' pending steps on their calls
  try {
    const lat: number[] = [];
    const avl: number[] = [];
    let crossed = 0;
    // Epoch order per sector, from the cuts' answers: a car on a later epoch than a change's has left it.
    const order = new Map(sectors.map((s) => [s, [docIdOf(s, '1')]]));
    const rank = (s: string, docId: string) => order.get(s)!.indexOf(docId);
    const pending = new Map<string, { t0: number; waiting: Set<LightCar>; docId: string }>();
    const bySector = new Map<string, LightCar[]>();
    const made: Made[] = [];
    let attempts = 0;
    const track = (c: LightCar, r: CarChange | undefined) => {
      if (!r) return;
      made.push({ ...r, sector: c.opts.sector });
      pending.set(r.hash, { t0: r.at, docId: r.docId, waiting: new Set((bySector.get(c.opts.sector) ?? []).filter((x) => x !== c)) });
    };
    // The officer's side of a call: accept after a few simulated minutes, clear after the service time.
    const responding = new Set<string>();
    /** An officer's step `simMinutes` simulated minutes from now. */
    const later = (c: LightCar, simMinutes: number, step: () => Promise<CarChange | undefined>, done?: () => void) => {
      const t = setTimeout(() => {
        steps.delete(t);
        done?.();
        attempts += 1;
        step().then((r) => track(c, r), () => undefined); // the call moved on meanwhile (cleared, cut)
      }, simMinutes * simMin);
      steps.add(t);
    };
    const respond = (c: LightCar) => {
      const a = c.assignment();
      if (!a) return;
      const key = `${c.opts.unitId}:${a.callId}:${a.status}`;
      if (responding.has(key)) return;
      const step = a.status === 'dispatched' ? () => c.accept(a.callId) : a.status === 'en_route' || a.status === 'on_scene' ? () => c.clear(a.callId) : undefined;
      if (!step) return;
      responding.add(key);
      later(c, a.status === 'dispatched' ? ACCEPT_SIM_MIN : SERVICE_SIM_MIN, step, () => responding.delete(key));
    };
    for (const c of await lightFleet(st, dept, cars)) {
      lc.push(c);
      bySector.set(c.opts.sector, [...(bySector.get(c.opts.sector) ?? []), c]);
      c.replica.on('change', () => {
        const t = now();
        for (const [h, p] of pending) {
          if (!p.waiting.has(c)) continue;
          if (c.replica.docId === p.docId) {
            if (!c.has(h)) continue;
            lat.push(t - p.t0);
          } else if (rank(c.opts.sector, c.replica.docId) > rank(c.opts.sector, p.docId)) {
            crossed += 1; // switched epochs before it arrived: the cut forwards it under another hash
          } else continue;
          p.waiting.delete(c);
          if (p.waiting.size === 0) pending.delete(h);
        }
        respond(c);
      });
    }
    // AVL latency is sampled on a few cars (all publish; 5 listen), to keep the bookkeeping flat.
    lc.slice(0, 5).forEach((c) =>
      c.transport.on('message', (topic, payload) => {
        if (!topic.includes('/avl/')) return;
        try {
          avl.push(now() - (JSON.parse(payload.toString()) as { at: number }).at);
        } catch {
          /* not a position */
        }
      }),
    );
    const cfg = await writeVehicleConfig(join(dir, 'car'), { car: realCar, beat, brokerUrl: st.brokerUrl, secret: st.secret, stateDir: join(dir, 'car', 'state'), uiPort: await freePort() });
    const v = await startVehicle(cfg, vehicleGc);
    const screen = new Screen(v.url);
    await screen.signOn();
    lc.forEach((c, i) => c.startAvl((i * 1000) / lc.length));

    timers.push(
      setInterval(() => {
        const c = lc[Math.floor(Math.random() * lc.length)]!;
        attempts += 1;
        void c.act().then(
          (r) => {
            track(c, r);
            // Out of service (a meal) lasts a simulated half hour, not the real minutes until this car's next turn.
            if (r && c.replica.view().units[c.opts.unitId]?.status === 'out_of_service') later(c, BREAK_SIM_MIN, () => c.act());
          },
          () => undefined,
        );
      }, 1000 / ACTS_PER_S),
    );
    // CAD: calls round-robin over the precinct's beats; the dispatcher works its queue each second.
    const beats = sectors.flatMap((s) => dept.sectors[s]!.beats);
    const beatSector = new Map(sectors.flatMap((s) => dept.sectors[s]!.beats.map((b) => [b, s] as const)));
    const queue: Array<{ id: string; sector: string }> = [];
    let calls = 0;
    let assigned = 0;
    timers.push(
      setInterval(() => {
        const b = beats[calls++ % beats.length]!;
        void st.postCall(b).then((id) => queue.push({ id, sector: beatSector.get(b)! }), () => undefined);
      }, dayMs / (o.callsPerSectorDay * sectors.length)),
    );
    let dispatching = false;
    timers.push(
      setInterval(() => {
        if (dispatching) return;
        dispatching = true;
        void (async () => {
          for (const call of queue.splice(0)) {
            const free = (bySector.get(call.sector) ?? []).filter((c) => {
              const u = c.replica.view().units[c.opts.unitId];
              return u?.status === 'available' && !u.callId;
            });
            const unit = free[Math.floor(Math.random() * free.length)];
            if (unit && (await st.assign(call.id, unit.opts.unitId).catch(() => false))) assigned += 1;
            else queue.push(call); // nobody free yet, or the unit moved on: next pass
          }
        })().finally(() => (dispatching = false));
      }, 1000),
    );
    // The day's end: the Watch Commander's cut, sector by sector.
    let cuts = 0;
    let cutFailures = 0;
    let cutting: Promise<void> = Promise.resolve();
    timers.push(
      setInterval(() => {
        cutting = (async () => {
          for (const s of sectors) {
            try {
              const cut = await st.cutEpoch(s, 'end of simulated service day');
              order.get(s)!.push(docIdOf(s, cut.to));
              cuts += 1;
            } catch (err) {
              cutFailures += 1;
              log(`soak: ${(err as Error).message}`);
            }
          }
        })();
      }, dayMs),
    );

    const rows: Array<Array<string | number>> = [];
    const series = { station: [] as number[], stationHeap: [] as number[], stationWasm: [] as number[], stationCommitted: [] as number[], stationNative: [] as number[], stationFile: [] as number[], vehicle: [] as number[], vehicleHeap: [] as number[], vehicleWasm: [] as number[], vehicleAnon: [] as number[], bench: [] as number[], benchHeapTotal: [] as number[], benchHeap: [] as number[], benchWasm: [] as number[], med: [] as number[] };
    const t0 = Date.now();
    for (let m = 1; m <= o.minutes; m++) {
      lat.length = 0;
      avl.length = 0;
      await sleep(Math.max(0, t0 + m * 60_000 - Date.now()));
      let stale = 0;
      for (const [h, p] of pending) {
        if (now() - p.t0 <= 60_000) continue;
        stale += 1; // stalled: counted in the column, then no longer waited for
        pending.delete(h);
      }
      const bCalls = Object.keys((await st.board(sector).catch(() => ({ calls: {} }))).calls).length;
      const held = lc.reduce((n, c) => n + 1 + c.epochs.pendingDocIds().length, 0);
      const p = nodeMemory(st.precinct.child.pid, stationGc);
      const ve = { ...memComposition(v.child.child.pid), rss: rss(v.child.child.pid), heap: vehicleGc.heapAfterGc() };
      const mem = process.memoryUsage();
      const probe = memProbe();
      const live = liveHeapMiB(); // after the figures above: a forced GC must not change them
      if (SNAP_AT.includes(m)) log(`soak: heap snapshot ${writeHeapSnapshot(join(tmpdir(), `soak-cars-${process.pid}-m${m}.heapsnapshot`))}`);
      series.station.push(p.vmRss);
      series.stationHeap.push(p.heap);
      series.stationWasm.push(p.wasm);
      series.stationCommitted.push(p.committed);
      series.stationNative.push(p.outside);
      series.stationFile.push(p.file);
      series.vehicle.push(ve.rss);
      series.vehicleHeap.push(ve.heap);
      series.vehicleWasm.push(ve.wasm);
      series.vehicleAnon.push(ve.anon);
      series.bench.push(mem.rss / MB);
      series.benchHeapTotal.push(mem.heapTotal / MB);
      series.benchHeap.push(live);
      series.benchWasm.push(probe.wasmMiB);
      series.med.push(median(lat));
      rows.push([
        m,
        ((m * 60_000) / dayMs).toFixed(1),
        cuts,
        p.vmRss.toFixed(0),
        p.heap.toFixed(0),
        p.committed.toFixed(0),
        p.wasm.toFixed(0),
        p.wasmSize.toFixed(0),
        p.anon.toFixed(0),
        p.outside.toFixed(0),
        p.file.toFixed(0),
        ve.rss.toFixed(0),
        ve.heap.toFixed(0),
        ve.wasm.toFixed(0),
        ve.anon.toFixed(0),
        ve.file.toFixed(0),
        (mem.rss / MB).toFixed(0),
        (mem.heapUsed / MB).toFixed(0),
        (mem.heapTotal / MB).toFixed(0),
        live.toFixed(0),
        probe.heapAfterGcMiB.toFixed(0),
        probe.heapBeforeGcMiB.toFixed(0),
        probe.fullGcs,
        (mem.external / MB).toFixed(0),
        (mem.arrayBuffers / MB).toFixed(0),
        probe.wasmMiB.toFixed(0),
        probe.docsLive,
        probe.syncLive,
        bCalls,
        held,
        lat.length,
        median(lat).toFixed(1),
        quantile(lat, 0.99).toFixed(1),
        median(avl).toFixed(1),
        quantile(avl, 0.99).toFixed(1),
        stale,
      ]);
      log(`soak minute ${m}/${o.minutes}: ${rows[rows.length - 1]!.join(' | ')}`);
    }
    for (const t of [...timers, ...steps]) clearTimeout(t);
    for (const c of lc) c.stopAvl();
    await cutting; // a day's cut still running decides which epochs are the last

    // Every change of the sectors' live epochs at every car of the sector; closed epochs left
    // behind by every car (the precinct holds all of them); then, station stopped, every
    // acknowledged change in the precinct's boards or archive.
    const finalDoc = (s: string) => order.get(s)!.at(-1)!;
    const live = made.filter((c) => c.docId === finalDoc(c.sector));
    const liveEverywhere = () => live.filter((c) => (bySector.get(c.sector) ?? []).every((x) => x.replica.docId === c.docId && x.has(c.hash))).length;
    const settled = () => liveEverywhere() === live.length && lc.every((c) => c.epochs.pendingDocIds().length === 0);
    let converged = await waitFor(settled, 60_000);
    if (!converged) {
      await heal(lc);
      converged = await waitFor(settled, 30_000);
    }
    const trailing = lc.flatMap((c) => c.epochs.pendingDocIds().map((d) => `${c.opts.vehicleId}:${d}`));
    if (trailing.length > 0) log(`soak: epochs still held besides the live one: ${trailing.slice(0, 20).join(' ')}`);
    const up = alive(st.precinct.child) && alive(v.child.child);
    for (const [name, p] of [['station', st.precinct], ['vehicle', v.child]] as const) {
      if (!alive(p.child)) log(`soak: the ${name} died (${p.child.exitCode ?? p.child.signalCode}); its stderr: ${p.stderr()}`);
    }
    await killGroup(v.child.child, 'SIGTERM');
    await Promise.all(lc.map((c) => c.stop()));
    await st.stop();
    const atPrecinct = await countAtPrecinct(st.stateDir, made);
    if (atPrecinct.missing.length > 0) log(`soak: not at the precinct (epoch: count): ${JSON.stringify(Object.fromEntries([...byDoc(atPrecinct.missing)].map(([d, ms]) => [d, ms.length])))}`);
    // Changes that resolved on an epoch the car had already dropped (bench/county-car.ts onDropped).
    const dropped = new Set(lc.flatMap((c) => c.onDropped.map((x) => x.hash)));
    const missingOnDropped = atPrecinct.missing.filter((m) => dropped.has(m.hash)).length;
    if (dropped.size > 0 || atPrecinct.missing.length > 0) log(`soak: changes written to an epoch the car had dropped: ${dropped.size}; of the changes not at the precinct, ${missingOnDropped} are among them`);

    const mem = {
      // The station is judged on what it keeps alive, each part against the same bound: the V8
      // heap after a full GC, Automerge's wasm memory resident (it never shrinks, so documents
      // kept alive raise it, and so does the allocator's high-water mark until it levels off) and
      // its anonymous memory outside the V8 heap (malloc arenas, Buffers, stacks: anonymous
      // memory less the heap V8 has committed). Its RSS is printed, not judged: most of its
      // growth is heap V8 commits for garbage between full GCs, paced by the allocation rate
      // (docs/performance.md, soak). The vehicle, with little traffic, is judged on RSS as before.
      stationHeap: secondHalf(series.stationHeap),
      stationWasm: secondHalf(series.stationWasm),
      stationNative: secondHalf(series.stationNative),
      vehicle: secondHalf(series.vehicle),
      vehicleHeap: secondHalf(series.vehicleHeap),
      // The cars' process (the harness, not a product process) is judged on what it keeps alive:
      // the V8 heap after a full GC forced at each sample and Automerge's wasm memory (which never shrinks, so a leak of
      // documents shows there). Its RSS is printed, not judged: it follows the heap V8 chooses to
      // let garbage fill between full GCs (heap total), not live data (docs/performance.md, soak).
      benchHeap: secondHalf(series.benchHeap),
      benchWasm: secondHalf(series.benchWasm),
    };
    const benchRss = secondHalf(series.bench);
    const benchHeapTotal = secondHalf(series.benchHeapTotal);
    const flat = Object.values(mem).every((x) => x.flat);
    const half = Math.floor(series.med.length / 2);
    const medFirst = median(series.med.slice(1, half)); // minute 1 is the warm-up
    const medSecond = median(series.med.slice(half));
    const perSectorDay = (n: number) => (n / sectors.length / ((o.minutes * 60_000) / dayMs)).toFixed(0);
    return {
      result: {
        drill: `soak ${o.minutes} min (${((o.minutes * 60_000) / dayMs).toFixed(1)} simulated days), ${o.cars} cars + 1 real vehicle`,
        made: attempts,
        acked: made.length,
        present: atPrecinct.present,
        ok: up && converged && atPrecinct.present === made.length && liveEverywhere() === live.length && cutFailures === 0 && flat,
        figures:
          `peak of the first half → of the second half, MiB: ${showGrowth('precinct heap after GC', mem.stationHeap)}, ${showGrowth('wasm resident', mem.stationWasm)}, ${showGrowth('anonymous outside the V8 heap', mem.stationNative)}; ${showGrowth('vehicle RSS', mem.vehicle)}, ${showGrowth('heap after GC', mem.vehicleHeap)}; ${showGrowth('cars process live heap', mem.benchHeap)}, ${showGrowth('wasm memory', mem.benchWasm)}; flat: ${flat}` +
          `; not judged: ${showGrowth('precinct RSS', secondHalf(series.station))}, ${showGrowth('its V8 heap committed', secondHalf(series.stationCommitted))}, ${showGrowth('file-backed', secondHalf(series.stationFile))}; ${showGrowth('vehicle wasm', secondHalf(series.vehicleWasm))}, ${showGrowth('other anonymous', secondHalf(series.vehicleAnon))}; ${showGrowth('cars process RSS', benchRss)}, ${showGrowth('its V8 heap total', benchHeapTotal)}` +
          `; change median, minute-medians: first half ${medFirst.toFixed(1)} ms, second half ${medSecond.toFixed(1)} ms` +
          `; epoch cuts ${cuts} (failed ${cutFailures}); CAD calls ${calls} (${perSectorDay(calls)} per sector per simulated day), assigned ${assigned}; changes across a cut (left out of latency) ${crossed}` +
          `; at the precinct ${atPrecinct.present}/${made.length}, live epochs' changes at every car of the sector ${liveEverywhere()}/${live.length}, trailing epochs still held by cars ${trailing.length}, changes written to an epoch the car had dropped ${dropped.size} (of them not at the precinct ${missingOnDropped}), processes up ${up}`,
      },
      table: {
        title: `Soak: ${o.cars} lightweight cars + 1 real vehicle, ${o.minutes} min, a simulated day every ${o.dayMinutes} min (per minute)`,
        columns: ['minute', 'sim day', 'cuts', 'precinct RSS MiB', 'precinct heap MiB', 'precinct V8 heap committed MiB', 'precinct wasm resident MiB', 'precinct wasm size MiB', 'precinct other anon MiB', 'precinct anon outside V8 heap MiB', 'precinct file MiB', 'vehicle RSS MiB', 'vehicle heap MiB', 'vehicle wasm MiB', 'vehicle other anon MiB', 'vehicle file MiB', 'cars proc RSS MiB', 'cars proc heap MiB', 'cars proc heap total MiB', 'cars proc live heap MiB', 'cars proc heap after GC MiB', 'cars proc most heap before a full GC MiB', 'cars proc full GCs', 'cars proc external MiB', 'cars proc arrayBuffers MiB', 'cars proc wasm MiB', 'Automerge docs alive', 'sync states alive', `calls on ${sector} board`, 'docs held by cars', 'changes delivered', 'change med ms', 'change p99 ms', 'AVL med ms', 'AVL p99 ms', 'pending > 60 s'],
        rows,
        notes: [
          `modelled rate: 1 simulated service day = ${o.dayMinutes} real min (x${(DAY_MIN / o.dayMinutes).toFixed(0)}); ${o.callsPerSectorDay} CAD calls per sector per simulated day (${sectors.length} sectors: one call every ${(dayMs / (o.callsPerSectorDay * sectors.length) / 1000).toFixed(2)} s real); ` +
            `each call assigned by hand via the API to a free unit of its sector, accepted after ${ACCEPT_SIM_MIN} and cleared after ${SERVICE_SIM_MIN} simulated minutes (${((ACCEPT_SIM_MIN * simMin) / 1000).toFixed(2)} s, ${((SERVICE_SIM_MIN * simMin) / 1000).toFixed(2)} s real)`,
          `not compressed: officer actions ${ACTS_PER_S}/s fleet-wide (out of service for a ${BREAK_SIM_MIN}-simulated-minute meal, or a note while on a call: ${perSectorDay(attempts)} car changes per sector per simulated day counting returns, accepts and clears), 1 Hz AVL per car`,
          `the daily cut at each simulated day's end through the Watch Commander's POST /api/v1/sectors/:sector/epoch/cut (the nightly cron's rollover); keepClosedHours = 1 simulated day, archive check every 3 simulated hours; cars follow with sync/car-epochs.ts and drop a closed epoch once the precinct holds all of it`,
          'heap = V8 heap used after the latest full GC (--trace-gc Mark-Compact); V8 heap committed = after the latest collection of any kind (--trace-gc); cars proc heap = heapUsed without forcing GC; latency car→precinct→every other car of the sector on the same epoch',
          'precinct and vehicle composition, from /proc/PID/smaps (drill/proc-mem.ts): wasm resident = resident pages of the WebAssembly memory (Automerge), wasm size = what that memory has grown to; other anon = every other anonymous page (V8 heap, malloc arenas, Buffers, stacks); anon outside V8 heap = other anon less the V8 heap committed; file = file-backed pages (node and its libraries). ' +
            'The precinct is judged on heap after GC, wasm resident and anon outside V8 heap (peak of the second half within 16 MiB or 10 % of the first); its RSS is printed, not judged. The vehicle is judged on RSS and heap after GC',
          'cars process (the harness): live heap = V8 heap used after a full GC forced at the sample (the sample falls at the same point of the simulated day every time: its end, or half way); heap after GC = after the latest full GC of the minute, most heap before a full GC and full GCs = in that minute (v8.GCProfiler; the forced GC of the previous sample included); wasm = Automerge wasm linear memory (never shrinks); docs and sync states alive = Automerge handles neither freed nor yet finalized. ' +
            'It is judged on live heap and wasm memory; its RSS is printed, not judged: V8 lets garbage fill a heap (heap total) several times the live heap between full GCs, and sizes it from the allocation rate, so the RSS of a process allocating as fast as 200 cars do rises for many minutes with no live data added',
        ],
      },
    };
  } finally {
    for (const t of [...timers, ...steps]) clearTimeout(t);
    await Promise.all(lc.map((c) => c.stop()));
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function byDoc(made: Made[]): Map<string, Made[]> {
  const out = new Map<string, Made[]>();
  for (const m of made) out.set(m.docId, [...(out.get(m.docId) ?? []), m]);
  return out;
}

/** Acknowledged changes the stopped station holds, each in the epoch document it was made in. */
async function countAtPrecinct(stateDir: string, made: Made[]): Promise<{ present: number; missing: Made[] }> {
  const stores = [new FileDocStore(join(stateDir, 'boards')), new FileDocStore(join(stateDir, 'archive'))];
  const missing: Made[] = [];
  for (const [docId, ms] of byDoc(made)) {
    // A closed epoch reopened for a late car is in both; their merge is what the station holds.
    const docs = (await Promise.all(stores.map((s) => s.load(docId)))).filter((d) => d !== undefined);
    const doc = docs.length > 0 ? docs.reduce((a, b) => A.merge(a, b)) : undefined;
    for (const m of ms) {
      let held = false;
      try {
        held = doc !== undefined && A.hasHeads(doc, [m.hash]);
      } catch {
        held = false;
      }
      if (!held) missing.push(m);
    }
  }
  return { present: made.length - missing.length, missing };
}
