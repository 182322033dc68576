// The epoch cut in the running system, over a real aedes precinct and two real vehicle daemons:
// one car is offline with edits when the precinct rolls the sector over. The online car switches
// to the new epoch at once; the offline car comes back, switches, and its offline edits reach the
// new board at the precinct and on the other car. Then the closed epoch is archived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as board from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import { createFleet, postCall, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';

const asCar = (v: RunningVehicle): OpContext => ({
  by: { kind: 'vehicle', vehicleId: v.screen.identity.vehicleId as VehicleId, unitId: v.screen.identity.unitId as UnitId },
  at: Date.now(),
});
const act = (v: RunningVehicle, fn: (d: board.SectorBoard, ctx: OpContext) => board.SectorBoard) => v.replica.update((d) => fn(d, asCar(v)));
const notes = (view: { calls: Record<string, { notes: Array<{ text: string }> } | undefined> }, id: string) => (view.calls[id]?.notes ?? []).map((n) => n.text).sort();

describe('epoch rollover across a fleet (aedes)', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;
  let online: RunningVehicle;
  let offline: RunningVehicle;

  beforeAll(async () => {
    fleet = await createFleet();
    precinct = await fleet.addPrecinct({ id: 'N' });
    online = await fleet.addVehicle({ precinct, vehicleId: 'V41', unit: 'NB41', beat: 'B1' });
    offline = await fleet.addVehicle({ precinct, vehicleId: 'V42', unit: 'NB42', beat: 'B2' });
    await waitFor(() => online.transport.isOnline() && offline.transport.isOnline(), { what: 'both cars online' });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('rolls over with a car offline; the offline car’s edits reach the new board at the precinct and on the other car', async () => {
    const sb = precinct.sectors.get('B')!;
    await act(online, (d, c) => board.signOn(d, { unitId: 'NB41', officers: ['Ofc. Ruiz'] }, c));
    await act(offline, (d, c) => board.signOn(d, { unitId: 'NB42', officers: ['Ofc. Chen'] }, c));
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Burglary', priority: 3, address: '1200 NW Market St', beat: 'B2' });
    await waitFor(() => offline.replica.view().calls[id], { what: 'call on the car that will go offline' });
    await act(offline, (d, c) => board.acceptCall(d, { callId: id as never, unitId: 'NB42' as UnitId }, c));
    await waitFor(() => sb.replica.view().units.NB42?.status === 'en_route' && online.replica.view().units.NB42?.status === 'en_route', {
      what: 'NB42 en route everywhere',
    });
    const first = sb.epochs.epoch;
    expect(online.epochs.epoch).toBe(first);

    // Coverage lost; the officer keeps working on the board the car has.
    await offline.transport.close();
    await act(offline, (d, c) => board.addNote(d, { callId: id as never, text: 'offline: side door forced' }, c));
    await act(offline, (d, c) => board.setUnitStatus(d, { unitId: 'NB42' as UnitId, status: 'on_scene' }, c));

    // The cut, as the nightly job runs it: the next epoch is the service day.
    const boardEvents: string[] = [];
    online.screen.events.on('board', (v) => boardEvents.push(v.epoch));
    const carried = await sb.epochs.rollover();
    const next = sb.epochs.epoch;
    expect(next).not.toBe(first);
    expect(carried?.calls).toContain(id);
    expect(sb.replica.view()).toMatchObject({ epoch: next, openedFrom: { epoch: first } });
    expect(sb.epochs.liveDocIds().sort()).toEqual([`B@${first}`, `B@${next}`].sort());

    // The online car switches: its screen's board is the new epoch, with the open call carried.
    await waitFor(() => online.epochs.epoch === next, { what: 'online car on the new epoch' });
    expect(online.replica.view().epoch).toBe(next);
    expect(online.replica.view().calls[id]?.state).toBe('en_route');
    expect(boardEvents).toContain(next);
    // Its trailing copy of the closed epoch is dropped once the precinct has all of it.
    await waitFor(() => online.epochs.pendingDocIds().length === 0, { what: 'online car dropped the closed epoch' });
    // The screen keeps working: an action after the switch lands on the new board and syncs.
    await online.screen.actions.addNote(id, 'online: perimeter set');
    await waitFor(() => notes(sb.replica.view(), id).includes('online: perimeter set'), { what: 'note after the switch at the precinct' });

    // Back in coverage: the offline car syncs the closed epoch, switches, and its edits arrive.
    offline.transport.start();
    await waitFor(() => offline.epochs.epoch === next, { what: 'offline car on the new epoch', timeoutMs: 20_000 });
    const want = ['offline: side door forced', 'online: perimeter set'];
    await waitFor(() => notes(sb.replica.view(), id).length === 2 && sb.replica.view().units.NB42?.status === 'on_scene', {
      what: 'offline edits on the precinct’s new board',
      timeoutMs: 20_000,
    });
    await waitFor(() => notes(online.replica.view(), id).length === 2 && online.replica.view().units.NB42?.status === 'on_scene', {
      what: 'offline edits on the other car',
      timeoutMs: 20_000,
    });
    await waitFor(() => notes(offline.replica.view(), id).length === 2, { what: 'both notes on the returning car', timeoutMs: 20_000 });
    for (const view of [sb.replica.view(), online.replica.view(), offline.replica.view()]) {
      expect(view.epoch).toBe(next);
      expect(notes(view, id)).toEqual(want);
      expect(view.units.NB42?.status).toBe('on_scene');
      expect(view.calls[id]?.state).toBe('on_scene');
    }
    // The closed epoch at the precinct holds the late edits too: the archive is complete.
    expect(notes(sb.epochs.epochReplica(`B@${first}`)!.view(), id)).toContain('offline: side door forced');
    await waitFor(() => offline.epochs.pendingDocIds().length === 0, { what: 'returning car dropped the closed epoch', timeoutMs: 20_000 });
    expect(await readdir(join(fleet.dir, 'V42', 'boards'))).not.toContain(expect.stringContaining(`B%40${first}`));

    // Once quiet for the grace period, the closed epoch goes to the archive.
    const archived = await sb.epochs.archiveDue(Date.now() + 48 * 3_600_000);
    expect(archived).toEqual([`B@${first}`]);
    expect(sb.epochs.liveDocIds()).toEqual([`B@${next}`]);
    const archiveFiles = await readdir(join(fleet.dir, 'precinct-N', 'archive'));
    expect(archiveFiles.some((f) => f.startsWith(`B%40${first}`))).toBe(true);
    // The per-car sync states of the archived epoch are gone (one file per car a day otherwise).
    const states = await readdir(join(fleet.dir, 'precinct-N', 'sync-states'));
    expect(states.filter((f) => f.startsWith(`B@${first}~`))).toEqual([]);
    // The live epoch's are written (debounced) once the board holding them is on disk.
    await waitFor(async () => (await readdir(join(fleet.dir, 'precinct-N', 'sync-states'))).some((f) => f.startsWith(`B@${next}~`)), {
      what: "the live epoch's sync states on disk",
    });
  });
});
