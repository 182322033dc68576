// A car following the precinct's epochs on real stores: an announcement opens the new epoch and
// is recorded; a car killed after the carry-over arrived switches at its next start, with its own
// offline edits forwarded and the old epoch kept as trailing until the precinct has it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNote, createCall, type SectorBoard } from '../../../sync/board.js';
import { CarEpochs } from '../../../sync/car-epochs.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { rolloverEpoch } from '../../../sync/epoch.js';
import { PeerSync } from '../../../sync/peer-sync.js';
import { silentLogger } from '../../../sync/schema.js';
import { at, car, dispatcher, hexActor, policy, SECTOR, staffedBoard } from '../../helpers/board-fixtures.js';

const E1 = '2026-11-27';
const E2 = '2026-11-28';
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mdt-car-epochs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function openCar(store: FileDocStore): Promise<CarEpochs> {
  return CarEpochs.open({
    sector: SECTOR,
    store,
    stateFile: join(root, 'epoch.json'),
    initialEpoch: E1,
    home: 'precinct-P1',
    // Out of coverage: nothing is published.
    makeSync: (replica) =>
      new PeerSync({ replica, publisher: { isOnline: () => false, publish: () => Promise.reject(new Error('offline')) }, sector: SECTOR, selfPeer: 'V-3A11', log: silentLogger }) as PeerSync<unknown>,
    forgetSyncStates: () => Promise.resolve(),
    ctx: () => at(car('3A11'), 120),
    self: { vehicleId: 'V-3A11', unitId: '3A11' },
    log: silentLogger,
  });
}

describe('CarEpochs', () => {
  it('switches at start when it was killed after the carry-over arrived, forwarding its offline edits', async () => {
    let precinct: SectorBoard = staffedBoard(hexActor(0xa), E1);
    precinct = createCall(precinct, { cadNumber: 'C1', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 5));
    const boards = join(root, 'boards');
    // The car holds what the precinct had when it lost coverage.
    await new FileDocStore(boards).save(`${SECTOR}@${E1}`, Automerge.clone(precinct, hexActor(0xc)));

    const store = new FileDocStore(boards);
    const carEpochs = await openCar(store);
    expect(carEpochs.epoch).toBe(E1);
    await carEpochs.live.update((d) => addNote(d, { callId: 'C1', text: 'offline: caller gone' }, at(car('3A11'), 30)));
    await carEpochs.announce(E2);
    expect(carEpochs.epoch).toBe(E1); // nothing of E2 yet: the officer stays on E1
    expect(JSON.parse(await readFile(join(root, 'epoch.json'), 'utf8'))).toEqual({ live: E1, announced: E2 });
    await store.close();

    // The carry-over reached the car's disk (a sync), then the car was killed before switching.
    const { next } = rolloverEpoch(precinct, E2, at(policy, 60), hexActor(0xb));
    const disk = new FileDocStore(boards);
    const e2 = (await disk.load(`${SECTOR}@${E2}`, hexActor(0xd)))!;
    await disk.save(`${SECTOR}@${E2}`, Automerge.merge(e2, next));
    await disk.close();

    const again = await openCar(new FileDocStore(boards));
    expect(again.epoch).toBe(E2);
    expect(again.live.view()).toMatchObject({ epoch: E2, openedFrom: { epoch: E1 } });
    expect(again.live.view().calls.C1?.notes.map((n) => n.text)).toEqual(['offline: caller gone']);
    expect(again.pendingDocIds()).toEqual([`${SECTOR}@${E1}`]);
    expect(JSON.parse(await readFile(join(root, 'epoch.json'), 'utf8'))).toEqual({ live: E2 });
  });

  it('opens a trailing epoch found on disk only when asked (after the screen), and syncs it from then on', async () => {
    const precinct: SectorBoard = staffedBoard(hexActor(0xa), E1);
    const { closed, next } = rolloverEpoch(precinct, E2, at(policy, 60), hexActor(0xb));
    const boards = join(root, 'boards');
    const disk = new FileDocStore(boards);
    await disk.save(`${SECTOR}@${E1}`, Automerge.clone(closed, hexActor(0xc)));
    await disk.save(`${SECTOR}@${E2}`, Automerge.clone(next, hexActor(0xd)));
    await disk.close();
    await writeFile(join(root, 'epoch.json'), JSON.stringify({ live: E2 }));

    const carEpochs = await openCar(new FileDocStore(boards));
    expect(carEpochs.epoch).toBe(E2);
    expect(carEpochs.pendingDocIds()).toEqual([]);
    await carEpochs.openTrailing();
    expect(carEpochs.pendingDocIds()).toEqual([`${SECTOR}@${E1}`]);
    // Once only: a second call opens nothing again.
    await carEpochs.openTrailing();
    expect(carEpochs.pendingDocIds()).toEqual([`${SECTOR}@${E1}`]);
  });
});
