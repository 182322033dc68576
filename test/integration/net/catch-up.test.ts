// A car that made more than the precinct accepts in one sync message (MAX_CAR_SYNC_PAYLOAD) while
// offline catches up through the real daemons and a real aedes broker: its round goes out in
// bounded parts, each passing the precinct's author guard and size cap.
import { randomBytes } from 'node:crypto';
import * as A from '@automerge/automerge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { MAX_CAR_SYNC_PAYLOAD } from '../../../sync/envelope.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { createFleet, postCall, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';

const NOTES = 2600;

describe('catch-up of a car with more than one sync message of changes', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let car: RunningVehicle;

  beforeAll(async () => {
    fleet = await createFleet();
    precinct = await fleet.addPrecinct({ id: 'N', sectors: ['B'] });
    car = await fleet.addVehicle({ precinct, vehicleId: 'V41', unit: 'NB1', beat: 'B1' });
    await waitFor(() => car.transport.isOnline(), { what: 'car online' });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('sends a backlog over the per-message cap in bounded parts and the precinct takes all of it', async () => {
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Prowler', priority: 3, address: '5th Ave NW', beat: 'B1' });
    await waitFor(() => car.replica.view().calls[id], { what: 'call on the car' });
    const sb = precinct.sectors.get('B')!;
    await car.transport.close(); // a long time out of coverage
    const by: OpContext['by'] = { kind: 'vehicle', vehicleId: 'V41' as VehicleId, unitId: 'NB1' as UnitId };
    const t0 = Date.now();
    await car.replica.update((d) => {
      let x = d;
      // Random text does not compress: the backlog's size on the wire is what it looks like.
      for (let i = 0; i < NOTES; i++) x = board.addNote(x, { callId: id, text: randomBytes(375).toString('base64') }, { by, at: t0 + i });
      return x;
    });
    const backlog = A.saveSince(car.replica.doc, A.getHeads(sb.replica.doc)).length;
    expect(backlog).toBeGreaterThan(MAX_CAR_SYNC_PAYLOAD);

    const before = { ...sb.sync.stats };
    car.transport.start();
    await waitFor(() => (sb.replica.view().calls[id]?.notes.length ?? 0) === NOTES, { what: 'every note at the precinct', timeoutMs: 120_000 });
    expect(sb.sync.stats.rejected).toBe(before.rejected);
    expect(sb.sync.stats.forged).toBe(before.forged);
    // Besides the hello and the opening message, more than one part carried the backlog.
    expect(sb.sync.stats.receivedMessages - before.receivedMessages).toBeGreaterThanOrEqual(4);
    await waitFor(() => A.getHeads(car.replica.doc).sort().join() === A.getHeads(sb.replica.doc).sort().join(), { what: 'same heads on car and precinct' });
  }, 240_000);
});
