// A car that was offline a long time catches up through messages no bigger than the precinct
// accepts (sync-chunks.ts), and a car cannot grow the sector's board past the precinct's cap.
import { randomBytes } from 'node:crypto';
import * as A from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNote, createCall, upsertUnit, type SectorBoard } from '../../../sync/board.js';
import { causalOrder, splitSyncMessage } from '../../../sync/sync-chunks.js';
import { silentLogger, type Logger } from '../../../sync/logger.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import { node, PRECINCT, tempDir, Wire, type Node } from './sync-pair.js';

const T = Date.UTC(2026, 10, 27, 8);
const dispatcher: OpContext = { by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at: T };
const asCar = (at: number): OpContext => ({ by: { kind: 'vehicle', vehicleId: 'V1' as VehicleId, unitId: 'U1' as UnitId }, at });
const bound = (p: string) => (p === 'V1' ? { vehicleId: 'V1', unitId: 'U1' } : undefined);
/** Incompressible note text, so the backlog's size on the wire is known. */
const noise = () => randomBytes(300).toString('base64').slice(0, 400);

/** `n` notes made offline, one change each (one durable write for all of them). */
async function offlineNotes(car: Node, n: number, from: number): Promise<void> {
  await car.replica.update((d) => {
    let x: SectorBoard = d;
    for (let i = 0; i < n; i++) x = addNote(x, { callId: 'C1', text: noise() }, asCar(T + from + i));
    return x;
  });
}

/** The wire carries no more messages over a quiet spell. */
async function quiet(wire: Wire): Promise<number> {
  await wire.settle();
  const before = wire.messages;
  await new Promise((r) => setTimeout(r, 200));
  return wire.messages - before;
}

describe('catching up after a long time offline', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let wire: Wire;
  let precinct: Node;
  let car: Node;
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: (_o, m) => void errors.push(m ?? '') };

  async function start(sync: { maxPayload?: number; maxBoardBytes?: number }, chunkBytes: number): Promise<void> {
    precinct = await node(wire, tmp.dir, PRECINCT, { bound, log, sync });
    car = await node(wire, tmp.dir, 'V1', { sync: { chunkBytes } });
    await precinct.replica.update((d) => upsertUnit(d, { id: 'U1', callSign: 'U-1', homeBeat: 'B1', mode: 'car' }, dispatcher));
    await precinct.replica.update((d) => createCall(d, { cadNumber: 'C1', type: 'Noise', priority: 3, address: '1 Main', beat: 'B1' }, dispatcher));
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(car.replica.view().calls.C1).toBeDefined();
  }

  beforeEach(async () => {
    tmp = await tempDir();
    wire = new Wire();
    errors.length = 0;
  });
  afterEach(async () => {
    await precinct.store.close();
    await car.store.close();
    await tmp.remove();
  });

  it('sends a backlog bigger than the precinct accepts in one message as several bounded messages', async () => {
    const cap = 24 * 1024;
    await start({ maxPayload: cap }, cap / 2);
    wire.online = false;
    await offlineNotes(car, 150, 10);
    // One round would carry all of it: more than the precinct takes in one message.
    const backlog = A.saveSince(car.replica.doc, A.getHeads(precinct.replica.doc)).length;
    expect(backlog).toBeGreaterThan(cap);
    wire.online = true;
    wire.largest = 0;
    const received = precinct.sync.stats.receivedMessages;
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(precinct.replica.view().calls.C1?.notes).toHaveLength(150);
    expect(A.getHeads(precinct.replica.doc).sort()).toEqual(A.getHeads(car.replica.doc).sort());
    expect(wire.largest).toBeLessThanOrEqual(cap);
    expect(precinct.sync.stats.rejected).toBe(0);
    // Besides the hello and the opening message, at least three parts carried the changes (each
    // one passed the author guard on its own).
    expect(precinct.sync.stats.receivedMessages - received).toBeGreaterThanOrEqual(5);
    expect(await quiet(wire)).toBe(0);
  }, 60_000);

  it('refuses a change that would grow the board past its cap, leaves no trace and shuts the car out', async () => {
    await start({ maxBoardBytes: 8 * 1024 }, 512 * 1024);
    expect(A.save(precinct.replica.doc).length).toBeLessThan(4 * 1024);
    await car.replica.update((d) => addNote(d, { callId: 'C1', text: 'small and fine' }, asCar(T + 5)));
    await wire.settle();
    expect(precinct.replica.view().calls.C1?.notes.map((n) => n.text)).toEqual(['small and fine']);

    const before = A.getHeads(precinct.replica.doc);
    await offlineNotes(car, 30, 100);
    await wire.settle();
    expect(A.getHeads(precinct.replica.doc)).toEqual(before);
    expect(precinct.sync.stats.oversize).toBe(1);
    expect(errors).toContain('sync refused: the sector board would exceed its size cap');
    expect(await quiet(wire)).toBe(0);
    // After a reconnect it is tried once more, refused again, and the wire falls quiet again.
    await car.sync.hello(PRECINCT);
    await wire.settle();
    expect(precinct.sync.stats.oversize).toBe(2);
    expect(A.getHeads(precinct.replica.doc)).toEqual(before);
    expect(await quiet(wire)).toBe(0);
  }, 60_000);

  it('splits a round into parts that each apply in order, and leaves a small one or a single change whole', () => {
    const base = A.from<{ notes: Record<string, string> }>({ notes: {} });
    let doc = A.clone(base);
    let peer = A.clone(base);
    for (let i = 0; i < 40; i++) doc = A.change(doc, (d) => void (d.notes[`n${i}`] = noise()));
    // The peer speaks first (what it has); our answer then carries the 40 changes.
    const [peerState, hello] = A.generateSyncMessage(peer, A.initSyncState());
    const [, ours] = A.receiveSyncMessage(doc, A.initSyncState(), hello!);
    const [, answer] = A.generateSyncMessage(doc, ours);
    expect(splitSyncMessage(doc, answer!, answer!.length, ours)).toEqual([answer]);
    const parts = splitSyncMessage(doc, answer!, 4096, ours);
    expect(parts.length).toBeGreaterThan(3);
    let ps = peerState;
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      [peer, ps] = A.receiveSyncMessage(peer, ps, part);
      // Causal order: nothing waits for a missing dependency.
      expect(A.getMissingDeps(peer, [])).toEqual([]);
    }
    expect(A.getHeads(peer)).toEqual(A.getHeads(doc));
    expect(Object.keys(peer.notes)).toHaveLength(40);

    let one = A.clone(base);
    one = A.change(one, (d) => {
      for (let j = 0; j < 8; j++) d.notes[`big${j}`] = noise();
    });
    const [, theirs] = A.receiveSyncMessage(one, A.initSyncState(), hello!);
    const [, single] = A.generateSyncMessage(one, theirs);
    expect(single!.length).toBeGreaterThan(1024);
    expect(splitSyncMessage(one, single!, 1024, theirs)).toEqual([single]);
  });

  it('orders a round\'s changes so that each comes after the ones it depends on, keeping an order that already does', () => {
    // Two actors editing concurrently and merging: a history that is a graph, not a chain.
    let a = A.from<{ n: Record<string, number> }>({ n: {} }, { actor: 'aa'.repeat(8) });
    let b = A.clone(a, { actor: 'bb'.repeat(8) });
    for (let i = 0; i < 30; i++) {
      a = A.change(a, (d) => void (d.n[`a${i}`] = i));
      b = A.change(b, (d) => void (d.n[`b${i}`] = i));
      if (i % 5 === 4) [a, b] = [A.merge(a, b), A.merge(b, a)];
    }
    const inOrder = A.getAllChanges(a);
    expect(causalOrder(inOrder)).toEqual(inOrder);
    const hashOf = new Map(inOrder.map((c) => [c, A.decodeChange(c).hash]));
    for (let seed = 1; seed <= 20; seed++) {
      // A seeded shuffle (Lehmer), so a failure can be replayed.
      let x = seed;
      const shuffled = [...inOrder].sort(() => ((x = (x * 48271) % 2147483647) % 3) - 1);
      const ordered = causalOrder(shuffled);
      expect(ordered).toHaveLength(inOrder.length);
      const placed = new Set<string>();
      for (const c of ordered) {
        expect(A.decodeChange(c).deps.every((d) => placed.has(d)), `seed ${seed}`).toBe(true);
        placed.add(hashOf.get(c)!);
      }
    }
  });
});
