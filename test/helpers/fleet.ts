// A precinct and cars on ephemeral loopback ports, built through the same composition roots the
// programs use, with simulated hardware. Each test owns a temp dir and stops what it started.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../daemon/log.js';
import { parseConfig, precinctConfigSchema, vehicleConfigSchema, SAMPLE_DEPARTMENT, type PrecinctConfig } from '../../daemon/config.js';
import { loadDepartment, type Department } from '../../daemon/department.js';
import { startPrecinct, type RunningPrecinct } from '../../daemon/precinct.js';
import { startVehicle, type RunningVehicle } from '../../daemon/vehicle.js';
import { createHardware } from '../../hardware/factory.js';
import { newSecret } from '../../sync/secret-hash.js';

let departmentCache: Promise<Department> | undefined;
export function sampleDepartment(): Promise<Department> {
  departmentCache ??= loadDepartment(SAMPLE_DEPARTMENT);
  return departmentCache;
}

export function testLogger(): Logger {
  return createLogger({ level: (process.env.MDT_TEST_LOG as 'debug' | undefined) ?? 'silent', pretty: false });
}

export type PrecinctDispatchConfig = Partial<PrecinctConfig['dispatch']>;

export interface Fleet {
  dir: string;
  department: Department;
  precincts: RunningPrecinct[];
  vehicles: RunningVehicle[];
  operatorToken(precinct: RunningPrecinct): Promise<string>;
  /** `dispatch` is the config's dispatch section (docs/dispatch.md); automatic dispatch needs its scheduleFile. */
  addPrecinct(opts: { id: string; sectors?: string[]; mqttPort?: number; dispatch?: PrecinctDispatchConfig }): Promise<RunningPrecinct>;
  /** `linkStartFallbackMs`: how long the car's link waits for a first screen (daemon/first-screen.ts). */
  addVehicle(opts: { precinct: RunningPrecinct; vehicleId: string; unit: string; beat: string; brokers?: string[]; password?: string; linkStartFallbackMs?: number }): Promise<RunningVehicle>;
  close(): Promise<void>;
}

export async function createFleet(): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-fleet-'));
  const department = await sampleDepartment();
  const log = testLogger();
  const tokens = new Map<RunningPrecinct, string>();
  const fleet: Fleet = {
    dir,
    department,
    precincts: [],
    vehicles: [],
    async operatorToken(p) {
      let t = tokens.get(p);
      if (!t) {
        t = await p.operators.add('test-dispatcher', 'dispatcher');
        tokens.set(p, t);
      }
      return t;
    },
    async addPrecinct({ id, sectors, mqttPort, dispatch }) {
      const config = parseConfig(
        precinctConfigSchema,
        {
          precinct: { id, name: `Precinct ${id}` },
          ...(sectors ? { sectors } : {}),
          mqtt: { host: '127.0.0.1', port: mqttPort ?? 0 },
          api: { host: '127.0.0.1', port: 0 },
          stateDir: join(dir, `precinct-${id}`),
          ...(dispatch ? { dispatch } : {}),
        },
        'test precinct',
      );
      const p = await startPrecinct({ config, department, log: log.child({ precinct: id }) });
      fleet.precincts.push(p);
      return p;
    },
    async addVehicle({ precinct, vehicleId, unit, beat, brokers, password, linkStartFallbackMs }) {
      const b = department.beats[beat];
      if (!b) throw new Error(`unknown beat ${beat}`);
      const secret = password ?? newSecret();
      if (!password) await precinct.registry.register(vehicleId, { unitId: unit, sector: b.sector, precinct: b.precinct }, secret);
      const config = parseConfig(
        vehicleConfigSchema,
        {
          vehicle: { id: vehicleId, unit, homeBeat: beat, sector: b.sector, precinct: b.precinct },
          brokers: (brokers ?? [precinct.brokerUrl]).map((url) => ({ url })),
          credentials: { password: secret },
          ui: { host: '127.0.0.1', port: 0 },
          stateDir: join(dir, vehicleId),
          hardware: { gps: { kind: 'sim', seed: vehicleId.length, intervalMs: 250 }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } },
        },
        'test vehicle',
      );
      const vlog = log.child({ vehicle: vehicleId });
      const hardware = createHardware(config.hardware, { log: vlog, beatPolygon: b.rings[0] });
      const v = await startVehicle({ config, password: secret, hardware, department, log: vlog, ...(linkStartFallbackMs !== undefined ? { linkStartFallbackMs } : {}) });
      fleet.vehicles.push(v);
      return v;
    },
    async close() {
      for (const v of fleet.vehicles.splice(0)) await v.stop().catch(() => undefined);
      for (const p of fleet.precincts.splice(0)) await p.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fleet;
}

/** POSTs a call to a precinct's CAD API; returns the response body. */
export async function postCall(
  precinct: RunningPrecinct,
  token: string,
  call: { type: string; priority: 1 | 2 | 3 | 4; address: string; beat: string; cadNumber?: string },
): Promise<{ id: string; sector: string }> {
  const res = await fetch(new URL('/api/v1/calls', precinct.apiUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(call),
  });
  if (res.status !== 201) throw new Error(`call refused: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; sector: string };
}
