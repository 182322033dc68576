// Connect storm (issue 9): N cars CONNECT to the real `mdt precinct` child's embedded broker at
// once, in batches of 25 as the county bench does at shift change, and nothing else happens: the
// time to the last CONNACK and the station CPU it took measure what a CONNECT costs the station
// (credential check, broker session), not sync. Each N runs on a registry as `mdt provision`
// writes it today (HMAC of the issued tokens) and on one provisioned with scrypt hashes, twice:
// the first storm pays scrypt per car and moves each entry to HMAC, a second storm (everyone
// reconnecting, as after a station restart) shows the cost after that.
//
// Alone: `node dist/bench/run.js benchConnect`; CONNECT_N=50,200 picks the fleet sizes,
// CONNECT_REGISTRIES=hmac,scrypt the registries, CONNECT_RUNS the repetitions per cell (medians).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SAMPLE_DEPARTMENT } from '../daemon/config.js';
import { loadDepartment } from '../daemon/department.js';
import { newSecret } from '../sync/secret-hash.js';
import { killGroup, median, procSample, spawnCli, writePrecinctState, type CarEntry } from './county-procs.js';
import type { BenchTable } from './table.js';

const BATCH = 25;

interface StormFigures {
  wallS: number;
  stationCpuS: number;
}

async function storm(brokerUrl: string, cars: CarEntry[], secret: string, stationPid: number): Promise<StormFigures> {
  const clients: MqttClient[] = [];
  const cpu0 = procSample(stationPid)?.cpuS ?? NaN;
  const t0 = performance.now();
  try {
    for (let i = 0; i < cars.length; i += BATCH) {
      const batch = cars.slice(i, i + BATCH).map((c) =>
        mqtt.connectAsync(brokerUrl, { clientId: c.vehicleId, username: c.vehicleId, password: secret, reconnectPeriod: 0, connectTimeout: 120_000, protocolVersion: 4 }),
      );
      clients.push(...(await Promise.all(batch)));
    }
    const wallS = (performance.now() - t0) / 1000;
    return { wallS, stationCpuS: (procSample(stationPid)?.cpuS ?? NaN) - cpu0 };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }
}

async function runOnce(n: number, sectors: string[], legacyScrypt: boolean): Promise<[StormFigures, StormFigures]> {
  const dir = await mkdtemp(join(tmpdir(), `mdt-connect-${n}-`));
  const stateDir = join(dir, 'precinct');
  await mkdir(stateDir, { recursive: true });
  const cars: CarEntry[] = Array.from({ length: n }, (_, i) => ({ vehicleId: `C${i}`, unitId: `U${i}`, sector: sectors[i % sectors.length]! }));
  const secret = newSecret();
  await writePrecinctState(stateDir, 'N', cars, secret, { legacyScrypt });
  const cfgFile = join(dir, 'precinct.json');
  await writeFile(cfgFile, JSON.stringify({ precinct: { id: 'N', name: 'Connect bench station' }, sectors, mqtt: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 }, stateDir, log: { level: 'info' } }));
  const precinct = spawnCli(['precinct', '--config', cfgFile]);
  try {
    const ready = await precinct.waitForLog('precinct station ready', 60_000);
    const pid = precinct.child.pid!;
    const first = await storm(String(ready.brokerUrl), cars, secret, pid);
    const second = await storm(String(ready.brokerUrl), cars, secret, pid);
    return [first, second];
  } finally {
    await killGroup(precinct.child);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchConnect(): Promise<BenchTable> {
  const ns = (process.env.CONNECT_N ?? '50,200').split(',').map(Number).filter((x) => x > 0);
  const runs = Number(process.env.CONNECT_RUNS ?? 1);
  const registries = (process.env.CONNECT_REGISTRIES ?? 'hmac,scrypt').split(',').map((r) => {
    if (r !== 'hmac' && r !== 'scrypt') throw new Error(`CONNECT_REGISTRIES: expected hmac and/or scrypt, got ${JSON.stringify(r)}`);
    return r === 'scrypt';
  });
  const sectors = Object.keys((await loadDepartment(SAMPLE_DEPARTMENT)).sectors).sort();
  const rows: Array<Array<string | number>> = [];
  for (const n of ns) {
    for (const legacyScrypt of registries) {
      const results: Array<[StormFigures, StormFigures]> = [];
      for (let i = 0; i < runs; i++) results.push(await runOnce(n, sectors, legacyScrypt));
      const med = (pick: (r: [StormFigures, StormFigures]) => number) => median(results.map(pick));
      rows.push([
        n,
        legacyScrypt ? 'scrypt (provisioned earlier)' : 'HMAC (provisioned now)',
        med((r) => r[0].wallS),
        med((r) => r[0].stationCpuS),
        (1000 * med((r) => r[0].stationCpuS)) / n,
        med((r) => r[1].wallS),
        med((r) => r[1].stationCpuS),
      ]);
    }
  }
  return {
    title: 'Connect storm: N cars CONNECT to the real station (embedded aedes)',
    columns: ['N', 'registry', 'first storm s', 'station CPU s', 'CPU ms per car', 'second storm s', 'station CPU s (2nd)'],
    rows,
    notes: [
      `plain MQTT.js clients with their vehicle credentials, batches of ${BATCH} in flight, no subscriptions or traffic; ${runs} run(s) per cell${runs > 1 ? ' (medians)' : ''}`,
      'station CPU = utime+stime of the `mdt precinct` child from /proc across the storm (1.00 s = one core for a second); 2-core VM, loopback',
      'second storm = every car disconnects and connects again on the same station (after the first storm moved scrypt entries to HMAC)',
    ],
  };
}
