// Dispatch through the real precinct: CAD API -> sector board -> policy decision -> MQTT sync ->
// the car's own board shows its assignment. Then the beat officer clears the call on the car and
// the call held for it arrives the moment the change reaches the station.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as board from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startScheduledPrecinct } from './scheduled-precinct.js';

describe('dispatch at the precinct, end to end', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let beatOfficer: RunningVehicle;
  let other: RunningVehicle;
  let token: string;
  let b1: string; // the beat officers of B1 and B2 on duty now, by the schedule
  let b2: string;

  const carCtx = (v: RunningVehicle): OpContext => ({ by: { kind: 'vehicle', vehicleId: v.screen.identity.vehicleId as VehicleId, unitId: v.screen.identity.unitId as UnitId }, at: Date.now() });
  const post = async (body: unknown) => {
    const res = await fetch(new URL('/api/v1/calls', precinct.apiUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; decision: string; call: { state: string } };
  };
  const station = () => precinct.sectors.get('B')!.replica.view();

  beforeAll(async () => {
    fleet = await createFleet();
    const scheduled = await startScheduledPrecinct(fleet);
    precinct = scheduled.precinct;
    b1 = scheduled.officer('B1');
    b2 = scheduled.officer('B2');
    beatOfficer = await fleet.addVehicle({ precinct, vehicleId: 'V3001', unit: b1, beat: 'B1' });
    other = await fleet.addVehicle({ precinct, vehicleId: 'V3002', unit: b2, beat: 'B2' });
    token = await fleet.operatorToken(precinct);
    for (const car of [beatOfficer, other]) {
      await waitFor(() => car.transport.isOnline(), { what: 'car online' });
      // The officer signs on in the car; the change reaches the station over MQTT.
      await car.replica.update((d) => board.signOn(d, { unitId: car.screen.identity.unitId, officers: [`Ofc. ${car.screen.identity.unitId}`] }, carCtx(car)));
    }
    await waitFor(() => station().units[b1]?.status === 'available' && station().units[b2]?.status === 'available', { what: 'both units available at the station', timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('sends a call to the beat officer, and the car sees the assignment with its reason', async () => {
    const { id, decision } = await post({ type: 'Burglary (cold)', priority: 3, address: '1200 NW Market St', beat: 'B1' });
    expect(decision).toBe(`dispatched to ${b1}: beat officer of beat B1 available`);
    const onCar = await waitFor(() => {
      const c = beatOfficer.replica.view().calls[id];
      return c?.assigned[0] === b1 ? c : undefined;
    }, { what: 'assignment on the beat officer\'s car', timeoutMs: 15_000 });
    expect(onCar.history.find((h) => h.event === 'assigned')).toMatchObject({ unitId: b1, reason: `dispatched to ${b1}: beat officer of beat B1 available` });
    expect(beatOfficer.replica.view().units[b1]?.callId).toBe(id);
  });

  it('holds the next call of the beat for the busy beat officer and gives it to them when they clear', async () => {
    const first = Object.values(station().calls).find((c) => c.assigned[0] === b1)!;
    const { id, decision, call } = await post({ type: 'Noise complaint', priority: 4, address: '5400 Ballard Ave NW', beat: 'B1' });
    expect(call.state).toBe('held');
    expect(decision).toBe(`held: beat officer ${b1} on call ${first.id}`);
    // The other car sees the held call on the sector board, and B2's officer was not sent although free.
    await waitFor(() => other.replica.view().calls[id]?.state === 'held', { what: 'held call on the other car' });
    expect(station().units[b2]?.status).toBe('available');

    // The beat officer clears its call on the car: the held call follows it within a sync round trip.
    await beatOfficer.replica.update((d) => board.clearCall(d, { callId: first.id, disposition: 'RPT' }, carCtx(beatOfficer)));
    const taken = await waitFor(() => {
      const c = beatOfficer.replica.view().calls[id];
      return c?.assigned[0] === b1 ? c : undefined;
    }, { what: 'held call assigned to the returning beat officer, seen on the car', timeoutMs: 15_000 });
    expect(taken.history.find((h) => h.event === 'assigned')?.reason).toMatch(new RegExp(`^dispatched to ${b1} after \\d\\d:\\d\\d hold: beat officer of beat B1 available$`));
  });

  it('serves the console with the held-call countdown behind the operator credential', async () => {
    const anonymous = await fetch(precinct.apiUrl, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    const page = await (await fetch(precinct.apiUrl, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(page).toContain('Watch Commander console');
    expect(page).toContain(`data-unit="${b1}"`);
  });
});
