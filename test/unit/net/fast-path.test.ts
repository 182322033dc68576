// Once a round has ended in agreement, a change goes to the peer as it is (envelope kind
// 'compact': the change with its dependency hashes shortened) and the precinct acknowledges it with a short 'ack'; a change that arrives before one it
// depends on starts a round; a car whose change is never acknowledged greets its station again.
import * as A from '@automerge/automerge';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { setUnitStatus, signOn, upsertUnit } from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import { encodeEnvelope } from '../../../sync/envelope.js';
import { node, PRECINCT, tempDir, Wire, type Node } from './sync-pair.js';

const KIND = { sync: 1, hello: 2, deflated: 3, change: 4, ack: 5, compact: 6 };
const T = Date.UTC(2026, 10, 27, 8);
const dispatcher: OpContext = { by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at: T };
const asCar = (v: string, u: string, at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: v as VehicleId, unitId: u as UnitId }, at });
const registry: Record<string, string> = { V1: 'U1', V2: 'U2', V3: 'U3' };

let tmp: Awaited<ReturnType<typeof tempDir>>;
let wire: Wire;
let precinct: Node;
let car1: Node;
let car2: Node;

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(probe(), what).toBe(true);
}

beforeEach(async () => {
  tmp = await tempDir();
  wire = new Wire();
  precinct = await node(wire, tmp.dir, PRECINCT, { bound: (p) => (registry[p] ? { vehicleId: p, unitId: registry[p] } : undefined) });
  car1 = await node(wire, tmp.dir, 'V1', { sync: { settle: { stalledMs: 150 } } });
  car2 = await node(wire, tmp.dir, 'V2');
  await precinct.replica.update((d) => upsertUnit(upsertUnit(d, { id: 'U1', callSign: 'U-1', homeBeat: 'B1', mode: 'car' }, dispatcher), { id: 'U2', callSign: 'U-2', homeBeat: 'B1', mode: 'car' }, dispatcher));
  for (const c of [car1, car2]) await c.sync.hello(PRECINCT);
  await wire.settle();
  await car1.replica.update((d) => signOn(d, { unitId: 'U1', officers: ['Ofc. Reyes'] }, asCar('V1', 'U1', T + 1000)));
  await car2.replica.update((d) => signOn(d, { unitId: 'U2', officers: ['Ofc. Tran'] }, asCar('V2', 'U2', T + 1000)));
  await wire.settle();
  await until(() => car1.sync.isLive(PRECINCT) && precinct.sync.isLive('V1') && precinct.sync.isLive('V2'), 'both sides live after the first rounds');
  wire.log.length = 0;
});
afterEach(async () => {
  for (const n of [precinct, car1, car2]) await n.store.close();
  await tmp.remove();
});

it('sends a live car\'s change as it is, fans it out the same way, and acknowledges it in one short message', async () => {
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'en_route' }, asCar('V1', 'U1', T + 2000)));
  await wire.settle();
  expect(wire.log.map((m) => `${m.from}>${m.to}:${m.kind}`).sort()).toEqual([`${PRECINCT}>V1:${KIND.ack}`, `${PRECINCT}>V2:${KIND.compact}`, `V1>${PRECINCT}:${KIND.compact}`].sort());
  // At QoS 0 all three: the ack and the rounds of the settle check confirm them (below), and with
  // clean sessions a QoS 1 message is lost with its link all the same.
  expect(wire.log.map((m) => m.qos)).toEqual([0, 0, 0]);
  const ack = wire.log.find((m) => m.kind === KIND.ack)!;
  expect(ack.bytes).toBe(3 + precinct.replica.docId.length + 8);
  // The change with its dependency hashes cut from 32 to 8 bytes and its 1-2 byte length field
  // dropped: the envelope and nothing else on top.
  const change = A.getLastLocalChange(car1.replica.doc)!;
  const sent = wire.log.find((m) => m.from === 'V1')!;
  const deps = A.decodeChange(change).deps.length;
  expect(deps).toBeGreaterThan(0);
  const whole = 3 + car1.replica.docId.length + change.length;
  expect(whole - sent.bytes - 24 * deps).toBeGreaterThanOrEqual(1);
  expect(whole - sent.bytes - 24 * deps).toBeLessThanOrEqual(2);
  const head = A.getHeads(car1.replica.doc);
  expect(A.hasHeads(precinct.replica.doc, head)).toBe(true);
  expect(A.hasHeads(car2.replica.doc, head)).toBe(true);
  expect(car2.replica.view().units.U1?.status).toBe('en_route');
  // The ack, not a round, tells the car the precinct holds everything of ours.
  expect(car1.sync.inSync(PRECINCT)).toBe(true);
});

it('counts the car out of sync until the ack arrives', async () => {
  let held: Buffer | undefined;
  wire.drop = (_from, to, payload) => {
    if (to !== 'V1' || payload[1] !== KIND.ack) return false;
    held = payload;
    return true;
  };
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V1', 'U1', T + 2000)));
  await wire.settle();
  expect(held).toBeDefined();
  expect(car1.sync.inSync(PRECINCT)).toBe(false);
  wire.drop = undefined;
  await car1.sync.handle(`mdt/v1/sync/B/${PRECINCT}/V1`, held!);
  expect(car1.sync.inSync(PRECINCT)).toBe(true);
});

it('answers a change that overtook one it depends on with a round that brings both', async () => {
  // The first change is lost on its way to the precinct; the second depends on it.
  let lost = 0;
  wire.drop = (from, _to, payload) => from === 'V1' && payload[1] === KIND.compact && lost++ === 0;
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'en_route' }, asCar('V1', 'U1', T + 2000)));
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V1', 'U1', T + 3000)));
  await wire.settle();
  await until(() => A.hasHeads(precinct.replica.doc, A.getHeads(car1.replica.doc)), 'the precinct holds both changes');
  expect(wire.log.some((m) => m.from === PRECINCT && m.to === 'V1' && m.kind === KIND.hello)).toBe(true);
  await until(() => car2.replica.view().units.U1?.status === 'on_scene', 'the other car has the status');
  await until(() => car1.sync.inSync(PRECINCT), 'the car counts itself in sync after the round');
});

it('greets the station again when its change is never acknowledged (settle)', async () => {
  // Lost in transit, with nothing after it to reveal the gap.
  let lost = 0;
  wire.drop = (from, _to, payload) => from === 'V1' && payload[1] === KIND.compact && lost++ === 0;
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'en_route' }, asCar('V1', 'U1', T + 2000)));
  await wire.settle();
  expect(precinct.replica.view().units.U1?.status).toBe('available');
  await until(() => precinct.replica.view().units.U1?.status === 'en_route', 'the settle round brings the change');
  expect(wire.log.some((m) => m.from === 'V1' && m.kind === KIND.hello)).toBe(true);
  await until(() => car2.replica.view().units.U1?.status === 'en_route', 'and the other car has it');
});

it('still applies a whole change (kind 4, as sent before compact changes) from a live peer', async () => {
  // An older car sends its change whole: the precinct applies, acknowledges and fans it out.
  const before = car1.replica.doc;
  const next = setUnitStatus(A.clone(before), { unitId: 'U1', status: 'en_route' }, asCar('V1', 'U1', T + 2000));
  const whole = encodeEnvelope({ kind: 'change', docId: car1.replica.docId, body: A.getLastLocalChange(next)! });
  await precinct.sync.handle(`mdt/v1/sync/B/V1/${PRECINCT}`, whole);
  await wire.settle();
  expect(precinct.replica.view().units.U1?.status).toBe('en_route');
  expect(wire.log.some((m) => m.from === PRECINCT && m.to === 'V1' && m.kind === KIND.ack)).toBe(true);
  await until(() => car2.replica.view().units.U1?.status === 'en_route', 'the other car has it');
});

it('refuses a change sent as it is under another vehicle\'s name, and shuts the car out', async () => {
  // Car 2 writes car 1's status: the author binding refuses it whatever the envelope.
  await car2.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V1', 'U1', T + 2000)));
  await wire.settle();
  expect(precinct.sync.stats.forged).toBe(1);
  expect(precinct.replica.view().units.U1?.status).toBe('available');
  expect(car1.replica.view().units.U1?.status).toBe('available');
  expect(wire.log.some((m) => m.from === PRECINCT && m.to === 'V2' && m.kind === KIND.ack)).toBe(false);
});

it('stops settling once closed (an archived or retired epoch keeps no timer, and so no board, alive)', async () => {
  let lost = 0;
  wire.drop = (from, _to, payload) => from === 'V1' && payload[1] === KIND.compact && lost++ === 0;
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'en_route' }, asCar('V1', 'U1', T + 2000)));
  await wire.settle();
  car1.sync.close();
  await new Promise((r) => setTimeout(r, 500)); // over three settle periods of 150 ms
  expect(wire.log.some((m) => m.from === 'V1' && m.kind === KIND.hello)).toBe(false);
  // Detached from the replica too: a later change is not sent by the closed sync.
  await car1.replica.update((d) => setUnitStatus(d, { unitId: 'U1', status: 'on_scene' }, asCar('V1', 'U1', T + 3000)));
  await wire.settle();
  expect(wire.log.filter((m) => m.from === 'V1')).toEqual([]);
});

it('sends rounds at QoS 1', async () => {
  await car1.sync.hello(PRECINCT);
  await wire.settle();
  const round = wire.log.filter((m) => m.kind === KIND.hello || m.kind === KIND.sync || m.kind === KIND.deflated);
  expect(round.length).toBeGreaterThan(1);
  expect(round.every((m) => m.qos === 1)).toBe(true);
});

it('starts each fan-out one car further on, so no car is always the last one sent a change', async () => {
  const car3 = await node(wire, tmp.dir, 'V3');
  try {
    await precinct.replica.update((d) => upsertUnit(d, { id: 'U3', callSign: 'U-3', homeBeat: 'B1', mode: 'car' }, dispatcher));
    await car3.sync.hello(PRECINCT);
    await wire.settle();
    await until(() => precinct.sync.isLive('V3'), 'the third car live');
    wire.log.length = 0;
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const from = wire.log.length;
      await precinct.replica.update((d) => upsertUnit(d, { id: 'U3', callSign: `U-3${'x'.repeat(i + 1)}`, homeBeat: 'B1', mode: 'car' }, { ...dispatcher, at: T + 5000 + i }));
      const sent = wire.log.slice(from).filter((m) => m.from === PRECINCT && m.kind === KIND.compact);
      expect(sent.map((m) => m.to).sort()).toEqual(['V1', 'V2', 'V3']);
      firsts.push(sent[0]!.to);
    }
    expect(new Set(firsts).size).toBe(3);
    await wire.settle();
  } finally {
    await car3.store.close();
  }
});
