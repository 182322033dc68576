// CARE reports and neighborhood watch meeting notices delivered to the inbox of the sector, with
// read receipts. An entry is written once (immutable once delivered); receipts are per-reader keys,
// so reads on different cars merge. Messages share the inbox map (sync/ops/messages.ts).
import {
  BoardError,
  type CareReportView,
  type NoticeView,
  type OpContext,
  type Recipient,
  type ReportId,
  type StoredNotice,
  type StoredReport,
  type UnitId,
} from '../schema.js';
import { checkCtx, commit, eventKey, fail, imm, optText, readActor, reqId, reqText, reqTime, requireOwnUnit, requireRole, storeActor, txt, type SectorBoard } from './common.js';

export const NOTICE_KIND = 'notice';

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
  return commit(doc, ctx, (d) => {
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
  const kind = txt(report?.kind);
  if (!report || (kind !== undefined && kind !== NOTICE_KIND)) throw new BoardError('not_found', `report ${rid} is not in this sector's inbox`, 'reportId');
  if (kind === NOTICE_KIND) {
    // A notice is for every unit of the sector.
    if (input.unitId === undefined || !doc.units[reader]) throw new BoardError('forbidden', `${reader} is not a unit of sector ${txt(doc.sector)}`, 'unitId');
  } else if (!report.recipients.some((r) => txt(r.id) === reader)) throw new BoardError('forbidden', `${reader} is not a recipient of report ${rid}`, 'unitId');
  // The first read is the receipt; reading again writes nothing.
  if (typeof report.readBy[reader] === 'number') return doc;
  return commit(doc, ctx, (d) => {
    const r = d.inbox[rid];
    if (r) r.readBy[reader] = ctx.at;
  });
}

export interface PostNoticeInput {
  /** Defaults to a time-ordered id. */
  id?: string;
  title: string;
  /** The beat the meeting is about, if one. */
  beat?: string;
  startsAt: number;
  place: string;
  details?: string;
}

/** A neighborhood watch meeting notice for every unit of the sector (precinct only). */
export function postNotice(doc: SectorBoard, input: PostNoticeInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  requireRole(ctx, 'postNotice', ['operator', 'policy']);
  const title = reqText('title', input.title, 200);
  const beat = input.beat === undefined ? undefined : reqId('beat', input.beat);
  const startsAt = reqTime('startsAt', input.startsAt);
  const place = reqText('place', input.place, 200);
  const details = optText('details', input.details, 2000) ?? '';
  const id = input.id === undefined ? `W-${eventKey(ctx.at)}` : reqId('id', input.id);
  if (doc.inbox[id]) throw new BoardError('exists', `inbox entry ${id} already exists`, 'id');
  const sector = txt(doc.sector) ?? '';
  return commit(doc, ctx, (d) => {
    const n: StoredNotice = {
      kind: imm(NOTICE_KIND),
      title: imm(title),
      ...(beat ? { beat: imm(beat) } : {}),
      startsAt,
      place: imm(place),
      details: imm(details),
      deliveredAt: ctx.at,
      by: storeActor(ctx.by),
      recipients: [{ kind: imm('sector'), id: imm(sector) }],
      readBy: {},
    };
    d.inbox[id] = n;
  });
}

function receipts(readBy: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(readBy ?? {}).sort()) {
    const at = readBy?.[k];
    if (typeof at === 'number') out[k] = at;
  }
  return out;
}

export function deriveReport(id: string, r: StoredReport): CareReportView {
  const recipients: Recipient[] = (r.recipients ?? []).map((x) => ({ kind: txt(x.kind) === 'supervisor' ? 'supervisor' : 'unit', id: txt(x.id) ?? '' }));
  const view: CareReportView = {
    id,
    beat: txt(r.beat) ?? '',
    title: txt(r.title) ?? '',
    body: txt(r.body) ?? '',
    incidentAt: r.incidentAt,
    deliveredAt: r.deliveredAt,
    by: readActor(r.by),
    recipients,
    readBy: receipts(r.readBy),
  };
  const callId = txt(r.callId);
  if (callId) view.callId = callId;
  return view;
}

export function deriveNotice(id: string, n: StoredNotice): NoticeView {
  const view: NoticeView = {
    id,
    title: txt(n.title) ?? '',
    startsAt: typeof n.startsAt === 'number' ? n.startsAt : 0,
    place: txt(n.place) ?? '',
    details: txt(n.details) ?? '',
    postedAt: n.deliveredAt,
    by: readActor(n.by),
    readBy: receipts(n.readBy),
  };
  const beat = txt(n.beat);
  if (beat) view.beat = beat;
  return view;
}
