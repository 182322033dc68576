// A precinct's API over its real dispatch (manual clock, in-memory boards for the North precinct's
// sectors, the sample schedule) for the API tests; `signOn` brings units on duty as cars would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as board from '../../../sync/board.js';
import { SectorReplica } from '../../../sync/replica.js';
import { silentLogger, type Logger, type SectorId } from '../../../sync/schema.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { createPrecinctApi } from '../../../daemon/precinct-api.js';
import { OperatorRegistry } from '../../../daemon/operators.js';
import type { SectorState } from '../../../daemon/precinct.js';
import { packagePath } from '../../../daemon/paths.js';
import { ManualClock } from '../../../dispatch/clock.js';
import { MemoryDocStore } from '../../../dispatch/memory-store.js';
import { startPrecinctDispatch, type PrecinctDispatch } from '../../../dispatch/station.js';
import { at, car, sampleDepartment } from './fixtures.js';

export const T = Date.parse('2026-03-02T10:00:00-08:00');

export interface ApiFixture {
  app: ReturnType<typeof createPrecinctApi>;
  dispatch: PrecinctDispatch;
  clock: ManualClock;
  sectors: Map<string, SectorState>;
  /** Bearer tokens by role: dispatcher, watch_commander, care. */
  tokens: Record<string, string>;
  /** A JSON request with an optional bearer token. */
  req(method: string, path: string, token: string | undefined, body?: unknown): Response | Promise<Response>;
  signOn(sector: string, units: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startApiFixture(opts: { log?: Logger } = {}): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mdt-api-'));
  const department = await sampleDepartment();
  const operators = await OperatorRegistry.open(join(dir, 'operators.json'));
  const tokens: Record<string, string> = {};
  for (const role of ['dispatcher', 'watch_commander', 'care'] as const) tokens[role] = await operators.add(`op-${role}`, role);
  const store = new MemoryDocStore();
  const sectors = new Map<string, SectorState>();
  for (const s of department.precincts.N!.sectors) {
    const replica = await SectorReplica.open({ store, sector: s as SectorId, epoch: 'e1', actorId: `${s.charCodeAt(0).toString(16)}`.padEnd(32, '2') });
    sectors.set(s, { replica, presence: new Map(), breadcrumbs: new Map(), alerts: [] } as unknown as SectorState);
  }
  const clock = new ManualClock(T);
  const dispatch = await startPrecinctDispatch({
    precinct: 'N',
    department,
    sectors,
    config: { holdMinutes: 30, scheduleFile: packagePath('deploy', 'sample-department', 'schedule.json'), lateReportMinutes: 60 },
    log: silentLogger,
    clock,
    cron: false,
  });
  const app = createPrecinctApi({ precinct: { id: 'N', name: 'North Precinct' }, department, sectors, operators, registry: await VehicleRegistry.open(join(dir, 'v.json')), dispatch, log: opts.log ?? silentLogger });
  return {
    app,
    dispatch,
    clock,
    sectors,
    tokens,
    req: (method, path, token, body) =>
      app.request(path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    async signOn(sector, units) {
      for (const u of units) {
        clock.advance(10);
        await sectors.get(sector)!.replica.update((d) => board.signOn(d, { unitId: u, officers: [`Ofc. ${u}`] }, at(car(u), clock.now())));
      }
    },
    async close() {
      await dispatch.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
