// The dispatcher on live replicas in simulated time: the issue's edges (beat officer back at
// 29:59, two held calls for one beat, sign-off at a shift change while a call is held, an
// emergency while the whole sector is busy) and a precinct restart with a hold on disk.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { FileDocStore, type DocStore } from '../../../sync/doc-store.js';
import { SectorReplica } from '../../../sync/replica.js';
import { silentLogger, type Actor, type CallView, type SectorId } from '../../../sync/schema.js';
import type { Department } from '../../../daemon/department.js';
import { Dispatcher, type DecisionRecord } from '../../../dispatch/dispatcher.js';
import { ManualClock } from '../../../dispatch/clock.js';
import { MemoryDocStore } from '../../../dispatch/memory-store.js';
import { validateSchedule, type Schedule } from '../../../dispatch/schedule.js';
import { at, car, HOLD, MIN, operator, sampleDepartment, T0 } from './fixtures.js';

let dept: Department;
beforeAll(async () => {
  dept = await sampleDepartment();
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Station {
  clock: ManualClock;
  replicas: Map<string, SectorReplica>;
  dispatcher: Dispatcher;
  decisions: DecisionRecord[];
  act(sector: string, fn: (d: board.SectorBoard, t: number) => board.SectorBoard): Promise<void>;
  call(sector: string, id: string): CallView;
  settle(): Promise<void>;
}

async function station(opts: { sectors?: string[]; schedule?: Schedule; store?: DocStore; now?: number; start?: boolean } = {}): Promise<Station> {
  const clock = new ManualClock(opts.now ?? T0);
  const store = opts.store ?? new MemoryDocStore();
  const replicas = new Map<string, SectorReplica>();
  for (const s of opts.sectors ?? ['B', 'J']) replicas.set(s, await SectorReplica.open({ store, sector: s as SectorId, epoch: 'e1', actorId: `${s.charCodeAt(0).toString(16)}`.padEnd(32, '1') }));
  const dispatcher = new Dispatcher({
    precinct: 'N',
    department: dept,
    sectors: new Map([...replicas].map(([s, replica]) => [s, { replica, positions: () => ({}) }])),
    clock,
    holdMs: HOLD,
    ...(opts.schedule ? { schedule: opts.schedule } : {}),
    log: silentLogger,
  });
  const decisions: DecisionRecord[] = [];
  dispatcher.on('decision', (r) => decisions.push(r));
  if (opts.start !== false) await dispatcher.start();
  const settle = async () => {
    await dispatcher.evaluate();
  };
  return {
    clock,
    replicas,
    dispatcher,
    decisions,
    async act(sector, fn) {
      // Each action a little after the last (and after the policy's answer to it), as on a real board.
      clock.advance(10);
      await replicas.get(sector)!.update((d) => fn(d, clock.now()));
      await settle();
    },
    call: (sector, id) => replicas.get(sector)!.view().calls[id]!,
    settle,
  };
}

const signedOn = (unit: string, beat: string) => (d: board.SectorBoard, t: number) =>
  board.signOn(board.upsertUnit(d, { id: unit, callSign: unit, homeBeat: beat, mode: 'car' }, at(car(unit), t)), { unitId: unit, officers: [`Ofc. ${unit}`] }, at(car(unit), t));
const newCall = (id: string, beat: string, priority: 1 | 2 | 3 | 4) => (d: board.SectorBoard, t: number) =>
  board.createCall(d, { cadNumber: id, type: 'Test call', priority, address: `beat ${beat}`, beat }, at(operator, t));
const clear = (unit: string, callId: string) => (d: board.SectorBoard, t: number) => board.clearCall(d, { callId, disposition: 'RPT' }, at(car(unit), t));
const reasons = (c: CallView) => c.history.filter((h) => h.by.kind === 'policy').map((h) => `${h.event}${h.reason ? `: ${h.reason}` : ''}${h.unitId ? ` (${h.unitId})` : ''}`);
const policyNotes = (c: CallView) => c.notes.filter((n) => n.by.kind === 'policy').map((n) => n.text);

/** NB11 on beat B1 busy on call X-1, NB21 on B2 available. */
async function busyBeatOfficer(s: Station): Promise<void> {
  await s.act('B', signedOn('NB11', 'B1'));
  await s.act('B', signedOn('NB21', 'B2'));
  await s.act('B', newCall('X-1', 'B1', 3)); // goes straight to NB11, its beat officer
  expect(s.call('B', 'X-1').assigned).toEqual(['NB11']);
  // NB21 is kept busy by a call of its own beat so that no other unit is free unless a test frees it.
  await s.act('B', newCall('X-2', 'B2', 3));
  expect(s.call('B', 'X-2').assigned).toEqual(['NB21']);
}

describe('holds in simulated time', () => {
  it('a beat officer back at 29:59 gets the held call; nothing happens at 30:00', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3));
    const held = s.call('B', 'C-1');
    expect(held.state).toBe('held');
    expect(held.hold).toMatchObject({ deadline: s.clock.now() + HOLD, unitId: 'NB11', reason: 'held: beat officer NB11 on call X-1' });

    s.clock.advance(HOLD - 1000);
    await s.dispatcher.tick();
    expect(s.call('B', 'C-1').state).toBe('held');
    await s.act('B', clear('NB11', 'X-1'));
    const c = s.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB11']);
    // One entry: the assignment carries its reason (and ends the hold).
    expect(reasons(c)).toEqual(['held: held: beat officer NB11 on call X-1 (NB11)', 'assigned: dispatched to NB11 after 29:59 hold: beat officer of beat B1 available (NB11)']);

    s.clock.advance(1000);
    await s.dispatcher.tick();
    expect(s.call('B', 'C-1').assigned).toEqual(['NB11']);
  });

  it('past the deadline the call goes to another unit of the sector, and says so', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 4));
    s.clock.advance(10 * MIN);
    await s.act('B', clear('NB21', 'X-2')); // NB21 is free now, but the hold is for the beat officer
    expect(s.call('B', 'C-1').state).toBe('held');
    s.clock.advance(20 * MIN);
    await s.dispatcher.tick();
    const c = s.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB21']);
    expect(c.history.find((h) => h.event === 'assigned')?.reason).toMatch(/^dispatched to NB21 after 30:00 hold: beat officer NB11 on call X-1; nearest available unit of sector B/);
  });

  it('two held calls for one beat: the beat officer takes the first, the second goes elsewhere at its deadline', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3));
    s.clock.advance(5 * MIN);
    await s.act('B', newCall('C-2', 'B1', 3));
    expect([s.call('B', 'C-1').state, s.call('B', 'C-2').state]).toEqual(['held', 'held']);

    s.clock.advance(10 * MIN);
    await s.act('B', clear('NB11', 'X-1'));
    expect(s.call('B', 'C-1').assigned).toEqual(['NB11']);
    expect(s.call('B', 'C-2').state).toBe('held');

    // NB21 frees up; C-2 still waits for its beat officer until its own deadline (05:00 + 30:00).
    await s.act('B', clear('NB21', 'X-2'));
    s.clock.advance(20 * MIN - 1000);
    await s.dispatcher.tick();
    expect(s.call('B', 'C-2').state).toBe('held');
    s.clock.advance(1000);
    await s.dispatcher.tick();
    expect(s.call('B', 'C-2').assigned).toEqual(['NB21']);
    expect(s.call('B', 'C-2').history.find((h) => h.event === 'assigned')?.reason).toContain('after 30:00 hold: beat officer NB11 on call C-1');
  });

  it('a higher-priority held call goes first when the beat officer comes back', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-4', 'B1', 4));
    s.clock.advance(MIN);
    await s.act('B', newCall('C-2', 'B1', 2));
    s.clock.advance(MIN);
    await s.act('B', clear('NB11', 'X-1'));
    expect(s.call('B', 'C-2').assigned).toEqual(['NB11']);
    expect(s.call('B', 'C-4').state).toBe('held');
  });

  it('an emergency while every unit of the sector is busy goes to the nearest unit of an adjacent sector', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('J', signedOn('NJ11', 'J1'));
    await s.act('B', newCall('E-1', 'B1', 1));
    // Transferred, not cancelled: the home board keeps a reference to where the call went.
    const home = s.call('B', 'E-1');
    expect(home.state).toBe('transferred');
    expect(home.transferredTo).toMatchObject({ sector: 'J', by: { kind: 'policy', precinct: 'N' } });
    expect(home.transferredTo?.reason).toMatch(/^dispatched to NJ11 of adjacent sector J: P1 emergency, every unit of sector B busy/);
    expect(home.cancelledAt).toBeUndefined();
    const there = s.call('J', 'E-1');
    expect(there.assigned).toEqual(['NJ11']);
    expect(there.priority).toBe(1);
    expect(there.transferredFrom).toMatchObject({ sector: 'B', callId: 'E-1' });
    expect(there.history.find((h) => h.event === 'created')?.reason).toMatch(/^transferred from sector B: dispatched to NJ11/);
    expect(there.history.find((h) => h.event === 'assigned')).toMatchObject({ unitId: 'NJ11', by: { kind: 'policy' } });
    expect(s.decisions.filter((d) => d.callId === 'E-1').map((d) => `${d.sector}:${d.decision.kind}`)).toEqual(['B:dispatch']);
  });

  it('an emergency with nobody free anywhere waits, then takes the first unit to come free', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3)); // held for NB11
    await s.act('B', newCall('E-1', 'B2', 1));
    expect(policyNotes(s.call('B', 'E-1'))).toEqual(['waiting: P1 emergency, no unit available in sector B nor adjacent sectors J; goes to the first unit to come free']);
    s.clock.advance(3 * MIN);
    await s.act('B', clear('NB11', 'X-1'));
    // The emergency goes first; the held call keeps waiting for its beat officer.
    expect(s.call('B', 'E-1').assigned).toEqual(['NB11']);
    expect(s.call('B', 'C-1').state).toBe('held');
    // The waiting note was written once, not on every pass; the dispatch is on the assignment.
    expect(policyNotes(s.call('B', 'E-1'))).toHaveLength(1);
    expect(s.call('B', 'E-1').history.find((h) => h.event === 'assigned')?.reason).toMatch(/^dispatched to NB11: P1 emergency/);
  });

  it('an operator who releases a hold gets the call dispatched to the nearest available unit', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', clear('NB21', 'X-2'));
    await s.act('B', newCall('C-1', 'B1', 3));
    await s.act('B', (d, t) => board.releaseHold(d, { callId: 'C-1', reason: 'released by disp1: caller elderly' }, at(operator, t)));
    expect(s.call('B', 'C-1').assigned).toEqual(['NB21']);
  });
});

describe('shift change', () => {
  const schedule = (): Schedule =>
    validateSchedule(
      {
        version: 1,
        timeZone: 'America/Los_Angeles',
        shifts: { first: { start: '06:00', end: '14:00' }, second: { start: '14:00', end: '22:00' } },
        assignments: [
          { unit: 'NB11', beat: 'B1', shift: 'first', from: '2026-01-01', to: '2026-12-31' },
          { unit: 'NB12', beat: 'B1', shift: 'second', from: '2026-01-01', to: '2026-12-31', officers: ['Ofc. J. Okafor'] },
          { unit: 'NB21', beat: 'B2', shift: 'first', from: '2026-01-01', to: '2026-12-31' },
          { unit: 'NB22', beat: 'B2', shift: 'second', from: '2026-01-01', to: '2026-12-31' },
        ],
      },
      dept,
    ).schedule;

  it('a call held for a beat officer who signs off at the change of watch follows the incoming one', async () => {
    const at1350 = Date.parse('2026-03-02T13:50:00-08:00');
    const s = await station({ schedule: schedule(), now: at1350 });
    await s.act('B', signedOn('NB11', 'B1'));
    await s.act('B', signedOn('NB21', 'B2'));
    await s.act('B', (d, t) => board.setUnitStatus(d, { unitId: 'NB11', status: 'out_of_service', reason: 'end-of-watch paperwork' }, at(car('NB11'), t)));
    await s.act('B', newCall('X-2', 'B2', 3));
    await s.act('B', newCall('C-1', 'B1', 3));
    expect(s.call('B', 'C-1').hold).toMatchObject({ unitId: 'NB11', reason: 'held: beat officer NB11 out of service (end-of-watch paperwork)' });
    const deadline = s.call('B', 'C-1').hold!.deadline;

    s.clock.set(Date.parse('2026-03-02T14:00:00-08:00') - 10);
    await s.act('B', (d, t) => board.signOff(d, { unitId: 'NB11' }, at(car('NB11'), t)));
    await s.dispatcher.shiftChange();
    // The incoming unit is on the board, expected, and the hold now waits for it, same deadline.
    expect(s.replicas.get('B')!.view().units.NB12).toMatchObject({ status: 'off_duty', homeBeat: 'B1', officers: ['Ofc. J. Okafor'] });
    expect(s.dispatcher.expectations('B').find((e) => e.unit === 'NB12')).toMatchObject({ beat: 'B1', shift: 'second', signedOn: false });
    expect(s.call('B', 'C-1').hold).toMatchObject({ unitId: 'NB12', deadline, reason: 'held: NB11 is no longer the beat officer (off duty); beat officer NB12 not signed on' });

    s.clock.advance(5 * MIN);
    await s.act('B', (d, t) => board.signOn(d, { unitId: 'NB12', officers: ['Ofc. J. Okafor'] }, at(car('NB12'), t)));
    const c = s.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB12']);
    expect(c.history.filter((h) => h.event === 'assigned').at(-1)?.reason).toBe('dispatched to NB12 after 15:00 hold: beat officer of beat B1 available');
  });
});

describe('restart', () => {
  it('a hold written before a restart is honoured after it, deadline included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdt-dispatch-'));
    dirs.push(dir);
    const firstStore = new FileDocStore(dir);
    const first = await station({ store: firstStore });
    await busyBeatOfficer(first);
    await first.act('B', clear('NB21', 'X-2'));
    await first.act('B', newCall('C-1', 'B1', 3));
    expect(first.call('B', 'C-1').state).toBe('held');
    await first.dispatcher.stop();
    await firstStore.close();

    // The precinct was down across the deadline; the new process starts 31 minutes later.
    const store = new FileDocStore(dir);
    const second = await station({ store, now: first.clock.now() + 31 * MIN });
    const c = second.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB21']);
    expect(c.history.find((h) => h.event === 'assigned' && h.unitId === 'NB21')?.reason).toMatch(/^dispatched to NB21 after 31:00 hold/);
    await store.close();
  });
});

describe('decision events', () => {
  it('reports every applied decision once, in order', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3));
    expect(s.decisions.map((d) => `${d.callId}:${d.decision.kind}`)).toEqual(['X-1:dispatch', 'X-2:dispatch', 'C-1:hold']);
    const by: Actor = { kind: 'policy', precinct: 'N' };
    expect(s.call('B', 'C-1').history.at(-1)?.by).toEqual(by);
  });
});

const update = (id: string, input: Omit<board.UpdateCallInput, 'callId'>) => (d: board.SectorBoard, t: number) => board.updateCall(d, { callId: id, ...input }, at(operator, t));

describe('CAD updates', () => {
  it('a held P3 call upgraded to P1 is dispatched at once, and the history says why', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', clear('NB21', 'X-2')); // NB21 free, but the P3 call waits for its beat officer
    await s.act('B', newCall('C-1', 'B1', 3));
    expect(s.call('B', 'C-1').state).toBe('held');

    s.clock.advance(4 * MIN);
    await s.act('B', update('C-1', { priority: 1, reason: 'caller now reports a weapon' }));
    const c = s.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB21']);
    expect(c.hold).toBeUndefined();
    expect(c.history.map((h) => h.event)).toEqual(['created', 'held', 'updated', 'assigned']);
    expect(c.history[2]).toMatchObject({ by: operator, changes: [{ field: 'priority', from: 3, to: 1 }], reason: 'updated: priority 3 -> 1: caller now reports a weapon' });
    expect(c.history[3]).toMatchObject({ by: { kind: 'policy' }, unitId: 'NB21' });
    expect(c.history[3]!.reason).toMatch(/^dispatched to NB21: P1 emergency, beat officer NB11 on call X-1; nearest available unit of sector B .* \(after update by disp1: priority 3 -> 1\)$/);
    // Decided at the moment of the update (stamped 1 ms after it): no waiting for a tick or the hold deadline.
    expect(c.dispatchedAt! - c.history[2]!.at).toBe(1);
  });

  it('a beat change re-decides with the new beat officer: available, the call goes to them at once', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', clear('NB21', 'X-2'));
    await s.act('B', newCall('C-1', 'B1', 3));
    expect(s.call('B', 'C-1').hold?.unitId).toBe('NB11');
    await s.act('B', update('C-1', { beat: 'B2', address: '4700 Phinney Ave N' }));
    const c = s.call('B', 'C-1');
    expect(c.assigned).toEqual(['NB21']);
    expect(c.history.at(-1)!.reason).toMatch(/^dispatched to NB21 after 00:00 hold: beat officer of beat B2 available \(after update by disp1: beat B1 -> B2\)$/);
  });

  it('a beat change while the new beat officer is busy holds for them, keeping the deadline', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3));
    const deadline = s.call('B', 'C-1').hold!.deadline;
    s.clock.advance(10 * MIN);
    await s.act('B', update('C-1', { beat: 'B2' }));
    const c = s.call('B', 'C-1');
    expect(c.state).toBe('held');
    expect(c.hold).toMatchObject({ unitId: 'NB21', deadline });
    expect(c.hold!.reason).toBe('held: NB11 is no longer the beat officer (on call X-1); beat officer NB21 on call X-2 (after update by disp1: beat B1 -> B2)');
    // NB21 clears: the held call follows the new beat's officer, not the old one.
    await s.act('B', clear('NB21', 'X-2'));
    expect(s.call('B', 'C-1').assigned).toEqual(['NB21']);
  });

  it('an update that changes nothing the policy looks at leaves a held call held', async () => {
    const s = await station();
    await busyBeatOfficer(s);
    await s.act('B', newCall('C-1', 'B1', 3));
    await s.act('B', update('C-1', { address: '5400 Ballard Ave NW', callerNotes: 'blue car' }));
    expect(s.call('B', 'C-1').state).toBe('held');
    expect(s.decisions.filter((d) => d.callId === 'C-1')).toHaveLength(1);
  });
});

describe('transfer cut by a restart', () => {
  it('the received call is kept, the home copy is not dispatched, and the restart completes the transfer', async () => {
    const disk = new MemoryDocStore();
    // The first process dies as it writes the second half of the transfer: the sending board's
    // write never reaches the disk (the receiving board's did).
    const dying: DocStore = {
      load: (id, actor) => disk.load(id, actor),
      list: () => disk.list(),
      async save(id, doc) {
        if (id.startsWith('B@') && board.readBoard(doc).calls['E-1']?.state === 'transferred') throw new Error('power cut');
        return disk.save(id, doc);
      },
    };
    const first = await station({ store: dying });
    await busyBeatOfficer(first);
    await first.act('J', signedOn('NJ11', 'J1'));
    await first.act('B', newCall('E-1', 'B1', 1));
    expect(first.call('J', 'E-1')).toMatchObject({ assigned: ['NJ11'], transferredFrom: { sector: 'B', callId: 'E-1' } });
    // The failed write keeps the change on the board (it may have reached the cars already); the
    // disk lacks it, and the process dies here.
    expect(first.call('B', 'E-1').state).toBe('transferred');
    await first.dispatcher.stop();

    const second = await station({ store: disk, now: first.clock.now() + 2 * MIN });
    const home = second.call('B', 'E-1');
    expect(home.state).toBe('transferred');
    expect(home.transferredTo).toMatchObject({ sector: 'J', by: { kind: 'policy' } });
    expect(home.transferredTo!.reason).toMatch(/^dispatched to NJ11 of adjacent sector J: .* \(completed after a restart\)$/);
    expect(second.call('J', 'E-1').assigned).toEqual(['NJ11']);
    // The home copy was not sent a unit of its own meanwhile.
    expect(home.assigned).toEqual([]);
  });

  it('a home copy taken by a home unit before the restart stays with it; both boards say so once', async () => {
    const disk = new MemoryDocStore();
    const s = await station({ store: disk, start: false });
    await s.replicas.get('B')!.update((d) => newCall('E-1', 'B1', 1)(signedOn('NB11', 'B1')(d, T0), T0 + 1));
    // Step 1 of a transfer only, as a process that died after it would leave it.
    await s.replicas.get('J')!.update((d) =>
      board.receiveTransfer(d, { call: { id: 'E-1', cadNumber: 'E-1', type: 'Test call', priority: 1, address: 'beat B1', beat: 'B1' }, from: { sector: 'B' }, reason: 'P1' }, at({ kind: 'policy', precinct: 'N' }, T0 + 2)),
    );
    await s.replicas.get('B')!.update((d) => board.acceptCall(d, { callId: 'E-1', unitId: 'NB11' }, at(car('NB11'), T0 + 3)));
    await s.dispatcher.start();
    await s.dispatcher.evaluate();
    const text = 'transfer to sector J not completed: NB11 of sector B took the call; sector J\'s board has it too';
    expect(s.call('B', 'E-1')).toMatchObject({ state: 'en_route', assigned: ['NB11'] });
    expect(s.call('B', 'E-1').notes.filter((n) => n.text === text)).toHaveLength(1);
    expect(s.call('J', 'E-1').notes.filter((n) => n.text === text)).toHaveLength(1);
  });
});

describe('a call transferred by hand', () => {
  it('is decided on the receiving board without the sending beat\'s officers, who are not there', async () => {
    const schedule = validateSchedule(
      {
        version: 1,
        timeZone: 'America/Los_Angeles',
        shifts: { first: { start: '06:00', end: '14:00' } },
        assignments: [
          { unit: 'NB11', beat: 'B1', shift: 'first', from: '2026-01-01', to: '2026-12-31' },
          { unit: 'NB21', beat: 'B2', shift: 'first', from: '2026-01-01', to: '2026-12-31' },
          { unit: 'NJ11', beat: 'J1', shift: 'first', from: '2026-01-01', to: '2026-12-31' },
        ],
      },
      dept,
    ).schedule;
    const s = await station({ schedule, now: Date.parse('2026-03-02T10:00:00-08:00') });
    await busyBeatOfficer(s);
    await s.act('J', signedOn('NJ11', 'J1'));
    await s.act('B', newCall('C-1', 'B1', 3));
    expect(s.call('B', 'C-1').state).toBe('held');
    s.clock.advance(MIN);
    await s.dispatcher.transferCall({
      from: { sector: 'B', replica: s.replicas.get('B')! },
      to: { sector: 'J', replica: s.replicas.get('J')! },
      callId: 'C-1',
      reason: 'transferred by disp1 (dispatcher) to sector J: J covers it',
      ctx: at(operator, s.clock.now()),
    });
    await s.settle();
    // Not held on J's board for NB11 (B1's officer, who never comes to J): J's free unit takes it.
    const there = s.call('J', 'C-1');
    expect(there.assigned).toEqual(['NJ11']);
    expect(there.history.at(-1)?.reason).toMatch(/^dispatched to NJ11: no beat officer scheduled for beat B1; nearest available unit of sector J/);
    expect(s.call('B', 'C-1')).toMatchObject({ state: 'transferred', transferredTo: { sector: 'J', by: operator } });
  });
});
