// Author binding (issue 4): the precinct refuses a car's changes that name another vehicle, or
// rewrite the log, and keeps its board exactly as it was; honest changes go through.
import * as A from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUnitStatus, signOn, upsertUnit, createCall, addNote, deliverReport, markMessageRead, markRead, postNotice, sendMessage } from '../../../sync/board.js';
import { authorshipViolation, checkAuthorship } from '../../../sync/author-guard.js';
import type { OpContext, StoredBoard, UnitId, VehicleId } from '../../../sync/schema.js';
import { node, PRECINCT, tempDir, Wire, type Node } from './sync-pair.js';

const dispatcher = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at });
const asCar = (vehicle: string, unit: string, at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: vehicle as VehicleId, unitId: unit as UnitId }, at });
const T = Date.UTC(2026, 10, 27, 8);

/** The wire carries no more messages over a quiet spell. */
async function expectQuiet(wire: Wire): Promise<void> {
  await wire.settle();
  const before = wire.messages;
  await new Promise((r) => setTimeout(r, 200));
  expect(wire.messages - before).toBe(0);
}

describe('author binding', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let wire: Wire;
  let precinct: Node;
  let car: Node;

  beforeEach(async () => {
    tmp = await tempDir();
    wire = new Wire();
    const registry: Record<string, string> = { V1: 'U1', V2: 'U2' };
    precinct = await node(wire, tmp.dir, PRECINCT, { bound: (p) => (registry[p] ? { vehicleId: p, unitId: registry[p]! } : undefined) });
    car = await node(wire, tmp.dir, 'V1');
    await precinct.replica.update((d) => upsertUnit(d, { id: 'U1', callSign: 'U-1', homeBeat: 'B1', mode: 'car' }, dispatcher(T)));
    await precinct.replica.update((d) => upsertUnit(d, { id: 'U2', callSign: 'U-2', homeBeat: 'B2', mode: 'car' }, dispatcher(T)));
    await precinct.replica.update((d) => createCall(d, { cadNumber: 'C1', type: 'Noise', priority: 3, address: '1 Main', beat: 'B1' }, dispatcher(T)));
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(car.replica.view().units.U2).toBeDefined();
  });
  afterEach(async () => {
    await precinct.store.close();
    await car.store.close();
    await tmp.remove();
  });

  it('accepts a car signing on and changing its own status', async () => {
    await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar('V1', 'U1', T + 1000)));
    await car.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V1', 'U1', T + 2000)));
    await car.replica.update((d) => addNote(d, { callId: 'C1', text: 'quiet now' }, asCar('V1', 'U1', T + 3000)));
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(0);
    expect(precinct.replica.view().units.U1?.status).toBe('on_scene');
    expect(A.getHeads(precinct.replica.doc)).toEqual(A.getHeads(car.replica.doc));
  });

  it("refuses a car forging another car's status, and the precinct board stays as it was", async () => {
    const before = A.getHeads(precinct.replica.doc);
    const statusBefore = precinct.replica.view().units.U2?.status;
    // The compromised car V1 signs unit U2 on in V2's name.
    await car.replica.update((d) => signOn(d, { unitId: 'U2', officers: ['Nobody'] }, asCar('V2', 'U2', T + 1000)));
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
    expect(A.getHeads(precinct.replica.doc)).toEqual(before);
    expect(precinct.replica.view().units.U2?.status).toBe(statusBefore);
    // The refused car is shut out until it reconnects: no endless exchange of empty messages.
    await expectQuiet(wire);
    // Its reconnect tries once more, is refused again, and falls quiet again.
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(2);
    await expectQuiet(wire);
  });

  it("refuses its own unit's event signed with another vehicle's id", async () => {
    await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar('V1', 'U1', T + 500)));
    // The honest sign-on reaches the station first (changes sent together are refused together).
    await wire.settle();
    await car.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V2', 'U1', T + 1000)));
    await wire.settle();
    expect(precinct.replica.view().units.U1?.status).toBe('available');
    expect(precinct.sync.stats.forged).toBe(1);
    await expectQuiet(wire);
  });

  it('accepts the author as the map older cars write, and refuses that map naming another vehicle', async () => {
    const I = (v: string) => new A.ImmutableString(v);
    const legacy = (vehicle: string, at: number) =>
      car.replica.update((d) =>
        A.change(d, (x: StoredBoard) => {
          x.unitLog[`U1~legacy${at}`] = { status: I('on_scene'), at, by: { kind: I('vehicle'), id: I(vehicle), unit: I('U1') } };
        }),
      );
    await car.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar('V1', 'U1', T + 500)));
    await legacy('V1', T + 1000);
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(0);
    expect(precinct.replica.view().units.U1?.status).toBe('on_scene');
    await legacy('V2', T + 2000);
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
  });

  it('refuses a rewrite of an existing log entry (the log is append-only)', async () => {
    const key = Object.keys(car.replica.doc.callLog)[0]!;
    await car.replica.update((d) =>
      A.change(d, (x: StoredBoard) => {
        x.callLog[key]!.by = new A.ImmutableString('v/V1/U1');
      }),
    );
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
    expect(String(precinct.replica.doc.callLog[key]!.by)).not.toBe('v/V1/U1');
  });

  it('accepts a message from its own unit and its own read receipts; refuses forged senders and receipts', async () => {
    const care = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'c1', role: 'care' }, at });
    await precinct.replica.update((d) => deliverReport(d, { id: 'R1', beat: 'B1', title: 'Hit and run', body: 'insurance', incidentAt: T, recipients: [{ kind: 'unit', id: 'U1' }, { kind: 'unit', id: 'U2' }] }, care(T + 100)));
    await precinct.replica.update((d) => sendMessage(d, { id: 'M-D', to: [{ kind: 'unit', id: 'U1' }, { kind: 'unit', id: 'U2' }], text: 'Briefing at 14:00' }, dispatcher(T + 200)));
    await precinct.replica.update((d) => postNotice(d, { id: 'W1', title: 'Block watch', startsAt: T + 86_400_000, place: 'Station' }, dispatcher(T + 300)));
    await wire.settle();
    // Honest: a message as U1, receipts for U1 on a report, a message and a notice.
    await car.replica.update((d) => sendMessage(d, { id: 'M1', to: [{ kind: 'unit', id: 'U2' }, { kind: 'dispatch' }], text: 'Need cover at 1 Main' }, asCar('V1', 'U1', T + 1000)));
    await car.replica.update((d) => markRead(d, { reportId: 'R1', unitId: 'U1' }, asCar('V1', 'U1', T + 1100)));
    await car.replica.update((d) => markMessageRead(d, { messageId: 'M-D', unitId: 'U1' }, asCar('V1', 'U1', T + 1200)));
    await car.replica.update((d) => markRead(d, { reportId: 'W1', unitId: 'U1' }, asCar('V1', 'U1', T + 1300)));
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(0);
    const v = precinct.replica.view();
    expect(v.messages.M1?.from).toEqual({ kind: 'unit', id: 'U1' });
    expect(Object.keys(v.inbox.R1!.readBy)).toEqual(['U1']);
    expect(Object.keys(v.messages['M-D']!.readBy)).toEqual(['U1']);
    expect(Object.keys(v.notices.W1!.readBy)).toEqual(['U1']);

    // Forged: a message that claims to come from U2, signed by V1/U1 as the guard expects.
    const before = A.getHeads(precinct.replica.doc);
    const s = (v: string) => new A.ImmutableString(v);
    await car.replica.update((d) =>
      A.change(d, (x: StoredBoard) => {
        x.inbox.M2 = { kind: s('message'), from: { kind: s('unit'), id: s('U2') }, text: s('from U2, honestly'), deliveredAt: T + 2000, by: { kind: s('vehicle'), id: s('V1'), unit: s('U1') }, recipients: [{ kind: s('dispatch'), id: s('dispatch') }], readBy: {} };
      }),
    );
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
    expect(A.getHeads(precinct.replica.doc)).toEqual(before);
    expect(precinct.replica.view().messages.M2).toBeUndefined();
  });

  it("refuses a car writing U2's read receipt", async () => {
    const care = (at: number): OpContext => ({ by: { kind: 'operator', operatorId: 'c1', role: 'care' }, at });
    await precinct.replica.update((d) => deliverReport(d, { id: 'R1', beat: 'B1', title: 'Hit and run', body: 'insurance', incidentAt: T, recipients: [{ kind: 'unit', id: 'U2' }] }, care(T + 100)));
    await wire.settle();
    // The car's own check would refuse this; a compromised car writes the receipt directly.
    await car.replica.update((d) =>
      A.change(d, (x: StoredBoard) => {
        x.inbox.R1!.readBy.U2 = T + 1000;
      }),
    );
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
    expect(precinct.replica.view().inbox.R1?.readBy).toEqual({});
  });

  it('refuses an existing log entry replaced whole by one the car signs itself', async () => {
    const key = Object.keys(car.replica.doc.callLog)[0]!;
    const s = (v: string) => new A.ImmutableString(v);
    await car.replica.update((d) =>
      A.change(d, (x: StoredBoard) => {
        x.callLog[key] = { event: s('cancelled'), at: T + 1000, by: { kind: s('vehicle'), id: s('V1'), unit: s('U1') } };
      }),
    );
    await wire.settle();
    expect(precinct.sync.stats.forged).toBe(1);
    expect(precinct.replica.view().calls.C1?.state).toBe('pending');
  });

  it('refuses sync from a peer that is not a registered vehicle', async () => {
    const stranger = await node(wire, tmp.dir, 'V9');
    await stranger.sync.hello(PRECINCT);
    await stranger.replica.update((d) => upsertUnit(d, { id: 'U9', callSign: 'x', homeBeat: 'B1', mode: 'car' }, asCar('V9', 'U9', T)));
    await wire.settle();
    expect(precinct.sync.stats.rejected).toBeGreaterThan(0);
    expect(precinct.replica.view().units.U9).toBeUndefined();
    await stranger.store.close();
  });
});

describe('authorshipViolation rules', () => {
  const who = { vehicleId: 'V1', unitId: 'U1' };
  const put = (path: string[], value: unknown): A.Patch => ({ action: 'put', path, value }) as A.Patch;
  const entry = (log: string, key: string, by: string) => [
    put([log, key], {}),
    put([log, key, 'by'], {}),
    put([log, key, 'by', 'kind'], new A.ImmutableString('vehicle')),
    put([log, key, 'by', 'id'], new A.ImmutableString(by)),
  ];
  it('allows a new own entry and names the fault otherwise', () => {
    expect(authorshipViolation(entry('unitLog', 'U1~x', 'V1'), who)).toBeUndefined();
    expect(authorshipViolation(entry('unitLog', 'U2~x', 'V1'), who)).toMatch(/another unit/);
    expect(authorshipViolation(entry('callLog', 'C1~x', 'V2'), who)).toMatch(/author V2/);
    expect(authorshipViolation([put(['units', 'U2', 'callSign'], 'x')], who)).toMatch(/writes unit U2/);
    expect(authorshipViolation([put(['callLog', 'C1~x'], {})], who)).toMatch(/no author/);
    expect(authorshipViolation([{ action: 'del', path: ['callLog', 'C1~y'] } as A.Patch], who)).toMatch(/append-only/);
    expect(authorshipViolation([...entry('callLog', 'C1~z', 'V1'), put(['callLog', 'C1~z', 'unit'], new A.ImmutableString('U2'))], who)).toMatch(/names unit U2/);
    // Replacing an entry that was on the board before is not a creation.
    expect(authorshipViolation(entry('unitLog', 'U1~x', 'V1'), who, (root, key) => root === 'unitLog' && key === 'U1~x')).toMatch(/append-only/);
  });

  it('a concurrent copy of an entry the board holds (a late edit forwarded on both sides) passes; a different one does not', () => {
    const s = (v: string) => new A.ImmutableString(v);
    const event = (status: string) => ({ by: { kind: s('vehicle'), id: s('V1'), unit: s('U1') }, status: s(status) });
    const base = A.from<{ unitLog: Record<string, unknown>; inbox: Record<string, { readBy: Record<string, number> }> }>({ unitLog: {}, inbox: { r1: { readBy: {} } } }, '11'.repeat(16));
    // The precinct's copy wins the conflict (higher actor at the same counter): only a `conflict` patch.
    const precinct = A.change(A.clone(base, 'ff'.repeat(16)), (d) => {
      d.unitLog['U1~x'] = event('meal');
      d.inbox.r1!.readBy.U1 = 5;
    });
    const copy = (status: string, read: number) =>
      A.change(A.clone(base, 'aa'.repeat(16)), (d) => {
        d.unitLog['U1~x'] = event(status);
        d.inbox.r1!.readBy.U1 = read;
      });
    const receive = (car: typeof base) => checkAuthorship(A.merge(A.clone(precinct), car), A.getHeads(precinct), who);
    expect(receive(copy('meal', 5))).toBeUndefined();
    expect(receive(copy('available', 5))).toMatch(/conflict on existing unitLog\/U1~x/);
  });

  it('inbox: only messages from the own unit, only own read receipts, nothing else', () => {
    const s = (v: string) => new A.ImmutableString(v);
    const message = (key: string, kind: string, fromKind: string, fromId: string, by = 'V1') => [
      ...entry('inbox', key, by),
      put(['inbox', key, 'kind'], s(kind)),
      put(['inbox', key, 'from'], {}),
      put(['inbox', key, 'from', 'kind'], s(fromKind)),
      put(['inbox', key, 'from', 'id'], s(fromId)),
      put(['inbox', key, 'readBy'], {}),
    ];
    expect(authorshipViolation(message('M1', 'message', 'unit', 'U1'), who)).toBeUndefined();
    expect(authorshipViolation(message('M1', 'message', 'unit', 'U2'), who)).toMatch(/from unit U2, bound to U1/);
    expect(authorshipViolation(message('M1', 'message', 'dispatch', 'dispatch'), who)).toMatch(/from dispatch/);
    expect(authorshipViolation(message('M1', 'message', 'unit', 'U1', 'V2'), who)).toMatch(/author V2/);
    expect(authorshipViolation(message('R9', 'notice', 'unit', 'U1'), who)).toMatch(/adds only messages/);
    expect(authorshipViolation(message('M1', 'message', 'unit', 'U1'), who, (root, key) => root === 'inbox' && key === 'M1')).toMatch(/written once/);
    expect(authorshipViolation([...message('M1', 'message', 'unit', 'U1'), put(['inbox', 'M1', 'readBy', 'U2'], 5)], who)).toMatch(/read receipt U2/);
    expect(authorshipViolation([put(['inbox', 'R1', 'readBy', 'U1'], 5)], who)).toBeUndefined();
    expect(authorshipViolation([put(['inbox', 'R1', 'readBy', 'U2'], 5)], who)).toMatch(/read receipt U2/);
    expect(authorshipViolation([put(['inbox', 'R1', 'readBy', 'U1'], 'soon')], who)).toMatch(/read receipt U1/);
    expect(authorshipViolation([put(['inbox', 'R1', 'readBy'], {})], who)).toMatch(/read receipt/);
    expect(authorshipViolation([put(['inbox', 'R1', 'title'], s('changed'))], who)).toMatch(/edits existing inbox\/R1/);
    expect(authorshipViolation([{ action: 'del', path: ['inbox', 'R1'] } as A.Patch], who)).toMatch(/written once/);
  });
});
