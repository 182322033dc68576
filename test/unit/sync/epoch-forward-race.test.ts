// The soak's lost changes: a car and its precinct both forward the car's late edit across a cut,
// each before seeing the other's copy. The real PrecinctEpochs (author guard on) and CarEpochs
// sync over an in-process wire that can hold the car's outgoing changes, so the race is played
// in a fixed order: the car's edit on the closed epoch reaches the precinct (which forwards it)
// before the car's own forward of it into the new epoch does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCall, setUnitStatus, type SectorBoard } from '../../../sync/board.js';
import { CarEpochs } from '../../../sync/car-epochs.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { decodeEnvelope } from '../../../sync/envelope.js';
import { PeerSync } from '../../../sync/peer-sync.js';
import { PrecinctEpochs } from '../../../sync/precinct-epochs.js';
import { silentLogger } from '../../../sync/schema.js';
import { MemorySyncStateStore } from '../../../sync/sync-state-store.js';
import { parseTopic } from '../../../sync/topics.js';
import { at, car, dispatcher, hexActor, SECTOR, staffedBoard, T0 } from '../../helpers/board-fixtures.js';

const E1 = '2026-11-27';
const E2 = '2026-11-28';
const PEER = 'precinct-P1';
const VEHICLE = 'V-3A11';

interface Held {
  topic: string;
  payload: Buffer;
  docId: string;
}

/** Delivers like a QoS 1 broker (in order, one message per macrotask); can hold the car's changes. */
class Link {
  holdCarChanges = false;
  readonly held: Held[] = [];
  toCar: ((topic: string, payload: Buffer) => Promise<void>) | undefined;
  toPrecinct: ((topic: string, payload: Buffer) => Promise<void>) | undefined;
  private chain: Promise<void> = Promise.resolve();

  publisher(side: 'car' | 'precinct') {
    return {
      isOnline: () => true,
      publish: (topic: string, payload: Buffer): Promise<void> => {
        if (parseTopic(topic)?.kind !== 'sync') return Promise.resolve(); // announcements: the test calls announce()
        const env = decodeEnvelope(payload);
        const carries = env.kind === 'change' || env.kind === 'compact' || (env.kind === 'sync' && Automerge.decodeSyncMessage(env.body).changes.length > 0);
        if (side === 'car' && this.holdCarChanges && carries) {
          this.held.push({ topic, payload, docId: env.docId });
          return Promise.resolve();
        }
        this.deliver(side === 'car' ? this.toPrecinct : this.toCar, topic, payload);
        return Promise.resolve();
      },
    };
  }

  release(pick: (h: Held) => boolean): void {
    for (const h of this.held.filter(pick)) {
      this.held.splice(this.held.indexOf(h), 1);
      this.deliver(this.toPrecinct, h.topic, h.payload);
    }
  }

  private deliver(to: ((topic: string, payload: Buffer) => Promise<void>) | undefined, topic: string, payload: Buffer): void {
    this.chain = this.chain.then(() => new Promise<void>((r) => setImmediate(r))).then(() => to?.(topic, payload));
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const c = this.chain;
      await c;
      await new Promise((r) => setTimeout(r, 10));
      if (c === this.chain) return;
    }
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mdt-epoch-race-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function setup() {
  const link = new Link();
  const board: SectorBoard = staffedBoard(hexActor(1), E1);
  const boards = new FileDocStore(join(root, 'precinct'));
  await boards.save(`${SECTOR}@${E1}`, board);
  const states = new MemorySyncStateStore();
  const precinctPublisher = link.publisher('precinct');
  const refusals: string[] = [];
  const log = { ...silentLogger, error: (o: object, m?: string) => void refusals.push(`${m ?? ''} ${JSON.stringify(o)}`) };
  const precinct = await PrecinctEpochs.open({
    sector: SECTOR,
    precinct: 'P1',
    store: boards,
    archive: new FileDocStore(join(root, 'archive')),
    publisher: precinctPublisher,
    makeSync: (replica) =>
      new PeerSync({
        replica,
        publisher: precinctPublisher,
        sector: SECTOR,
        selfPeer: PEER,
        log,
        stateStore: states,
        boundVehicle: (p) => (p === VEHICLE ? { vehicleId: VEHICLE, unitId: '3A11' } : undefined),
      }) as PeerSync<unknown>,
    forgetSyncStates: (docId) => states.forgetDoc(docId),
    initialEpoch: E1,
    keepClosedMs: 3_600_000,
    log,
  });
  const carStore = new FileDocStore(join(root, 'car'));
  await carStore.save(`${SECTOR}@${E1}`, Automerge.clone(board, hexActor(0xc)));
  const carPublisher = link.publisher('car');
  let minute = 10;
  const carEpochs = await CarEpochs.open({
    sector: SECTOR,
    store: carStore,
    stateFile: join(root, 'epoch.json'),
    initialEpoch: E1,
    home: PEER,
    makeSync: (replica) => new PeerSync({ replica, publisher: carPublisher, sector: SECTOR, selfPeer: VEHICLE, log: silentLogger, allowPeer: (p) => p === PEER }) as PeerSync<unknown>,
    forgetSyncStates: () => Promise.resolve(),
    ctx: () => at(car('3A11'), minute++),
    self: { vehicleId: VEHICLE, unitId: '3A11' },
    log: silentLogger,
  });
  link.toPrecinct = (topic, payload) => precinct.route(topic, payload);
  link.toCar = (topic, payload) => carEpochs.route(topic, payload);
  const status = (status: 'available' | 'out_of_service') =>
    carEpochs.live.update((d) => setUnitStatus(d, { unitId: '3A11', status, ...(status === 'out_of_service' ? { reason: 'meal' } : {}) }, at(car('3A11'), minute++)));
  return { link, precinct, carEpochs, status, refusals };
}

describe('a late edit forwarded by both the car and the precinct', () => {
  it('does not shut the car out of the new epoch: its later changes all reach the precinct', async () => {
    const { link, precinct, carEpochs, status, refusals } = await setup();
    await carEpochs.hello();
    await link.settle();

    await precinct.rollover(T0 + 86_400_000, E2);
    // The car has not heard of the cut: the officer's meal break lands on the closed epoch, and
    // its sync is slow to leave the car.
    link.holdCarChanges = true;
    await status('out_of_service');
    await carEpochs.announce(E2);
    await link.settle();
    expect(carEpochs.epoch).toBe(E2); // switched, with its own forward of the break waiting too
    expect(new Set(link.held.map((h) => h.docId))).toEqual(new Set([`${SECTOR}@${E1}`, `${SECTOR}@${E2}`]));

    // The dispatcher keeps working meanwhile: the precinct's forward, made after that, wins the
    // conflict over the car's concurrent copy (Automerge orders by op counter, then actor).
    await precinct.live.update((d) => createCall(d, { cadNumber: 'C9', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 20)));
    // The break reaches the closed epoch first: the precinct forwards it into the new one...
    link.release((h) => h.docId === `${SECTOR}@${E1}`);
    await link.settle();
    expect(precinct.live.view().units['3A11']?.status).toBe('out_of_service');
    // ...then the car's copy of that forward arrives, concurrent with the precinct's.
    link.holdCarChanges = false;
    link.release(() => true);
    await link.settle();

    // Back from the meal, and a reconnect for good measure.
    await status('available');
    await link.settle();
    await carEpochs.hello();
    await link.settle();

    expect(refusals).toEqual([]);
    expect(precinct.live.view().units['3A11']?.status).toBe('available');
    expect(Automerge.hasHeads(precinct.live.doc, Automerge.getHeads(carEpochs.live.doc))).toBe(true);
    // The car's closed epoch is all at the precinct: the car dropped it.
    expect(carEpochs.pendingDocIds()).toEqual([]);
  });
});
