// Transfers between sector boards through the real precinct: an emergency with every unit of its
// sector busy is answered from the adjacent sector; the call appears on that sector's board (and
// on its car, over MQTT) with a reference to where it came from, and the home sector's car sees
// it as transferred, not cancelled. A dispatcher then transfers a held call by hand, and a CAD
// update raises a held call to P1, dispatched at once. Last, a transfer cut in two by a station
// stop is completed when the station starts again.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { SectorReplica } from '../../../sync/replica.js';
import type { CallView, OpContext, SectorId, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startScheduledPrecinct } from './scheduled-precinct.js';

describe('transfer between sector boards, end to end', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let bCar: RunningVehicle; // the beat officer of B1, the only unit of sector B signed on
  let jCar: RunningVehicle; // NJ11 of the adjacent sector J
  let token: string;
  let b1: string;

  const carCtx = (v: RunningVehicle): OpContext => ({ by: { kind: 'vehicle', vehicleId: v.screen.identity.vehicleId as VehicleId, unitId: v.screen.identity.unitId as UnitId }, at: Date.now() });
  const api = async (method: string, path: string, body: unknown): Promise<{ status: number; json: { sector: string; call: CallView; decision: string | null } }> => {
    const res = await fetch(new URL(path, precinct.apiUrl), { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { sector: string; call: CallView; decision: string | null } };
  };
  const station = (sector: string) => precinct.sectors.get(sector)!.replica.view();

  beforeAll(async () => {
    fleet = await createFleet();
    const scheduled = await startScheduledPrecinct(fleet, { holdMinutes: 30, lateReportMinutes: 60 });
    precinct = scheduled.precinct;
    b1 = scheduled.officer('B1');
    bCar = await fleet.addVehicle({ precinct, vehicleId: 'V3101', unit: b1, beat: 'B1' });
    jCar = await fleet.addVehicle({ precinct, vehicleId: 'V3201', unit: 'NJ11', beat: 'J1' });
    token = await fleet.operatorToken(precinct);
    for (const car of [bCar, jCar]) {
      await waitFor(() => car.transport.isOnline(), { what: 'car online' });
      await car.replica.update((d) => board.signOn(d, { unitId: car.screen.identity.unitId, officers: [`Ofc. ${car.screen.identity.unitId}`] }, carCtx(car)));
    }
    await waitFor(() => station('B').units[b1]?.status === 'available' && station('J').units.NJ11?.status === 'available', { what: 'both units available at the station', timeoutMs: 20_000 });
    // The B1 officer is sent to a call of its own beat: sector B has nobody else free.
    const first = await api('POST', '/api/v1/calls', { cadNumber: 'T-1', type: 'Burglary (cold)', priority: 3, address: '1200 NW Market St', beat: 'B1' });
    expect(first.json.call.assigned).toEqual([b1]);
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('sends an emergency to the adjacent sector\'s car as a transfer, and both cars see their board\'s side of it', async () => {
    const { status, json } = await api('POST', '/api/v1/calls', { cadNumber: 'T-2', type: 'Assault in progress', priority: 1, address: '2000 NW 57th St', beat: 'B2' });
    expect(status).toBe(201);
    expect(json.sector).toBe('J');
    expect(json.call).toMatchObject({ assigned: ['NJ11'], transferredFrom: { sector: 'B', callId: 'T-2' }, beat: 'B2', priority: 1 });
    expect(json.decision).toMatch(/^dispatched to NJ11 of adjacent sector J: P1 emergency, every unit of sector B busy/);

    const onJ = await waitFor(() => {
      const c = jCar.replica.view().calls['T-2'];
      return c?.assigned[0] === 'NJ11' ? c : undefined;
    }, { what: 'the transferred call assigned on the J car', timeoutMs: 15_000 });
    expect(onJ.transferredFrom).toMatchObject({ sector: 'B', callId: 'T-2' });
    expect(jCar.replica.view().units.NJ11?.callId).toBe('T-2');

    const onB = await waitFor(() => {
      const c = bCar.replica.view().calls['T-2'];
      return c?.state === 'transferred' ? c : undefined;
    }, { what: 'the call shown as transferred on the B car', timeoutMs: 15_000 });
    expect(onB.transferredTo).toMatchObject({ sector: 'J', by: { kind: 'policy', precinct: 'N' } });
    expect(onB.cancelledAt).toBeUndefined();
    // The J officer works it to the end on J's board.
    await jCar.replica.update((d) => board.acceptCall(d, { callId: 'T-2', unitId: 'NJ11' }, carCtx(jCar)));
    await jCar.replica.update((d) => board.clearCall(d, { callId: 'T-2', disposition: 'RPT' }, carCtx(jCar)));
    await waitFor(() => station('J').calls['T-2']?.state === 'cleared' && station('J').units.NJ11?.status === 'available', { what: 'J call cleared at the station', timeoutMs: 15_000 });
  });

  it('raises a held call to P1 by a CAD update: dispatched at once, to the adjacent sector', async () => {
    const held = await api('POST', '/api/v1/calls', { cadNumber: 'T-3', type: 'Suspicious person', priority: 3, address: '5400 Ballard Ave NW', beat: 'B1' });
    expect(held.json.call.state).toBe('held');
    const { status, json } = await api('PATCH', '/api/v1/calls/T-3', { priority: 1, reason: 'caller sees a gun' });
    expect(status).toBe(200);
    expect(json.sector).toBe('J');
    expect(json.call.assigned).toEqual(['NJ11']);
    expect(json.decision).toMatch(/\(after update by test-dispatcher: priority 3 -> 1\)$/);
    // The home side kept the update in its history and shows where the call went.
    const home = station('B').calls['T-3']!;
    expect(home.state).toBe('transferred');
    expect(home.history.map((h) => h.event)).toEqual(['created', 'held', 'updated', 'transferred']);
    await waitFor(() => jCar.replica.view().calls['T-3']?.assigned[0] === 'NJ11', { what: 'upgraded call on the J car', timeoutMs: 15_000 });
  });

  it('lets a dispatcher transfer a held call by hand; it waits on the receiving board, not the old one', async () => {
    const held = await api('POST', '/api/v1/calls', { cadNumber: 'T-4', type: 'Noise complaint', priority: 4, address: '6000 24th Ave NW', beat: 'B1' });
    expect(held.json.call.state).toBe('held');
    const { status, json } = await api('POST', '/api/v1/calls/T-4/transfer', { toSector: 'J', reason: 'J is covering B1 tonight' });
    expect(status).toBe(200);
    expect(json.sector).toBe('J');
    expect(json.call.transferredFrom).toMatchObject({ sector: 'B' });
    expect(station('B').calls['T-4']).toMatchObject({ state: 'transferred', transferredTo: { sector: 'J', reason: 'transferred by test-dispatcher (dispatcher) to sector J: J is covering B1 tonight' } });
    expect(station('B').units[b1]?.stacked).not.toContain('T-4');
    await waitFor(() => jCar.replica.view().calls['T-4']?.transferredFrom?.sector === 'B', { what: 'manually transferred call on the J car', timeoutMs: 15_000 });
  });

  it('completes a transfer that a precinct stop cut between its two writes, when the station starts again', async () => {
    const held = await api('POST', '/api/v1/calls', { cadNumber: 'T-5', type: 'Theft', priority: 4, address: '1400 NW 65th St', beat: 'B1' });
    expect(held.json.call.state).toBe('held');
    await precinct.stop();
    fleet.precincts.splice(fleet.precincts.indexOf(precinct), 1);

    // On the stopped station's disk: the receiving board got the call (write 1), the sending board
    // did not hear of it (write 2 never happened).
    const store = new FileDocStore(join(fleet.dir, 'precinct-N', 'boards'));
    const j = await SectorReplica.open({ store, sector: 'J' as SectorId, epoch: '1', actorId: 'fe'.repeat(16) });
    const call = { id: 'T-5', cadNumber: 'T-5', type: 'Theft', priority: 4 as const, address: '1400 NW 65th St', beat: 'B1', receivedAt: held.json.call.receivedAt };
    await j.update((d) => board.receiveTransfer(d, { call, from: { sector: 'B' }, reason: 'J is covering B1 tonight' }, { by: { kind: 'operator', operatorId: 'test-dispatcher', role: 'dispatcher' }, at: Date.now() }));
    await store.close();

    precinct = (await startScheduledPrecinct(fleet)).precinct;
    const home = await waitFor(() => {
      const c = station('B').calls['T-5'];
      return c?.state === 'transferred' ? c : undefined;
    }, { what: 'the home copy marked transferred after the restart', timeoutMs: 15_000 });
    expect(home.transferredTo).toMatchObject({ sector: 'J', reason: 'J is covering B1 tonight (completed after a restart)' });
    expect(home.assigned).toEqual([]);
    expect(station('J').calls['T-5']).toMatchObject({ transferredFrom: { sector: 'B', callId: 'T-5' } });
  });
});
