import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import {
  acceptCall,
  addNote,
  assignUnit,
  clearCall,
  createCall,
  deliverReport,
  markRead,
  readBoard,
  setUnitStatus,
  upsertBeat,
  type SectorBoard,
} from '../../../sync/board.js';
import { FileDocStore } from '../../../sync/doc-store.js';
import { epochFor, forwardLateEdits, REPORT_CARRY_MS, rolloverEpoch } from '../../../sync/epoch.js';
import { archiveEpoch } from '../../../sync/epoch-archive.js';
import { at, car, care, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

const PRECINCT = hexActor(0xa);
const CAR = hexActor(0xc);

function day1(): SectorBoard {
  let d = staffedBoard(PRECINCT, '2026-11-27');
  d = createCall(d, { cadNumber: 'C0', type: 'THEFT', priority: 3, address: '9 Pine St', beat: 'B31' }, at(dispatcher, 10));
  d = assignUnit(d, { callId: 'C0', unitId: '3A12' }, at(policy, 10));
  d = clearCall(d, { callId: 'C0', disposition: 'RPT' }, at(car('3A12'), 40));
  d = createCall(d, { cadNumber: 'C1', type: 'DIST', priority: 2, address: '10 Oak St', beat: 'B31' }, at(dispatcher, 50));
  d = assignUnit(d, { callId: 'C1', unitId: '3A11' }, at(policy, 50));
  d = acceptCall(d, { callId: 'C1', unitId: '3A11' }, at(car('3A11'), 51));
  d = deliverReport(d, { id: 'R1', beat: 'B31', title: 'Vehicle burglary report', body: 'text', incidentAt: at(care, 0).at, recipients: [{ kind: 'unit', id: '3A11' }] }, at(care, 52));
  return d;
}

describe('epochs', () => {
  it('names service days by the local shift-change hour', () => {
    const clock = { utcOffsetMinutes: -360, cutHour: 6 };
    expect(epochFor(Date.UTC(2026, 10, 27, 11, 59), clock)).toBe('2026-11-26');
    expect(epochFor(Date.UTC(2026, 10, 27, 12, 0), clock)).toBe('2026-11-27');
  });

  it('carries units, open calls, unread reports and beats; leaves closed calls in the archive', () => {
    const { closed, next, carried } = rolloverEpoch(day1(), '2026-11-28', at(policy, 60), PRECINCT);
    expect(carried.calls).toEqual(['C1']);
    expect(carried.units.sort()).toEqual(['3A11', '3A12']);
    expect(carried.reports).toEqual(['R1']);
    const v = readBoard(next);
    expect(v).toMatchObject({ epoch: '2026-11-28', openedFrom: { epoch: '2026-11-27' } });
    expect(Object.keys(v.calls)).toEqual(['C1']);
    expect(v.calls.C1).toMatchObject({ state: 'en_route', assigned: ['3A11'] });
    expect(v.units['3A11']).toMatchObject({ status: 'en_route', callId: 'C1', officers: ['Ofc. Reyes'] });
    // 3A12's last event references C0, which stayed behind closed: it is simply available.
    expect(v.units['3A12']).toMatchObject({ status: 'available', officers: ['Ofc. Chen'] });
    expect(readBoard(closed).closed).toEqual({ at: at(policy, 60).at, nextEpoch: '2026-11-28' });
    expect(() => rolloverEpoch(closed, '2026-11-29', at(policy, 61))).toThrow(expect.objectContaining({ code: 'epoch_mismatch' }));
    expect(() => rolloverEpoch(day1(), '2026-11-28', at(car('3A11'), 61))).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it('a car offline across the cut still merges its offline edits into the new epoch', () => {
    const shared = day1();
    // The car has the day-1 board, then loses its link.
    let carPrev = Automerge.clone(shared, CAR);
    let precinctPrev = shared;

    // Offline on the car: a note and on-scene on the carried call, an on-view call it creates,
    // a report read, then later it clears the carried call.
    carPrev = addNote(carPrev, { callId: 'C1', text: 'Two parties separated' }, at(car('3A11'), 65));
    carPrev = setUnitStatus(carPrev, { unitId: '3A11', status: 'on_scene' }, at(car('3A11'), 66));
    carPrev = markRead(carPrev, { reportId: 'R1', unitId: '3A11' }, at(car('3A11'), 67));
    carPrev = createCall(carPrev, { cadNumber: 'OV-1', type: '23', priority: 4, address: '12 Oak St', beat: 'B31' }, at(car('3A11'), 70));

    // Meanwhile the precinct cuts the epoch and keeps working in the new one.
    const cut = rolloverEpoch(precinctPrev, '2026-11-28', at(policy, 60), PRECINCT);
    precinctPrev = cut.closed;
    let precinctNext = cut.next;
    precinctNext = addNote(precinctNext, { callId: 'C1', text: 'Caller called again' }, at(dispatcher, 68));
    precinctNext = assignUnit(precinctNext, { callId: 'C1', unitId: '3A12' }, at(dispatcher, 69));

    // Reconnect: the old epoch syncs first (the car learns of the cut), then the precinct
    // forwards what arrived late.
    precinctPrev = Automerge.merge(precinctPrev, carPrev);
    carPrev = Automerge.merge(carPrev, precinctPrev);
    expect(readBoard(carPrev).closed?.nextEpoch).toBe('2026-11-28');
    precinctNext = forwardLateEdits(precinctPrev, precinctNext, at(policy, 75));

    // The car opens the new epoch (sync from the precinct) and, independently, forwards too:
    // forwarding is idempotent, so both copies converge with no duplicate.
    let carNext = Automerge.clone(cut.next, CAR);
    carNext = forwardLateEdits(carPrev, carNext, at(car('3A11'), 76));
    carNext = Automerge.merge(carNext, precinctNext);
    precinctNext = Automerge.merge(precinctNext, carNext);

    const v = readBoard(precinctNext);
    expect(readBoard(carNext)).toEqual(v);
    expect(v.calls.C1?.notes.map((n) => n.text)).toEqual(['Two parties separated', 'Caller called again']);
    expect(v.calls.C1).toMatchObject({ state: 'on_scene', assigned: ['3A11', '3A12'] });
    expect(v.units['3A11']).toMatchObject({ status: 'on_scene', callId: 'C1' });
    expect(v.calls['OV-1']).toMatchObject({ state: 'pending', type: '23' });
    expect(v.inbox.R1?.readBy).toEqual({ '3A11': at(car('3A11'), 67).at });

    // Still later, offline again, the car clears C1 on the old board: forwarded, it closes C1 in
    // the new epoch too; forwarding again changes nothing.
    carPrev = clearCall(carPrev, { callId: 'C1', disposition: 'ADV' }, at(car('3A11'), 90));
    precinctPrev = Automerge.merge(precinctPrev, carPrev);
    precinctNext = forwardLateEdits(precinctPrev, precinctNext, at(policy, 91));
    expect(readBoard(precinctNext).calls.C1).toMatchObject({ state: 'cleared', disposition: 'ADV' });
    expect(forwardLateEdits(precinctPrev, precinctNext, at(policy, 92))).toBe(precinctNext);
  });

  it('carries beat prose as snapshots (cheap), editable again, and forwards plans edited offline after the cut', () => {
    const plan = { id: 'P1', problem: 'Break-ins at the park', analysis: 'Evenings', response: 'Bike patrol', assessment: '' };
    let d = upsertBeat(day1(), { id: 'B31', name: 'Beat 31', profile: { characteristics: 'Two schools, a park', resources: [], crimeProblems: [] }, plans: [plan] }, at(car('3A11'), 20));
    let carPrev = Automerge.clone(d, CAR);
    const cut = rolloverEpoch(d, '2026-11-28', at(policy, 60), PRECINCT);
    const textOps = Automerge.stats(d).numOps;
    expect(Automerge.stats(cut.next).numOps).toBeLessThan(textOps);
    expect(readBoard(cut.next).beats.B31?.plans.P1).toMatchObject({ analysis: 'Evenings', response: 'Bike patrol' });
    // Edited in the new epoch: back to text, so later concurrent edits merge by passage.
    d = upsertBeat(cut.next, { id: 'B31', name: 'Beat 31', plans: [{ ...plan, assessment: 'Fewer reports' }] }, at(dispatcher, 70));
    expect(readBoard(d).beats.B31?.plans.P1?.assessment).toBe('Fewer reports');
    // Offline on the old board after the cut, another officer adds a plan: forwarded.
    carPrev = upsertBeat(carPrev, { id: 'B31', name: 'Beat 31', plans: [{ id: 'P2', problem: 'Speeding on Elm', analysis: '', response: 'Radar', assessment: '' }] }, at(car('3A11'), 75));
    d = forwardLateEdits(Automerge.merge(Automerge.clone(cut.closed), carPrev), d, at(policy, 80));
    expect(readBoard(d).beats.B31?.plans.P2).toMatchObject({ problem: 'Speeding on Elm', response: 'Radar' });
    expect(readBoard(d).beats.B31?.plans.P1?.assessment).toBe('Fewer reports');
  });

  it('stops carrying a report nobody reads after REPORT_CARRY_MS: it stays in the archive', () => {
    expect(rolloverEpoch(day1(), 'later', { by: policy, at: at(care, 52).at + REPORT_CARRY_MS }, PRECINCT).carried.reports).toEqual(['R1']);
    expect(rolloverEpoch(day1(), 'later', { by: policy, at: at(care, 52).at + REPORT_CARRY_MS + 1 }, PRECINCT).carried.reports).toEqual([]);
  });

  it('archives a closed epoch as one snapshot and refuses to archive an open one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdt-archive-'));
    try {
      const live = new FileDocStore(join(dir, 'live'));
      const archive = new FileDocStore(join(dir, 'archive'));
      const open = day1();
      await live.save('S3@2026-11-27', open);
      await expect(archiveEpoch({ live, archive, docId: 'S3@2026-11-27' })).rejects.toMatchObject({ code: 'epoch_mismatch' });
      const { closed } = rolloverEpoch(open, '2026-11-28', at(policy, 60), PRECINCT);
      await live.save('S3@2026-11-27', closed);
      const res = await archiveEpoch({ live, archive, docId: 'S3@2026-11-27' });
      expect(res.calls).toBe(2);
      expect(await live.list()).toEqual([]);
      expect((await readdir(join(dir, 'archive'))).sort()).toEqual(['S3%402026-11-27.log', 'S3%402026-11-27.snapshot']);
      const back = await new FileDocStore(join(dir, 'archive')).load('S3@2026-11-27');
      expect(back && readBoard(back).calls.C0?.disposition).toBe('RPT');
      await live.close();
      await archive.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
