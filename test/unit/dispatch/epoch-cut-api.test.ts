// "Cut this sector's board now" through the precinct API on real epochs (FileDocStore in a
// temporary directory): only a Watch Commander may cut; the cut closes the live epoch, carries the
// open call and not the cleared one, switches the board the API serves and announces the new
// epoch retained; a second cut the same day gets a new id. The archive check runs on its own
// configurable timer and archives a closed epoch once its grace is over.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { parseEpochAnnouncement } from '../../../sync/epoch-announce.js';
import { startEpochSchedule } from '../../../sync/epoch-schedule.js';
import { PeerSync } from '../../../sync/peer-sync.js';
import { PrecinctEpochs } from '../../../sync/precinct-epochs.js';
import { CapturingPublisher } from '../../helpers/capturing-publisher.js';
import { MemorySyncStateStore } from '../../../sync/sync-state-store.js';
import { silentLogger } from '../../../sync/schema.js';
import { topics } from '../../../sync/topics.js';
import { txt } from '../../../sync/ops/common.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { createPrecinctApi } from '../../../daemon/precinct-api.js';
import { OperatorRegistry } from '../../../daemon/operators.js';
import type { SectorState } from '../../../daemon/precinct.js';
import { startPrecinctDispatch, type PrecinctDispatch } from '../../../dispatch/station.js';
import { at, car, sampleDepartment } from './fixtures.js';

let dir: string;
let epochs: PrecinctEpochs;
let publisher: CapturingPublisher;
let dispatch: PrecinctDispatch;
let app: ReturnType<typeof createPrecinctApi>;
const tokens: Record<string, string> = {};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-epoch-cut-'));
  publisher = new CapturingPublisher();
  const syncStates = new MemorySyncStateStore();
  epochs = await PrecinctEpochs.open({
    sector: 'B',
    precinct: 'N',
    store: new FileDocStore(join(dir, 'boards')),
    archive: new FileDocStore(join(dir, 'archive')),
    publisher,
    makeSync: (replica) => new PeerSync({ replica, publisher, sector: 'B', selfPeer: 'precinct-N', log: silentLogger, stateStore: syncStates }) as PeerSync<unknown>,
    forgetSyncStates: (docId) => syncStates.forgetDoc(docId),
    initialEpoch: '1',
    keepClosedMs: 200,
    log: silentLogger,
  });
  const sectors = new Map<string, SectorState>([['B', { replica: epochs.live, sync: epochs.sync, epochs, presence: new Map(), breadcrumbs: new Map(), alerts: [] }]]);
  const department = await sampleDepartment();
  const operators = await OperatorRegistry.open(join(dir, 'operators.json'));
  for (const role of ['dispatcher', 'watch_commander'] as const) tokens[role] = await operators.add(`op-${role}`, role);
  dispatch = await startPrecinctDispatch({ precinct: 'N', department, sectors, config: { holdMinutes: 30, lateReportMinutes: 60 }, log: silentLogger, cron: false });
  app = createPrecinctApi({ precinct: { id: 'N', name: 'North' }, department, sectors, operators, registry: await VehicleRegistry.open(join(dir, 'v.json')), dispatch, log: silentLogger });
  // The day's work: one unit, one call still open, one cleared.
  const t = Date.now() - 60_000;
  await epochs.live.update((d) => board.upsertUnit(d, { id: 'NB11', callSign: 'NB11', homeBeat: 'B1', mode: 'car' }, at(car('NB11'), t)));
  for (const id of ['OPEN-1', 'DONE-1']) {
    await epochs.live.update((d) => board.createCall(d, { cadNumber: id, type: 'DIST', priority: 3, address: '1 Main St', beat: 'B1' }, at({ kind: 'operator', operatorId: 'd', role: 'dispatcher' }, t + 1)));
  }
  await epochs.live.update((d) => board.clearCall(d, { callId: 'DONE-1', disposition: 'RPT' }, at(car('NB11'), t + 2)));
});

afterEach(async () => {
  await dispatch.stop();
  await rm(dir, { recursive: true, force: true });
});

const cut = (token: string | undefined, sector = 'B', body: unknown = { reason: 'drill' }) =>
  app.request(`/api/v1/sectors/${sector}/epoch/cut`, {
    method: 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /api/v1/sectors/:sector/epoch/cut', () => {
  it('cuts now: closes the live epoch, carries open work, switches the served board and announces it', async () => {
    const res = await cut(tokens.watch_commander);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sector: string; from: string; to: string; carried: { calls: number; units: number } };
    const today = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    expect(body).toMatchObject({ sector: 'B', from: '1', to: today, carried: { calls: 1, units: 1 } });
    const served = (await (await app.request('/api/v1/sectors/B/board', { headers: { authorization: `Bearer ${tokens.dispatcher}` } })).json()) as { board: { epoch: string; calls: Record<string, unknown> } };
    expect(served.board.epoch).toBe(today);
    expect(Object.keys(served.board.calls)).toEqual(['OPEN-1']);
    expect(txt(epochs.epochReplica('B@1')?.doc.closed?.nextEpoch)).toBe(today);
    const ann = publisher.sent.filter((m) => m.topic === topics.epoch('B', 'N')).at(-1)!;
    expect(ann.retain).toBe(true);
    expect(parseEpochAnnouncement(ann.payload)).toMatchObject({ epoch: today, previous: '1' });
    // A second cut on the same service day gets its own id.
    const again = (await (await cut(tokens.watch_commander)).json()) as { from: string; to: string };
    expect(again).toMatchObject({ from: today, to: `${today}.2` });
  });

  it('refuses a dispatcher, an unknown sector and a cut without a reason', async () => {
    expect((await cut(tokens.dispatcher)).status).toBe(403);
    expect((await cut(undefined)).status).toBe(401);
    const unknown = await cut(tokens.watch_commander, 'ZZ');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ field: 'sector' });
    const noReason = await cut(tokens.watch_commander, 'B', {});
    expect(noReason.status).toBe(400);
    expect(await noReason.json()).toMatchObject({ field: 'reason' });
    expect(epochs.epoch).toBe('1');
  });
});

describe('archive check timer', () => {
  it('archives a closed epoch once its grace is over, at the configured interval', async () => {
    const schedule = startEpochSchedule({ sectors: [epochs], rolloverAt: '04:00', archiveEveryMs: 50, log: silentLogger });
    try {
      await epochs.rollover();
      expect(epochs.liveDocIds()).toContain('B@1');
      const archived = () => readdir(join(dir, 'archive')).then((f) => f.includes('B%401.snapshot'), () => false);
      const end = Date.now() + 5000;
      while (!(await archived()) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      expect(await archived()).toBe(true);
      expect(epochs.liveDocIds()).not.toContain('B@1');
    } finally {
      await schedule.stop();
    }
  });

  it('refuses an interval that is not a positive number of milliseconds', () => {
    expect(() => startEpochSchedule({ sectors: [], rolloverAt: '04:00', archiveEveryMs: 0, log: silentLogger })).toThrow(/archiveEveryMs/);
  });
});
