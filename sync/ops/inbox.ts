// CARE reports delivered to the inbox of the sector, with read receipts. A report is written once
// (immutable once delivered); receipts are per-reader keys, so reads on different cars merge.
import { BoardError, type OpContext, type Recipient, type ReportId, type UnitId } from '../schema.js';
import { checkCtx, commit, fail, imm, optText, reqId, reqText, reqTime, requireOwnUnit, requireRole, storeActor, txt, type SectorBoard } from './common.js';

export interface DeliverReportInput {
  id: ReportId | string;
  beat: string;
  callId?: string;
  title: string;
  body: string;
  incidentAt: number;
  recipients: Recipient[];
}

export function deliverReport(doc: SectorBoard, input: DeliverReportInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  requireRole(ctx, 'deliverReport', ['operator', 'policy']);
  const id = reqId('id', input.id);
  const beat = reqId('beat', input.beat);
  const callId = input.callId === undefined ? undefined : reqId('callId', input.callId);
  const title = reqText('title', input.title, 200);
  const body = reqText('body', input.body, 20_000);
  const incidentAt = reqTime('incidentAt', input.incidentAt);
  if (!Array.isArray(input.recipients) || input.recipients.length === 0) fail('recipients', 'at least one recipient (the beat officer, the supervisors)');
  if (input.recipients.length > 20) fail('recipients', 'at most 20 recipients');
  const recipients = input.recipients.map((r, i) => {
    if (r?.kind !== 'unit' && r?.kind !== 'supervisor') fail(`recipients[${i}].kind`, 'must be unit or supervisor');
    return { kind: r.kind, id: reqId(`recipients[${i}].id`, r.id) };
  });
  if (doc.inbox[id]) throw new BoardError('exists', `report ${id} was already delivered`, 'id');
  return commit(doc, ctx, `deliverReport ${id}`, (d) => {
    d.inbox[id] = {
      beat: imm(beat),
      ...(callId ? { callId: imm(callId) } : {}),
      title: imm(title),
      body: imm(body),
      incidentAt,
      deliveredAt: ctx.at,
      by: storeActor(ctx.by),
      recipients: recipients.map((r) => ({ kind: imm(r.kind), id: imm(r.id) })),
      readBy: {},
    };
  });
}

export interface MarkReadInput {
  reportId: ReportId | string;
  /** The reading unit (on a car). */
  unitId?: UnitId | string;
  /** Any other recipient id, e.g. a supervisor reading at the precinct. */
  readerId?: string;
}

export function markRead(doc: SectorBoard, input: MarkReadInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const rid = reqId('reportId', input.reportId);
  if ((input.unitId === undefined) === (input.readerId === undefined)) fail('unitId', 'give exactly one of unitId or readerId');
  const reader = input.unitId !== undefined ? reqId('unitId', input.unitId) : reqId('readerId', optText('readerId', input.readerId, 64));
  if (input.unitId !== undefined) requireOwnUnit(ctx, 'markRead', reader);
  const report = doc.inbox[rid];
  if (!report) throw new BoardError('not_found', `report ${rid} is not in this sector's inbox`, 'reportId');
  if (!report.recipients.some((r) => txt(r.id) === reader)) throw new BoardError('forbidden', `${reader} is not a recipient of report ${rid}`, 'unitId');
  // The first read is the receipt; reading again writes nothing.
  if (typeof report.readBy[reader] === 'number') return doc;
  return commit(doc, ctx, `markRead ${rid} ${reader}`, (d) => {
    const r = d.inbox[rid];
    if (r) r.readBy[reader] = ctx.at;
  });
}
