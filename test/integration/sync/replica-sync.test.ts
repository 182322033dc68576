// Two SectorReplicas (a precinct and a car), each on its own FileDocStore, exchanging Automerge
// sync messages through update(): every received change is durable before it is acknowledged,
// and after a restart both sides hold the same board. Then the car goes offline across an epoch
// cut and its offline work arrives in the new epoch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptCall, addNote, assignUnit, createCall, readCall, setUnitStatus, signOn, upsertUnit, type SectorBoard } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { forwardLateEdits, rolloverEpoch } from '../../../sync/epoch.js';
import { SectorReplica } from '../../../sync/replica.js';
import { at, car, dispatcher, hexActor, policy, SECTOR } from '../../helpers/board-fixtures.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mdt-replica-sync-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the Automerge sync protocol between two replicas until neither has anything to send. */
async function sync(a: SectorReplica, b: SectorReplica, states: { a: Automerge.SyncState; b: Automerge.SyncState }): Promise<number> {
  let messages = 0;
  for (let round = 0; round < 20; round++) {
    let sent = false;
    const [sa, toB] = Automerge.generateSyncMessage(a.doc, states.a);
    states.a = sa;
    if (toB) {
      sent = true;
      messages++;
      await b.update((d) => {
        const [next, sb] = Automerge.receiveSyncMessage(d, states.b, toB);
        states.b = sb;
        return next;
      });
    }
    const [sb2, toA] = Automerge.generateSyncMessage(b.doc, states.b);
    states.b = sb2;
    if (toA) {
      sent = true;
      messages++;
      await a.update((d) => {
        const [next, sa2] = Automerge.receiveSyncMessage(d, states.a, toA);
        states.a = sa2;
        return next;
      });
    }
    if (!sent) return messages;
  }
  throw new Error('sync did not settle');
}

const open = (name: string, epoch: string, actor: number) =>
  SectorReplica.open({ store: new FileDocStore(join(root, name)), sector: SECTOR, epoch, actorId: hexActor(actor) });

describe('replicas over the sync protocol', () => {
  it('independently created boards sync, persist what they receive, and reopen equal', async () => {
    const precinct = await open('precinct', 'd1', 0xa);
    const carRep = await open('car', 'd1', 0xc);
    await precinct.update((d) => upsertUnit(d, { id: '3A11', callSign: '3-Adam-11', homeBeat: 'B31', mode: 'car' }, at(dispatcher, 0)));
    const states = { a: Automerge.initSyncState(), b: Automerge.initSyncState() };
    await sync(precinct, carRep, states);
    await carRep.update((d) => signOn(d, { unitId: '3A11', officers: ['Ofc. Reyes'] }, at(car('3A11'), 1)));
    await sync(precinct, carRep, states);
    await precinct.update((d) => createCall(d, { cadNumber: 'C1', type: '11R', priority: 2, address: '1 Main St', beat: 'B31' }, at(dispatcher, 2)));
    await precinct.update((d) => assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(policy, 2)));
    await sync(precinct, carRep, states);
    await carRep.update((d) => acceptCall(d, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 3)));
    await sync(precinct, carRep, states);
    expect(precinct.view()).toEqual(carRep.view());
    expect(precinct.view().calls.C1?.state).toBe('en_route');

    // Restart both: what each received through sync was durable.
    const precinct2 = await open('precinct', 'd1', 0xa);
    const car2 = await open('car', 'd1', 0xc);
    expect(precinct2.view()).toEqual(car2.view());
    expect(Automerge.getHeads(precinct2.doc).sort()).toEqual(Automerge.getHeads(precinct.doc).sort());
  });

  it('a car offline across the cut: its offline work reaches the new epoch through the stores', async () => {
    const p1 = await open('precinct', 'd1', 0xa);
    const c1 = await open('car', 'd1', 0xc);
    await p1.update((d) => upsertUnit(d, { id: '3A11', callSign: '3-Adam-11', homeBeat: 'B31', mode: 'car' }, at(dispatcher, 0)));
    await p1.update((d) => signOn(d, { unitId: '3A11', officers: ['Ofc. Reyes'] }, at(dispatcher, 0)));
    await p1.update((d) => createCall(d, { cadNumber: 'C1', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 1)));
    await p1.update((d) => assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(policy, 1)));
    const s1 = { a: Automerge.initSyncState(), b: Automerge.initSyncState() };
    await sync(p1, c1, s1);

    // Offline work on the car's day-1 board.
    await c1.update((d) => setUnitStatus(d, { unitId: '3A11', status: 'on_scene' }, at(car('3A11'), 70)));
    await c1.update((d) => addNote(d, { callId: 'C1', text: 'Parties separated, no injuries' }, at(car('3A11'), 71)));

    // The precinct cuts: closes day 1 in its replica, opens day 2 from the carry-over.
    let next: SectorBoard | undefined;
    await p1.update((d) => {
      const cut = rolloverEpoch(d, 'd2', at(policy, 60), hexActor(0xa));
      next = cut.next;
      return cut.closed;
    });
    const p2Store = new FileDocStore(join(root, 'precinct'));
    await p2Store.save(`${SECTOR}@d2`, next as SectorBoard);
    await p2Store.close();
    const p2 = await open('precinct', 'd2', 0xa);
    await p2.update((d) => addNote(d, { callId: 'C1', text: 'Caller called again' }, at(dispatcher, 65)));

    // The car reconnects: day 1 syncs, the precinct forwards, the car then opens day 2.
    await sync(p1, c1, s1);
    expect(c1.view().closed?.nextEpoch).toBe('d2');
    await p2.update((d) => forwardLateEdits(p1.doc, d, at(policy, 75)));
    const c2 = await open('car', 'd2', 0xc);
    await sync(p2, c2, { a: Automerge.initSyncState(), b: Automerge.initSyncState() });

    const call = readCall(c2.doc, 'C1');
    expect(call?.notes.map((n) => n.text)).toEqual(['Caller called again', 'Parties separated, no injuries']);
    expect(call?.state).toBe('on_scene');
    expect(c2.view()).toEqual(p2.view());
  });
});
