// Malformed input (issue 9): an authenticated car publishes garbage on every topic (its own and
// others', 1 in 50 messages of 5 MiB), bad bodies hit the precinct API and the car's screen API,
// and real gpsd is fed garbled NMEA by gpsfake as the car's GPS. The processes must stay up and
// serve, and their memory must not grow without bound: the attack runs in rounds, and growth is
// judged over the second half of the rounds, on RSS and on the V8 heap after a full GC (--trace-gc),
// so that V8 and malloc keeping freed pages after the first 5 MiB messages is not taken for a leak,
// and a leak that keeps growing round after round is not hidden by a lucky last sample.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, killGroup, sleep, type CarEntry } from '../bench/county-procs.js';
import type { BenchTable } from '../bench/table.js';
import type { Department } from '../daemon/department.js';
import { alive, MB, secondHalf, showGrowth, waitFor, type DrillResult } from './common.js';
import { GcTrace } from './gc-trace.js';
import { nodeMemory } from './proc-mem.js';
import { PRECINCT, Screen, startStation, startVehicle, writeVehicleConfig } from './station.js';

const MQTT_PER_ROUND = 250;
const HTTP_PER_ROUND = 50;

function garbledNmea(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    if (r < 0.3) lines.push(`$GPRMC,12${String(i % 60).padStart(2, '0')}00,A,4736.0,N,12220.0,W,0.0,0.0,271126,,,A*00`);
    else if (r < 0.6) lines.push(Buffer.from(Array.from({ length: 20 + Math.floor(Math.random() * 200) }, () => 32 + Math.floor(Math.random() * 95))).toString());
    else if (r < 0.8) lines.push(`$GPGGA,${'9'.repeat(Math.floor(Math.random() * 300))}*ZZ`);
    else lines.push('$GPGSV,3,1,12,,,,,,,,,,,,,,,,*7F');
  }
  return lines;
}

export async function drillMalformed(dept: Department, rounds: number): Promise<{ result: DrillResult; table: BenchTable }> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-drill-bad-'));
  const sector = 'B';
  const beat = dept.sectors[sector]!.beats[0]!;
  const car: CarEntry = { vehicleId: 'VBAD', unitId: 'UBAD', sector };
  const evil: CarEntry = { vehicleId: 'VEVIL', unitId: 'UEVIL', sector };
  const stationGc = new GcTrace();
  const vehicleGc = new GcTrace();
  const st = await startStation(dir, dept, [car, evil], { broker: 'aedes', gc: stationGc });
  // Real gpsd fed garbled NMEA by gpsfake, as the car's GPS.
  const nmea = join(dir, 'garbled.nmea');
  const lines = garbledNmea(400);
  await writeFile(nmea, lines.join('\r\n') + '\r\n');
  const gpsPort = await freePort();
  const gpsfake = spawn('gpsfake', ['-q', '-1', '-c', '0.02', '-P', String(gpsPort), '-l', nmea], { detached: true, stdio: 'ignore' });
  try {
    const cfg = await writeVehicleConfig(join(dir, 'car'), { car, beat, brokerUrl: st.brokerUrl, secret: st.secret, stateDir: join(dir, 'car', 'state'), uiPort: await freePort(), gps: { kind: 'gpsd', port: gpsPort } });
    const v = await startVehicle(cfg, vehicleGc);
    const screen = new Screen(v.url);
    await screen.signOn();
    const callId = await st.postCall(beat, 'DRILL-BAD');
    const pPid = st.precinct.child.pid;
    const vPid = v.child.child.pid;
    // MQTT: an authenticated car publishing garbage on every topic, its own and others'.
    const c = mqtt.connect(st.brokerUrl, { clientId: evil.vehicleId, username: evil.vehicleId, password: st.secret, protocolVersion: 4, reconnectPeriod: 500 });
    await new Promise<void>((r) => c.once('connect', () => r()));
    const topicsOf = [
      `mdt/v1/sync/${sector}/${evil.vehicleId}/precinct-${PRECINCT}`,
      `mdt/v1/sync/${sector}/${car.vehicleId}/precinct-${PRECINCT}`,
      `mdt/v1/sync/${sector}/${evil.vehicleId}/${car.vehicleId}`,
      `mdt/v1/avl/${sector}/${evil.unitId}`,
      `mdt/v1/presence/${sector}/${evil.unitId}`,
      `mdt/v1/alert/${sector}/${evil.unitId}`,
      `mdt/v1/roster/${sector}/${PRECINCT}`,
      `mdt/v1/avl/C/${evil.unitId}`,
      'mdt/v1/x/y',
      '$SYS/broker',
    ];
    const bad = ['', '{', 'null', '[]', '{"type":1}', JSON.stringify({ type: 'x', priority: 9, address: 'a', beat }), 'x'.repeat(3 * MB), JSON.stringify({ text: 'y'.repeat(10_000) })];
    let sentMqtt = 0;
    let http = 0;
    let http5xx = 0;
    const rows: Array<Array<string | number>> = [];
    const series = { station: [] as number[], stationHeap: [] as number[], stationWasm: [] as number[], stationOutside: [] as number[], vehicle: [] as number[], vehicleHeap: [] as number[], vehicleWasm: [] as number[], vehicleOutside: [] as number[] };
    const sample = (round: number | string) => {
      const p = nodeMemory(pPid, stationGc);
      const ve = nodeMemory(vPid, vehicleGc);
      rows.push([round, p.vmRss.toFixed(0), p.heap.toFixed(0), p.wasm.toFixed(0), p.outside.toFixed(0), stationGc.fullGcs, ve.vmRss.toFixed(0), ve.heap.toFixed(0), ve.wasm.toFixed(0), ve.outside.toFixed(0), vehicleGc.fullGcs, sentMqtt, http]);
      return { p, ve };
    };
    sample('before');
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < MQTT_PER_ROUND; i++) {
        const size = i % 50 === 0 ? 5 * MB : Math.floor(Math.random() * 2000);
        const payload = i % 3 === 0 ? Buffer.from(JSON.stringify({ v: 1, unit: evil.unitId, state: 'online', at: 'x'.repeat(size % 300) })) : Buffer.from(Array.from({ length: size % 4096 }, () => Math.floor(Math.random() * 256)));
        const big = size > MB ? Buffer.alloc(size, 7) : payload;
        c.publish(topicsOf[sentMqtt % topicsOf.length]!, big, { qos: (i % 2) as 0 | 1 });
        sentMqtt += 1;
        if (i % 50 === 0) await sleep(10);
      }
      // HTTP: bad bodies at the precinct API and the car's screen API.
      for (let i = 0; i < HTTP_PER_ROUND; i++) {
        const body = bad[(http / 2) % bad.length]!;
        const r1 = await fetch(new URL('/api/v1/calls', st.apiUrl), { method: 'POST', headers: { authorization: `Bearer ${st.token}`, 'content-type': 'application/json' }, body }).catch(() => undefined);
        const r2 = await screen.post(i % 2 ? '/api/status' : `/api/calls/${callId}/notes`, undefined, body).catch(() => undefined);
        for (const r of [r1, r2]) {
          http += 1;
          if (!r || r.status >= 500) http5xx += 1;
          await r?.arrayBuffer().catch(() => undefined);
        }
      }
      await sleep(1000); // what is queued for delivery drains before the sample
      const { p, ve } = sample(round);
      series.station.push(p.vmRss);
      series.stationHeap.push(p.heap);
      series.stationWasm.push(p.wasm);
      series.stationOutside.push(p.outside);
      series.vehicle.push(ve.vmRss);
      series.vehicleHeap.push(ve.heap);
      series.vehicleWasm.push(ve.wasm);
      series.vehicleOutside.push(ve.outside);
    }
    c.end(true);
    await sleep(3000);
    // Still serving: one good note goes through end to end.
    const okNote = await screen.post(`/api/calls/${callId}/notes`, { text: 'after-garbage' });
    const reached = await waitFor(async () => ((await st.board(sector)).calls[callId]?.notes ?? []).some((n) => n.text === 'after-garbage'), 20_000);
    sample('after');
    const up = alive(st.precinct.child) && alive(v.child.child);
    await killGroup(v.child.child, 'SIGTERM');
    // Both daemons are judged on what they keep alive, as the station in the soak
    // (docs/performance.md): RSS swings with the garbage room V8 gives a heap, so it is printed.
    const mem = {
      precinctHeap: secondHalf(series.stationHeap),
      precinctWasm: secondHalf(series.stationWasm),
      precinctOutside: secondHalf(series.stationOutside),
      vehicleHeap: secondHalf(series.vehicleHeap),
      vehicleWasm: secondHalf(series.vehicleWasm),
      vehicleOutside: secondHalf(series.vehicleOutside),
    };
    const bounded = Object.values(mem).every((x) => x.flat);
    return {
      result: {
        drill: `malformed input x${rounds} rounds: MQTT garbage, bad HTTP bodies, garbled NMEA into gpsd`,
        made: 1,
        acked: okNote.status === 200 ? 1 : 0,
        present: reached ? 1 : 0,
        ok: up && reached && http5xx === 0 && bounded,
        figures:
          `MQTT messages ${sentMqtt} (1 in 50 of 5 MiB); HTTP bad requests ${http}, 5xx/failed ${http5xx}; NMEA lines ${lines.length}; processes up: ${up}` +
          `; peak of the first half of the rounds → of the second half, MiB: precinct ${showGrowth('heap after GC', mem.precinctHeap)}, ${showGrowth('wasm resident', mem.precinctWasm)}, ${showGrowth('anonymous outside the V8 heaps', mem.precinctOutside)}; vehicle ${showGrowth('heap after GC', mem.vehicleHeap)}, ${showGrowth('wasm resident', mem.vehicleWasm)}, ${showGrowth('anonymous outside the V8 heap', mem.vehicleOutside)}; bounded: ${bounded}` +
          `; not judged: precinct ${showGrowth('RSS', secondHalf(series.station))}, vehicle ${showGrowth('RSS', secondHalf(series.vehicle))}`,
      },
      table: {
        title: `Malformed input: memory per round (${MQTT_PER_ROUND} MQTT messages and ${HTTP_PER_ROUND * 2} bad HTTP requests a round)`,
        columns: ['round', 'precinct RSS MiB', 'precinct heap MiB', 'precinct wasm MiB', 'precinct anon outside V8 heaps MiB', 'precinct full GCs', 'vehicle RSS MiB', 'vehicle heap MiB', 'vehicle wasm MiB', 'vehicle anon outside V8 heap MiB', 'vehicle full GCs', 'MQTT sent', 'HTTP sent'],
        rows,
        notes: [
          'heap = V8 heap used after the latest full GC (Mark-Compact, --trace-gc; the station\'s main thread and broker worker summed); full GCs = count since start; precinct wasm and anon outside V8 heaps from /proc/PID/smaps (drill/proc-mem.ts)',
          'pass: the peak of the second half of the rounds is at most 16 MiB or 10 % above the peak of the first half, for each daemon\'s heap after GC, wasm resident and anonymous memory outside its V8 heaps (a leak raises those peaks); RSS, a saw tooth between full GCs, is printed, not judged',
        ],
      },
    };
  } finally {
    await killGroup(gpsfake);
    await st.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
