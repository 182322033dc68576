// Messages and watch meeting notices on the sector board: who may send and read, validation that
// names the field, immutable text, receipts that merge, and the epoch carry-over of unread ones.
import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { BoardError, deliverReport, markMessageRead, markRead, postNotice, readBoard, sendMessage } from '../../../sync/board.js';
import { rolloverEpoch } from '../../../sync/epoch.js';
import { at, car, care, dispatcher, hexActor, policy, staffedBoard } from '../../helpers/board-fixtures.js';

function refusal(fn: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof BoardError) return { code: err.code, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected a BoardError');
}

describe('sendMessage', () => {
  it('a car sends as its unit to a unit and to dispatch; the view lists from, to, time, text and no reads', () => {
    let d = staffedBoard();
    d = sendMessage(d, { id: 'M1', to: [{ kind: 'unit', id: '3A12' }, { kind: 'dispatch' }], text: 'Covering 3A12 at the school' }, at(car('3A11'), 5));
    const m = readBoard(d).messages.M1!;
    expect(m).toMatchObject({ id: 'M1', from: { kind: 'unit', id: '3A11' }, to: [{ kind: 'unit', id: '3A12' }, { kind: 'dispatch', id: 'dispatch' }], text: 'Covering 3A12 at the school', sentAt: at(car('3A11'), 5).at, readBy: {} });
    expect(m.by).toEqual(car('3A11'));
    // Messages are not CARE reports and not notices.
    expect(readBoard(d).inbox).toEqual({});
    expect(readBoard(d).notices).toEqual({});
  });

  it('a dispatch operator sends as dispatch to units; the text is stored immutable', () => {
    let d = staffedBoard();
    d = sendMessage(d, { id: 'M2', to: [{ kind: 'unit', id: '3A11' }], text: 'Call the desk sergeant' }, at(dispatcher, 5));
    expect(readBoard(d).messages.M2?.from).toEqual({ kind: 'dispatch', id: 'dispatch' });
    expect(d.inbox.M2 && 'text' in d.inbox.M2 ? d.inbox.M2.text : undefined).toBeInstanceOf(Automerge.ImmutableString);
  });

  it('generates time-ordered ids when none is given', () => {
    let d = staffedBoard();
    d = sendMessage(d, { to: [{ kind: 'dispatch' }], text: 'first' }, at(car('3A11'), 5));
    d = sendMessage(d, { to: [{ kind: 'dispatch' }], text: 'second' }, at(car('3A11'), 6));
    expect(Object.values(readBoard(d).messages).map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('refuses bad input naming the field, and writes nothing', () => {
    const d = staffedBoard();
    const heads = Automerge.getHeads(d);
    const c = at(car('3A11'), 5);
    expect(refusal(() => sendMessage(d, { to: [], text: 'x' }, c))).toMatchObject({ code: 'invalid_input', field: 'to' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'unit', id: '9Z99' }], text: 'x' }, c))).toMatchObject({ code: 'not_found', field: 'to[0].id' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'unit', id: '3A11' }], text: 'x' }, c))).toMatchObject({ code: 'invalid_input', field: 'to[0]' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'dispatch' }, { kind: 'dispatch' }], text: 'x' }, c))).toMatchObject({ field: 'to[1]' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'fax' } as never], text: 'x' }, c))).toMatchObject({ field: 'to[0].kind' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'dispatch' }], text: '   ' }, c))).toMatchObject({ field: 'text' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'dispatch' }], text: 'x'.repeat(1001) }, c))).toMatchObject({ field: 'text' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'dispatch' }], text: 'x' }, at(dispatcher, 5)))).toMatchObject({ field: 'to[0]' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'unit', id: '3A11' }], text: 'x' }, at(policy, 5)))).toMatchObject({ code: 'forbidden' });
    expect(refusal(() => sendMessage(d, { to: [{ kind: 'dispatch' }], text: 'x' }, { by: { kind: 'vehicle', vehicleId: 'V1' as never }, at: c.at }))).toMatchObject({ field: 'ctx.by.unitId' });
    const sent = sendMessage(d, { id: 'M1', to: [{ kind: 'dispatch' }], text: 'x' }, c);
    expect(refusal(() => sendMessage(sent, { id: 'M1', to: [{ kind: 'dispatch' }], text: 'again' }, c))).toMatchObject({ code: 'exists', field: 'id' });
    expect(Automerge.getHeads(d)).toEqual(heads);
  });
});

describe('markMessageRead', () => {
  const sent = () => sendMessage(staffedBoard(), { id: 'M1', to: [{ kind: 'unit', id: '3A12' }, { kind: 'dispatch' }], text: 'Need a second unit' }, at(car('3A11'), 5));

  it('records one receipt per recipient; reading again writes nothing', () => {
    let d = sent();
    d = markMessageRead(d, { messageId: 'M1', unitId: '3A12' }, at(car('3A12'), 6));
    const heads = Automerge.getHeads(d);
    d = markMessageRead(d, { messageId: 'M1', unitId: '3A12' }, at(car('3A12'), 9));
    expect(Automerge.getHeads(d)).toEqual(heads);
    d = markMessageRead(d, { messageId: 'M1', dispatch: true }, at(dispatcher, 7));
    expect(readBoard(d).messages.M1?.readBy).toEqual({ '3A12': at(car('3A12'), 6).at, dispatch: at(dispatcher, 7).at });
  });

  it('reads on two devices merge', () => {
    const base = sent();
    const a = markMessageRead(Automerge.clone(base, hexActor(7)), { messageId: 'M1', unitId: '3A12' }, at(car('3A12'), 6));
    const b = markMessageRead(Automerge.clone(base, hexActor(8)), { messageId: 'M1', dispatch: true }, at(dispatcher, 6));
    const ab = readBoard(Automerge.merge(Automerge.clone(a), b)).messages.M1?.readBy;
    expect(readBoard(Automerge.merge(Automerge.clone(b), a)).messages.M1?.readBy).toEqual(ab);
    expect(Object.keys(ab ?? {})).toEqual(['3A12', 'dispatch']);
  });

  it('refuses a non-recipient, another unit, a car reading as dispatch, and an unknown message', () => {
    const d = sent();
    expect(refusal(() => markMessageRead(d, { messageId: 'M1', unitId: '3A11' }, at(car('3A11'), 6)))).toMatchObject({ code: 'forbidden', field: 'unitId' });
    expect(refusal(() => markMessageRead(d, { messageId: 'M1', unitId: '3A12' }, at(car('3A11'), 6)))).toMatchObject({ code: 'forbidden' });
    expect(refusal(() => markMessageRead(d, { messageId: 'M1', dispatch: true }, at(car('3A12'), 6)))).toMatchObject({ code: 'forbidden', field: 'dispatch' });
    expect(refusal(() => markMessageRead(d, { messageId: 'M1', unitId: '3A12' }, at(dispatcher, 6)))).toMatchObject({ code: 'forbidden' });
    expect(refusal(() => markMessageRead(d, { messageId: 'M9', unitId: '3A12' }, at(car('3A12'), 6)))).toMatchObject({ code: 'not_found', field: 'messageId' });
    expect(refusal(() => markMessageRead(d, { messageId: 'M1' }, at(car('3A12'), 6)))).toMatchObject({ code: 'invalid_input', field: 'unitId' });
    // A CARE report is not a message, and a message is not a CARE report.
    const r = deliverReport(d, { id: 'R1', beat: 'B31', title: 't', body: 'b', incidentAt: 0, recipients: [{ kind: 'unit', id: '3A12' }] }, at(care, 6));
    expect(refusal(() => markMessageRead(r, { messageId: 'R1', unitId: '3A12' }, at(car('3A12'), 7)))).toMatchObject({ code: 'not_found' });
    expect(refusal(() => markRead(r, { reportId: 'M1', unitId: '3A12' }, at(car('3A12'), 7)))).toMatchObject({ code: 'not_found' });
  });
});

describe('postNotice', () => {
  const meeting = { id: 'W1', title: 'Sunset Hill block watch', beat: 'B32', startsAt: at(dispatcher, 60 * 24).at, place: 'Community club, 3003 NW 66th St', details: 'Package thefts' };

  it('the precinct posts a notice every unit may mark read', () => {
    let d = postNotice(staffedBoard(), meeting, at(dispatcher, 5));
    d = markRead(d, { reportId: 'W1', unitId: '3A11' }, at(car('3A11'), 6));
    const n = readBoard(d).notices.W1!;
    expect(n).toMatchObject({ title: meeting.title, beat: 'B32', startsAt: meeting.startsAt, place: meeting.place, details: 'Package thefts', postedAt: at(dispatcher, 5).at });
    expect(n.readBy).toEqual({ '3A11': at(car('3A11'), 6).at });
    expect(readBoard(d).inbox).toEqual({});
  });

  it('refuses a car posting, bad fields, and a reader that is not a unit of the sector', () => {
    const d = staffedBoard();
    expect(refusal(() => postNotice(d, meeting, at(car('3A11'), 5)))).toMatchObject({ code: 'forbidden' });
    expect(refusal(() => postNotice(d, { ...meeting, title: '' }, at(dispatcher, 5)))).toMatchObject({ field: 'title' });
    expect(refusal(() => postNotice(d, { ...meeting, place: '' }, at(dispatcher, 5)))).toMatchObject({ field: 'place' });
    expect(refusal(() => postNotice(d, { ...meeting, startsAt: -1 }, at(dispatcher, 5)))).toMatchObject({ field: 'startsAt' });
    expect(refusal(() => postNotice(d, { ...meeting, beat: 'no beat' }, at(dispatcher, 5)))).toMatchObject({ field: 'beat' });
    const posted = postNotice(d, meeting, at(dispatcher, 5));
    expect(refusal(() => markRead(posted, { reportId: 'W1', readerId: 'LT-1' }, at(dispatcher, 6)))).toMatchObject({ code: 'forbidden' });
    expect(refusal(() => markRead(posted, { reportId: 'W1', unitId: '9Z9' }, at(car('9Z9'), 6)))).toMatchObject({ code: 'forbidden' });
  });
});

describe('epoch carry-over of inbox entries', () => {
  it('carries unread messages and notices into the next epoch, drops fully read ones', () => {
    let d = staffedBoard();
    d = sendMessage(d, { id: 'M-read', to: [{ kind: 'unit', id: '3A12' }], text: 'seen' }, at(car('3A11'), 5));
    d = markMessageRead(d, { messageId: 'M-read', unitId: '3A12' }, at(car('3A12'), 6));
    d = sendMessage(d, { id: 'M-unread', to: [{ kind: 'dispatch' }], text: 'not yet seen' }, at(car('3A11'), 7));
    d = postNotice(d, { id: 'W1', title: 'Block watch', startsAt: at(dispatcher, 600).at, place: 'Station' }, at(dispatcher, 8));
    const { next, carried } = rolloverEpoch(d, '2026-11-28', at(policy, 60));
    expect(carried.reports.sort()).toEqual(['M-unread', 'W1']);
    const v = readBoard(next);
    expect(Object.keys(v.messages)).toEqual(['M-unread']);
    expect(v.notices.W1?.title).toBe('Block watch');
  });
});
