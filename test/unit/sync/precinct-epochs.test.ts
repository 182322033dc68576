// The precinct's epoch steps on real stores: a cut is restart-safe at every step (the station is
// "killed" by a store that fails the next write, then reopened on the same directory), late edits
// on a closed epoch are forwarded, and an archived epoch is reopened for a car that comes back late.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNote, createCall, readBoard, type SectorBoard } from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { parseEpochAnnouncement } from '../../../sync/epoch-announce.js';
import { PeerSync } from '../../../sync/peer-sync.js';
import { PrecinctEpochs } from '../../../sync/precinct-epochs.js';
import { CapturingPublisher } from '../../helpers/capturing-publisher.js';
import { EpochReplica } from '../../../sync/replica.js';
import { MemorySyncStateStore } from '../../../sync/sync-state-store.js';
import { silentLogger } from '../../../sync/schema.js';
import { topics } from '../../../sync/topics.js';
import { at, car, dispatcher, hexActor, SECTOR, staffedBoard, T0 } from '../../helpers/board-fixtures.js';

const PEER = 'precinct-P1';
const FIRST = '2026-11-27';
const NEXT = '2026-11-28';

/** A store that dies (throws) at a chosen write, as a SIGKILL between two durable steps would. */
class DyingStore extends FileDocStore {
  dieOn: ((op: 'save' | 'remove', docId: string) => boolean) | undefined;
  override save(docId: string, doc: SectorBoard): Promise<void> {
    if (this.dieOn?.('save', docId)) return Promise.reject(new Error(`killed before saving ${docId}`));
    return super.save(docId, doc);
  }
  override remove(docId: string): Promise<void> {
    if (this.dieOn?.('remove', docId)) return Promise.reject(new Error(`killed before removing ${docId}`));
    return super.remove(docId);
  }
}

/** Captures what the station publishes; "online" so announcements and sync go out. */
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mdt-precinct-epochs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The station's first epoch on disk: staffed, one open call C1 and one note. */
async function seed(): Promise<void> {
  const store = new FileDocStore(join(root, 'boards'));
  let d = staffedBoard(hexActor(1), FIRST);
  d = createCall(d, { cadNumber: 'C1', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 5));
  await store.save(`${SECTOR}@${FIRST}`, d);
  await store.close();
}

function station(opts: { store?: FileDocStore; publisher?: CapturingPublisher; now?: () => number } = {}) {
  const store = opts.store ?? new FileDocStore(join(root, 'boards'));
  const publisher = opts.publisher ?? new CapturingPublisher();
  const syncStates = new MemorySyncStateStore();
  const open = () =>
    PrecinctEpochs.open({
      sector: SECTOR,
      precinct: 'P1',
      store,
      archive: new FileDocStore(join(root, 'archive')),
      publisher,
      makeSync: (replica) => new PeerSync({ replica, publisher, sector: SECTOR, selfPeer: PEER, log: silentLogger, stateStore: syncStates }) as PeerSync<unknown>,
      forgetSyncStates: (docId) => syncStates.forgetDoc(docId),
      initialEpoch: FIRST,
      keepClosedMs: 3_600_000,
      log: silentLogger,
      now: opts.now ?? (() => T0 + 86_400_000),
    });
  return { store, publisher, syncStates, open };
}

describe('PrecinctEpochs', () => {
  it('cuts, switches the live board and announces the new epoch retained', async () => {
    await seed();
    const { open, publisher } = station();
    const epochs = await open();
    const seen: string[] = [];
    epochs.live.on('change', (v) => seen.push(v.epoch));
    const carried = await epochs.rollover(T0 + 86_400_000, NEXT);
    expect(carried?.calls).toEqual(['C1']);
    expect(epochs.epoch).toBe(NEXT);
    expect(seen).toContain(NEXT);
    expect(epochs.live.view()).toMatchObject({ epoch: NEXT, openedFrom: { epoch: FIRST }, calls: { C1: { state: 'pending' } } });
    const ann = publisher.sent.filter((m) => m.topic === topics.epoch(SECTOR, 'P1'));
    expect(ann.at(-1)?.retain).toBe(true);
    expect(parseEpochAnnouncement(ann.at(-1)!.payload)).toMatchObject({ epoch: NEXT, previous: FIRST, sector: SECTOR, precinct: 'P1' });
    // Rolling into the live epoch again is a no-op, and the default id is the service day.
    expect(await epochs.rollover(T0 + 86_400_000, NEXT)).toBeUndefined();
  });

  it.each([
    ['after the close marker, before the new epoch is on disk', 1],
    ['after the new epoch’s genesis, before its carry-over', 2],
  ])('finishes a cut interrupted %s', async (_what, savesUntilDeath) => {
    await seed();
    const store = new DyingStore(join(root, 'boards'));
    let saves = 0;
    store.dieOn = (op, docId) => op === 'save' && docId === `${SECTOR}@${NEXT}` && ++saves >= savesUntilDeath;
    const first = await station({ store }).open();
    await expect(first.rollover(T0 + 86_400_000, NEXT)).rejects.toThrow(/killed/);
    await store.close();

    // The restarted station: same directory, fresh objects.
    const again = await station().open();
    expect(again.epoch).toBe(NEXT);
    expect(again.live.view()).toMatchObject({ openedFrom: { epoch: FIRST }, calls: { C1: { state: 'pending' } } });
    expect(again.liveDocIds().sort()).toEqual([`${SECTOR}@${FIRST}`, `${SECTOR}@${NEXT}`]);
    expect(again.epochReplica(`${SECTOR}@${FIRST}`)!.view().closed?.nextEpoch).toBe(NEXT);
  });

  it('forwards a late edit on the closed epoch, archives it after the grace period, even when killed mid-archive', async () => {
    await seed();
    const store = new DyingStore(join(root, 'boards'));
    const first = await station({ store }).open();
    await first.rollover(T0 + 86_400_000, NEXT);
    // A late note reaches the closed epoch (as a sync from a late car would).
    const closed = first.epochReplica(`${SECTOR}@${FIRST}`)!;
    await closed.update((d) => addNote(d, { callId: 'C1', text: 'late from the car' }, at(car('3A11'), 60)));
    await waitUntil(() => first.live.view().calls.C1?.notes.some((n) => n.text === 'late from the car'));

    // Not due yet: the late edit restarted the grace period.
    expect(await first.archiveDue(T0 + 86_400_000 + 10 * 60_000)).toEqual([]);
    const due = T0 + 86_400_000 + 2 * 3_600_000;
    store.dieOn = (op) => op === 'remove';
    await expect(first.archiveDue(due)).rejects.toThrow(/killed/);
    await store.close();

    // Restarted: the closed epoch is still live (its removal never happened) and is archived again.
    const again = await station().open();
    expect(again.liveDocIds()).toContain(`${SECTOR}@${FIRST}`);
    expect(await again.archiveDue(due)).toEqual([`${SECTOR}@${FIRST}`]);
    expect(again.liveDocIds()).toEqual([`${SECTOR}@${NEXT}`]);
    const archive = new FileDocStore(join(root, 'archive'));
    const archived = readBoard((await archive.load(`${SECTOR}@${FIRST}`))!);
    expect(archived.closed?.nextEpoch).toBe(NEXT);
    expect(archived.calls.C1?.notes.map((n) => n.text)).toContain('late from the car');
  });

  it('reopens an archived epoch for a car that comes back days late, and forwards its edits', async () => {
    await seed();
    // The car's copy of the first epoch, taken before the cut, with a note written offline.
    const carStore = new FileDocStore(join(root, 'car'));
    const snapshot = (await new FileDocStore(join(root, 'boards')).load(`${SECTOR}@${FIRST}`))!;
    await carStore.save(`${SECTOR}@${FIRST}`, Automerge.clone(snapshot, hexActor(0xc)));
    const carReplica = await EpochReplica.open({ store: carStore, sector: SECTOR, epoch: FIRST, actorId: hexActor(0xc) });
    await carReplica.update((d) => addNote(d, { callId: 'C1', text: 'written offline' }, at(car('3A11'), 30)));

    const { open, publisher, syncStates } = station({ now: () => Date.now() });
    const epochs = await open();
    await epochs.rollover(Date.now(), NEXT);
    expect(await epochs.archiveDue(Date.now() + 2 * 3_600_000)).toEqual([`${SECTOR}@${FIRST}`]);
    expect(epochs.liveDocIds()).toEqual([`${SECTOR}@${NEXT}`]);

    // The car reconnects: its sync for the archived epoch goes through the wire both ways.
    const toPrecinct: Array<{ topic: string; payload: Buffer }> = [];
    const carSync = new PeerSync({
      replica: carReplica,
      publisher: { isOnline: () => true, publish: (topic, payload) => (toPrecinct.push({ topic, payload }), Promise.resolve()) },
      sector: SECTOR,
      selfPeer: 'V1',
      log: silentLogger,
    });
    await carSync.hello(PEER);
    for (let i = 0; i < 50 && !epochs.live.view().calls.C1?.notes.some((n) => n.text === 'written offline'); i++) {
      for (const m of toPrecinct.splice(0)) await epochs.route(m.topic, m.payload);
      for (const m of publisher.sent.splice(0)) if (m.topic === topics.sync(SECTOR, PEER, 'V1')) await carSync.handle(m.topic, m.payload);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(epochs.liveDocIds().sort()).toEqual([`${SECTOR}@${FIRST}`, `${SECTOR}@${NEXT}`]);
    expect(epochs.live.view().calls.C1?.notes.map((n) => n.text)).toEqual(['written offline']);
    expect(carReplica.view().closed?.nextEpoch).toBe(NEXT);
    // Archived again later, its per-car sync state goes with it (persisted once the edits are on disk).
    await waitUntil(() => syncStates.load(`${SECTOR}@${FIRST}`, 'V1') !== undefined);
    expect(await epochs.archiveDue(Date.now() + 2 * 3_600_000)).toEqual([`${SECTOR}@${FIRST}`]);
    expect(syncStates.load(`${SECTOR}@${FIRST}`, 'V1')).toBeUndefined();
  });
});

async function waitUntil(cond: () => boolean | undefined): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}
