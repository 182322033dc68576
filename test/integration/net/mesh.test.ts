// Issue 4 on real aedes brokers: two linked precincts, six cars across two sectors (one roaming
// onto the other precinct's broker), partition and merge, a precinct/broker restart, and author
// binding of a forged status. One fleet for the file, tests in order (each builds on the last).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as A from '@automerge/automerge';
import * as board from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { createFleet, postCall, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';
import { addCar, restartPrecinct, startMesh, type Mesh } from './mesh-setup.js';

const operator: OpContext['by'] = { kind: 'operator', operatorId: 'test-dispatcher', role: 'dispatcher' };
const asCar = (vehicleId: string, unitId: string): OpContext => ({ by: { kind: 'vehicle', vehicleId: vehicleId as VehicleId, unitId: unitId as UnitId }, at: Date.now() });
/** What an officer's action does on the car: a board operation in the car's own name, durably. */
const act = (v: RunningVehicle, fn: (d: board.SectorBoard, ctx: OpContext) => board.SectorBoard) => {
  const u = v.screen.identity;
  return v.replica.update((d) => fn(d, asCar(u.vehicleId, u.unitId)));
};
const notes = (v: { replica: { view(): ReturnType<RunningVehicle['replica']['view']> } }, callId: string) =>
  (v.replica.view().calls[callId]?.notes ?? []).map((n) => n.text).sort();

describe('mesh sync over MQTT (aedes)', () => {
  let fleet: Fleet;
  let mesh: Mesh;
  let b: RunningVehicle[]; // sector B (precinct N); b[2] roams on precinct E's broker
  let c: RunningVehicle[]; // sector C (precinct E)

  beforeAll(async () => {
    fleet = await createFleet();
    mesh = await startMesh(fleet);
    const { N, E } = mesh;
    b = [
      await addCar(fleet, mesh, { vehicleId: 'V11', unit: 'NB1', beat: 'B1', registerAt: [N, E], brokers: [N, E] }),
      await addCar(fleet, mesh, { vehicleId: 'V12', unit: 'NB2', beat: 'B2', registerAt: [N, E], brokers: [N, E] }),
      await addCar(fleet, mesh, { vehicleId: 'V13', unit: 'NB3', beat: 'B3', registerAt: [N, E], brokers: [E, N] }),
    ];
    c = [
      await addCar(fleet, mesh, { vehicleId: 'V21', unit: 'EC1', beat: 'C1', registerAt: [E], brokers: [E] }),
      await addCar(fleet, mesh, { vehicleId: 'V22', unit: 'EC2', beat: 'C2', registerAt: [E], brokers: [E] }),
      await addCar(fleet, mesh, { vehicleId: 'V23', unit: 'EC3', beat: 'C3', registerAt: [E], brokers: [E] }),
    ];
    await waitFor(() => [...b, ...c].every((v) => v.transport.isOnline()), { what: 'six cars online' });
    await waitFor(() => mesh.E.links[0]!.roaming().includes('V13'), { what: 'V13 roaming through precinct E' });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('delivers a call created at precinct N to every car of sector B, including the one on precinct E, and to no car of sector C', async () => {
    const t0 = Date.now();
    const { id } = await postCall(mesh.N, await fleet.operatorToken(mesh.N), { type: 'Burglary', priority: 2, address: '1200 NW Market St', beat: 'B2' });
    await waitFor(() => b.every((v) => v.replica.view().calls[id]), { what: 'call on every sector B car', timeoutMs: 5000 });
    // Generous on a loaded 2-core CI box; bench/sync.ts measures the real latency.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(b[2]!.transport.state()).toMatchObject({ state: 'online', broker: mesh.E.brokerUrl });
    const { id: cid } = await postCall(mesh.E, await fleet.operatorToken(mesh.E), { type: 'Noise', priority: 4, address: '1 Pike St', beat: 'C1' });
    await waitFor(() => c.every((v) => v.replica.view().calls[cid]), { what: 'sector C call on sector C cars' });
    for (const v of b) expect(v.replica.view().calls[cid]).toBeUndefined();
    for (const v of c) expect(v.replica.view().calls[id]).toBeUndefined();

    // Upstream too: the roaming car's status reaches its home precinct and its sector peers.
    await act(b[2]!, (d, x) => board.signOn(d, { unitId: 'NB3', officers: ['Ofc. Roam'] }, x));
    await waitFor(() => b[0]!.replica.view().units.NB3?.status === 'available', { what: 'roaming car status on a peer' });
    expect(mesh.N.sectors.get('B')!.replica.view().units.NB3?.status).toBe('available');
    // Its presence crossed the link too (retained, relayed by E's link).
    await waitFor(() => mesh.N.sectors.get('B')!.presence.get('NB3')?.state === 'online', { what: 'roaming presence at home precinct' });
  });

  it('merges every edit after a partition: car offline, both it and the precinct edit the same call', async () => {
    const sb = mesh.N.sectors.get('B')!;
    const { id } = await postCall(mesh.N, await fleet.operatorToken(mesh.N), { type: 'Prowler', priority: 3, address: '5th Ave NW', beat: 'B1' });
    await waitFor(() => b[0]!.replica.view().calls[id], { what: 'call on V11' });

    await b[0]!.transport.close(); // coverage lost
    await act(b[0]!, (d, x) => board.addNote(d, { callId: id, text: 'car: suspect fled north' }, x));
    await sb.replica.update((d) => board.addNote(d, { callId: id, text: 'precinct: caller called back' }, { by: operator, at: Date.now() }));
    await act(b[2]!, (d, x) => board.addNote(d, { callId: id, text: 'roamer: checking the alley' }, x));
    await waitFor(() => notes(b[1]!, id).length === 2, { what: 'precinct + roamer notes on V12' });
    expect(notes(b[0]!, id)).toEqual(['car: suspect fled north']);

    b[0]!.transport.start(); // back in coverage
    const all = ['car: suspect fled north', 'precinct: caller called back', 'roamer: checking the alley'];
    const replicas = [...b.map((v) => v.replica), sb.replica];
    await waitFor(() => replicas.every((r) => notes({ replica: r }, id).length === 3), { what: 'all three notes everywhere' });
    for (const r of replicas) expect(notes({ replica: r }, id)).toEqual(all);
    const heads = replicas.map((r) => A.getHeads(r.doc).sort().join());
    expect(new Set(heads).size).toBe(1);
  });

  it('refuses a car forging another car’s status; the forged change reaches no other replica', async () => {
    const sb = mesh.N.sectors.get('B')!;
    await act(b[1]!, (d, x) => board.signOn(d, { unitId: 'NB2', officers: ['Ofc. Chen'] }, x));
    await waitFor(() => sb.replica.view().units.NB2?.status === 'available' && b[0]!.replica.view().units.NB2?.status === 'available', {
      what: 'NB2 signed on at the precinct and on V11',
    });
    const forgedBefore = sb.sync.stats.forged;
    // V11 is compromised: it writes "NB2 out of service" in V12's name into its own board.
    await b[0]!.replica.update((d) => board.setUnitStatus(d, { unitId: 'NB2', status: 'out_of_service', reason: 'forged' }, asCar('V12', 'NB2')));
    await waitFor(() => sb.sync.stats.forged > forgedBefore, { what: 'precinct refusing the forged change' });
    await new Promise((r) => setTimeout(r, 300));
    expect(sb.replica.view().units.NB2?.status).toBe('available');
    expect(b[1]!.replica.view().units.NB2?.status).toBe('available');
    expect(b[2]!.replica.view().units.NB2?.status).toBe('available');
  });

  it('survives the precinct broker going away: cars reconnect, re-announce, resubscribe and resync with nothing lost', async () => {
    const honest = b[1]!; // V12, home N
    const before = mesh.N.sectors.get('B')!.replica.view();
    // A clean sign-off first, so a retained "offline" must come back from disk after the restart.
    await c[2]!.stop();
    fleet.vehicles.splice(fleet.vehicles.indexOf(c[2]!), 1);
    const retainedE = () => mesh.E.sectors.get('C')!.presence.get('EC3')?.state;
    await waitFor(() => retainedE() === 'offline', { what: 'EC3 offline at E' });

    const connects = { n: 0 };
    honest.transport.on('connect', () => (connects.n += 1));
    // Down long enough for reconnect backoffs to grow: the neighbour's link to N must still be
    // back within its 2 s cap of N's return (a 10 s cap once left roaming cars cut off that long).
    mesh.N = await restartPrecinct(fleet, mesh.N, mesh.specN, 8000);
    const back = Date.now();
    await waitFor(() => mesh.E.links[0]!.online(), { what: "E's link to the restarted N", timeoutMs: 15_000 });
    expect(Date.now() - back).toBeLessThan(4000);
    // While N was down V12 failed over to E (its second broker) or waited; either way it edits.
    await act(honest, (d, x) => board.setUnitStatus(d, { unitId: 'NB2', status: 'on_scene' }, x));
    await waitFor(() => connects.n > 0 && honest.transport.isOnline(), { what: 'V12 reconnected', timeoutMs: 15_000 });
    const sb = mesh.N.sectors.get('B')!;
    // Re-announce: presence online again at the restarted precinct.
    await waitFor(() => sb.presence.get('NB2')?.state === 'online', { what: 'NB2 presence re-announced' });
    // Resync: the edit made during the outage reached the precinct; nothing it had was lost.
    await waitFor(() => sb.replica.view().units.NB2?.status === 'on_scene', { what: 'outage edit at the precinct', timeoutMs: 10_000 });
    for (const id of Object.keys(before.calls)) expect(sb.replica.view().calls[id]).toBeDefined();
    // Resubscribe: a new call after the restart reaches every sector B car.
    const { id } = await postCall(mesh.N, await fleet.operatorToken(mesh.N), { type: 'Alarm', priority: 2, address: '8th Ave NW', beat: 'B3' });
    await waitFor(() => b.every((v) => v.replica.view().calls[id]), { what: 'post-restart call on every B car', timeoutMs: 15_000 });

    // Retained presence survives a precinct restart (from the precinct's disk).
    mesh.E = await restartPrecinct(fleet, mesh.E, mesh.specE);
    await waitFor(() => mesh.E.sectors.get('C')!.presence.get('EC3')?.state === 'offline', { what: 'EC3 offline restored at E' });
    await waitFor(() => mesh.E.sectors.get('C')!.presence.get('EC1')?.state === 'online', { what: 'EC1 back online at E', timeoutMs: 15_000 });
  });
});
