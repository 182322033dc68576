// `mdt demo`: one precinct station (embedded aedes) and three simulated cars on this machine,
// on the sample department's real beats; real calls for service from the sample data are posted
// to the precinct's API. Prints every URL; Ctrl-C stops everything in order.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from './log.js';
import { parseConfig, precinctConfigSchema, vehicleConfigSchema, SAMPLE_DEPARTMENT } from './config.js';
import { loadDepartment, type Department } from './department.js';
import { startPrecinct, type RunningPrecinct } from './precinct.js';
import { startVehicle, type RunningVehicle } from './vehicle.js';
import { stopOnSignal, installCrashHandlers } from './lifecycle.js';
import { departmentPriority, loadRecordedCalls } from './sample-calls.js';
import { newSecret } from '../sync/secret-hash.js';
import { createHardware } from '../hardware/factory.js';
import { hashPin } from '../sync/roster.js';
import * as board from '../sync/board.js';
import { SAMPLE_BEATS, sampleNotices, sampleReport } from '../ui/demo-data.js';
import { loadSchedule, scheduledBeatOfficers } from '../dispatch/schedule.js';
import { packagePath } from './paths.js';

/** The sample yearly schedule of sector B (2026): it names the beat officers the policy dispatches to. */
export const SAMPLE_SCHEDULE = packagePath('deploy', 'sample-department', 'schedule.json');

export interface DemoOptions {
  stateDir?: string;
  basePort: number;
  replayCalls: boolean;
  /** Seconds between replayed calls. */
  callEverySeconds?: number;
  log?: Logger;
}

export interface RunningDemo {
  precinct: RunningPrecinct;
  vehicles: RunningVehicle[];
  operatorToken: string;
  /** Opens the whole console: overrides and CARE report entry. */
  watchCommanderToken: string;
  stop(): Promise<void>;
}

const PRECINCT = 'N';
const SECTOR = 'B';

/** Officers of the demo roster: one per car, same demo PIN (printed at start; demo only). */
export const DEMO_PIN = '1234';
export const DEMO_OFFICERS = [
  { badge: '1001', name: 'Ofc. Dana Reyes', role: 'officer' as const },
  { badge: '1002', name: 'Ofc. Sam Okafor', role: 'officer' as const },
  { badge: '1003', name: 'Ofc. Kim Nguyen', role: 'officer' as const },
  { badge: '2001', name: 'Sgt. Lee Park', role: 'supervisor' as const },
];

/** The preferred port if it is free, else one the OS picks (a second demo must still start). */
async function portOr0(preferred: number): Promise<number> {
  if (preferred === 0) return 0;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

export async function startDemo(opts: DemoOptions, department?: Department): Promise<RunningDemo> {
  const log = opts.log ?? createLogger();
  const dept = department ?? (await loadDepartment(SAMPLE_DEPARTMENT));
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'mdt-demo-')));
  await mkdir(stateDir, { recursive: true });
  const sector = dept.sectors[SECTOR];
  if (!sector) throw new Error(`sample department has no sector ${SECTOR}`);

  const precinctConfig = parseConfig(
    precinctConfigSchema,
    {
      precinct: { id: PRECINCT, name: dept.precincts[PRECINCT]?.name ?? 'North Precinct' },
      mqtt: { host: '127.0.0.1', port: 0 },
      api: { host: '127.0.0.1', port: await portOr0(opts.basePort) },
      stateDir: join(stateDir, 'precinct'),
      dispatch: { scheduleFile: SAMPLE_SCHEDULE },
    },
    'demo precinct',
  );
  // The demo roster, in the precinct's state dir where a real station keeps its roster file.
  await mkdir(precinctConfig.stateDir, { recursive: true });
  const pinHash = await hashPin(DEMO_PIN);
  await writeFile(join(precinctConfig.stateDir, 'roster.json'), JSON.stringify({ v: 1, officers: DEMO_OFFICERS.map((o) => ({ ...o, pinHash })) }, null, 2), { mode: 0o600 });
  const precinct = await startPrecinct({ config: precinctConfig, department: dept, log: log.child({ program: 'precinct' }) });
  // Beat profiles, plans, a CARE report and watch meetings on the sector board, so every screen has content.
  const sectorBoard = precinct.sectors.get(SECTOR)?.replica;
  if (sectorBoard && Object.keys(sectorBoard.view().beats).length === 0) {
    const care = { by: { kind: 'operator' as const, operatorId: 'demo-care', role: 'care' as const }, at: Date.now() };
    for (const b of SAMPLE_BEATS) if (dept.beats[String(b.id)]?.sector === SECTOR) await sectorBoard.update((d) => board.upsertBeat(d, b, care));
    // The report goes to the first beat's officer of the watch on duty (the first car below).
    const first = sector.beats[0]!;
    const officer = scheduledBeatOfficers((await loadSchedule(SAMPLE_SCHEDULE, dept)).schedule, first, Date.now())[0] ?? `${PRECINCT}${first}1`;
    await sectorBoard.update((d) => board.deliverReport(d, sampleReport(officer, first, Date.now()), care));
    for (const n of sampleNotices(sector.beats, Date.now())) await sectorBoard.update((d) => board.postNotice(d, n, care));
  }
  const operatorToken = await precinct.operators.add('demo-dispatcher', 'dispatcher');
  const watchCommanderToken = await precinct.operators.add('demo-watch-commander', 'watch_commander');
  // The cars are the beat officers of the watch on duty now, so the policy dispatches to them.
  const { schedule } = await loadSchedule(SAMPLE_SCHEDULE, dept);

  const vehicles: RunningVehicle[] = [];
  const beats = sector.beats.slice(0, 3);
  for (const [i, beatId] of beats.entries()) {
    const beat = dept.beats[beatId]!;
    const vehicleId = `V${1001 + i}`;
    const unit = scheduledBeatOfficers(schedule, beatId, Date.now())[0] ?? `${PRECINCT}${beatId}1`;
    const password = newSecret();
    await precinct.registry.register(vehicleId, { unitId: unit, sector: SECTOR, precinct: PRECINCT }, password);
    const config = parseConfig(
      vehicleConfigSchema,
      {
        vehicle: { id: vehicleId, unit, callSign: `${beatId}-${i + 1}`, homeBeat: beatId, sector: SECTOR, precinct: PRECINCT },
        brokers: [{ url: precinct.brokerUrl, precinct: PRECINCT }],
        credentials: { password },
        ui: { host: '127.0.0.1', port: await portOr0(opts.basePort === 0 ? 0 : opts.basePort + 1 + i) },
        stateDir: join(stateDir, vehicleId),
        hardware: { gps: { kind: 'sim', seed: 11 + i }, modem: { kind: 'sim', seed: 21 + i }, inputs: { kind: 'sim' } },
      },
      `demo vehicle ${vehicleId}`,
    );
    const vlog = log.child({ program: 'vehicle', vehicle: vehicleId });
    const hardware = createHardware(config.hardware, { log: vlog.child({ component: 'hardware' }), beatPolygon: beat.rings[0] });
    vehicles.push(await startVehicle({ config, password, hardware, department: dept, log: vlog }));
  }

  let replay: NodeJS.Timeout | undefined;
  if (opts.replayCalls) {
    const recorded = (await loadRecordedCalls(dept)).filter((c) => c.sector === SECTOR);
    let next = 0;
    const post = async () => {
      const call = recorded[next++ % recorded.length];
      if (!call) return;
      const res = await fetch(new URL('/api/v1/calls', precinct.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          cadNumber: `${call.cadId}-${next}`,
          type: `Call for service (SPD priority ${call.spdPriority})`,
          priority: departmentPriority(call.spdPriority),
          address: call.neighborhood || `${call.lat.toFixed(5)}, ${call.lon.toFixed(5)}`,
          beat: call.beat,
          lat: call.lat,
          lon: call.lon,
        }),
      }).catch((err: unknown) => log.warn({ err }, 'demo call replay failed'));
      if (res && !res.ok) log.warn({ status: res.status, body: await res.text() }, 'demo call refused');
    };
    const every = (opts.callEverySeconds ?? 40) * 1000;
    setTimeout(() => void post(), 3000).unref();
    replay = setInterval(() => void post(), every);
    replay.unref();
  }

  return {
    precinct,
    vehicles,
    operatorToken,
    watchCommanderToken,
    async stop() {
      if (replay) clearInterval(replay);
      for (const v of vehicles) await v.stop();
      await precinct.stop();
    },
  };
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const log = createLogger();
  installCrashHandlers(log);
  const demo = await startDemo({ ...opts, log });
  const lines = [
    '',
    'MDT demo is running: one precinct, three cars in sector B (North Precinct), on the sample department.',
    '',
    `  Precinct console : ${demo.precinct.apiUrl}   (sign in with the dispatcher token below)`,
    ...demo.vehicles.map((v) => `  Car ${v.screen.identity.callSign.padEnd(6)}       : ${v.url}`),
    `  Precinct broker  : ${demo.precinct.brokerUrl}`,
    '',
    `  Dispatcher token : ${demo.operatorToken}`,
    `  Watch Commander  : ${demo.watchCommanderToken}   (console overrides and CARE report entry)`,
    `  Dispatch policy  : beat officers from ${SAMPLE_SCHEDULE} (watch on duty now); non-emergency calls wait up to 30 min for them`,
    `  Sign on to a car : badge ${DEMO_OFFICERS.slice(0, 3).map((o) => o.badge).join(', ')} (one per car), PIN ${DEMO_PIN} (demo roster only)`,
    '',
    '  Post a call (it appears on the cars\' screens at once):',
    `    curl -s -X POST ${new URL('/api/v1/calls', demo.precinct.apiUrl).href} \\`,
    `      -H 'authorization: Bearer ${demo.operatorToken}' -H 'content-type: application/json' \\`,
    `      -d '{"type":"Burglary in progress","priority":2,"address":"1200 NW Market St","beat":"B1"}'`,
    '',
    opts.replayCalls ? '  Real Seattle PD calls for sector B are replayed every 40 s.' : '',
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await stopOnSignal(() => demo.stop(), log);
}
