import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { acceptCall, addNote, assignUnit, clearCall, createCall, holdCall, readBoard, setUnitStatus, upsertUnit, signOn } from '../../../sync/board.js';
import { exportEido, importEido, incidentIdOf, parsePidf } from '../../../sync/eido.js';
import { loadEidoValidator, type EidoValidator } from '../../../sync/eido-validate.js';
import { at, car, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

const OPTS = { agencyId: 'pd.county.example.gov', elementId: 'precinct1.pd.county.example.gov' };
let validate: EidoValidator;

beforeAll(async () => {
  validate = await loadEidoValidator();
}, 60_000);

function board() {
  let d = staffedBoard(hexActor(1));
  d = upsertUnit(d, { id: '3F01', callSign: '3-Frank-01', homeBeat: 'B31', mode: 'foot' }, at(dispatcher, 0));
  d = signOn(d, { unitId: '3F01', officers: ['Ofc. Ito'] }, at(car('3F01'), 1));
  d = createCall(d, { cadNumber: '18-0052973', type: '11R', priority: 2, late: true, address: '3000 E Illinois Ave', beat: 'B32', lat: 32.745, lon: -96.78, callerNotes: 'Caller says back door open' }, at(dispatcher, 5));
  d = assignUnit(d, { callId: '18-0052973', unitId: '3A11' }, at(policy, 5));
  d = acceptCall(d, { callId: '18-0052973', unitId: '3A11' }, at(car('3A11'), 6));
  d = setUnitStatus(d, { unitId: '3A11', status: 'on_scene' }, at(car('3A11'), 14));
  d = addNote(d, { callId: '18-0052973', text: 'Pry marks <rear> & side' }, at(car('3A11'), 15));
  d = setUnitStatus(d, { unitId: '3A12', status: 'out_of_service', reason: 'report writing' }, at(car('3A12'), 15));
  d = createCall(d, { cadNumber: 'C-HELD', type: 'THEFT', priority: 3, address: '5 Elm St', beat: 'B32' }, at(dispatcher, 16));
  d = holdCall(d, { callId: 'C-HELD', until: at(policy, 46).at, reason: 'beat officer out of service', unitId: '3A12' }, at(policy, 16));
  return d;
}

describe('EIDO', () => {
  it('validates NENA\u2019s own sample and rejects a document missing required parts', async () => {
    const sample = JSON.parse(await readFile(new URL('../../fixtures/eido/sample-call-transfer-eido.json', import.meta.url), 'utf8')) as unknown;
    expect(validate(sample)).toEqual({ ok: true });
    const bad = validate({ $id: 'x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/eidoVersion|lastUpdateTimeStamp/);
  });

  it('exports calls in every state as schema-valid EIDO with the standards mapping', () => {
    let d = board();
    const active = exportEido(readBoard(d), '18-0052973', OPTS);
    expect(validate(active)).toEqual({ ok: true });
    expect(active.incidentComponent).toMatchObject({
      incidentTypeCommonRegistryText: 'Law-Burglary',
      incidentTypeInternalCode: '11R',
      incidentCommonPriorityNumber: 2,
      beatOrDispatchGroupText: 'B32',
      incidentStatusCommonRegistryText: ['OnScene'],
    });
    const unit = (active.emergencyResourceComponent as Array<Record<string, unknown>>)[0];
    expect(unit).toMatchObject({
      primaryUnitStatusRegistryText: 'OnScene',
      secondaryUnitStatusRegistryText: ['CoveringAlternateArea'],
      activeOnIncidentId: incidentIdOf('18-0052973', OPTS.agencyId),
      emergencyResourceName: '3-Adam-11',
    });
    expect((active.locationComponent as Array<Record<string, unknown>>)[0]?.locationByValue).toContain('<gml:pos>32.745 -96.78</gml:pos>');
    expect((active.notesComponent as Array<Record<string, unknown>>).map((n) => n.notesActionComments)).toEqual(['Caller says back door open', 'Pry marks <rear> & side']);

    const held = exportEido(readBoard(d), 'C-HELD', OPTS);
    expect(validate(held)).toEqual({ ok: true });
    const waiting = (held.emergencyResourceComponent as Array<Record<string, unknown>>)[0];
    expect(waiting).toMatchObject({ emergencyResourceName: '3-Adam-12', primaryUnitStatusRegistryText: 'OutofService', stackedOnIncidentId: [incidentIdOf('C-HELD', OPTS.agencyId)] });

    d = clearCall(d, { callId: '18-0052973', disposition: 'ARR' }, at(car('3A11'), 50));
    const closed = exportEido(readBoard(d), '18-0052973', OPTS);
    expect(validate(closed)).toEqual({ ok: true });
    expect(closed.incidentComponent).toMatchObject({
      incidentStatusCommonRegistryText: ['Closed'],
      dispositionComponent: [expect.objectContaining({ dispositionCommonRegistryCode: 'Arrest', dispositionCategoryText: 'ARR', dispositionPrimaryIndicator: true })],
    });
  });

  it('imports NENA\u2019s sample as a new call', async () => {
    const sample = JSON.parse(await readFile(new URL('../../fixtures/eido/sample-call-transfer-eido.json', import.meta.url), 'utf8')) as unknown;
    const d = importEido(staffedBoard(), sample, at(dispatcher, 30), { beat: 'B31' });
    const c = readBoard(d).calls.a56e556d871;
    expect(c).toMatchObject({
      cadNumber: 'a56e556d871',
      type: 'EIDO',
      priority: 3,
      address: '42 W Cellular Street, Wilmington, DE',
      beat: 'B31',
      state: 'pending',
      receivedAt: Date.parse('2021-04-30T14:40:00.0-04:00'),
    });
    expect(c?.callerNotes).toContain('EIDO urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us');
    expect(() => importEido(d, sample, at(dispatcher, 31), { beat: 'B31' })).toThrow(expect.objectContaining({ code: 'exists' }));
    expect(() => importEido(staffedBoard(), sample, at(dispatcher, 31))).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'beat' }));
    expect(() => importEido(staffedBoard(), { nope: 1 }, at(dispatcher, 31))).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });

  it('round-trips an exported call into another board', () => {
    const exported = exportEido(readBoard(board()), '18-0052973', OPTS);
    const d = importEido(staffedBoard(hexActor(2)), exported, at(dispatcher, 60));
    expect(readBoard(d).calls['18-0052973']).toMatchObject({ type: '11R', priority: 2, address: '3000 E Illinois Ave', beat: 'B32', lat: 32.745, lon: -96.78 });
  });

  it('reads civic address and point from PIDF-LO', () => {
    expect(parsePidf('<ca:civicAddress><ca:HNO>12</ca:HNO><ca:RD>Oak</ca:RD><ca:STS>St</ca:STS><ca:A3>Dallas</ca:A3><ca:A1>TX</ca:A1></ca:civicAddress><gml:pos>32.1 -96.2</gml:pos>')).toEqual({ address: '12 Oak St, Dallas, TX', lat: 32.1, lon: -96.2 });
  });
});
