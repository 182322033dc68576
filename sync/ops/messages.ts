// Messages between the units of a sector and dispatch. A message is an inbox entry of kind
// `message` (sync/schema.ts, StoredMessage): written once, text immutable, with per-recipient read
// receipts that merge from every device. A car sends as its own unit; an operator at the
// precinct sends as dispatch. The precinct's author guard (sync/author-guard.ts) holds cars to the
// same rules for changes that arrive from the wire.
import {
  BoardError,
  DISPATCH_ID,
  type MessageId,
  type MessageParty,
  type MessageView,
  type OpContext,
  type StoredMessage,
  type UnitId,
} from '../schema.js';
import { checkCtx, commit, eventKey, fail, imm, readActor, reqId, reqText, txt, requireOwnUnit, storeActor, type SectorBoard } from './common.js';

export const MESSAGE_KIND = 'message';
export const MESSAGE_MAX_CHARS = 1000;
export const MESSAGE_MAX_RECIPIENTS = 20;

export interface SendMessageInput {
  /** Defaults to a time-ordered id; give one to make a retried request idempotent. */
  id?: MessageId | string;
  /** Units of the sector and/or dispatch (`{ kind: 'dispatch' }`). */
  to: Array<{ kind: 'unit'; id: UnitId | string } | { kind: 'dispatch'; id?: string }>;
  text: string;
}

function senderOf(ctx: OpContext): MessageParty {
  const by = ctx.by;
  if (by.kind === 'operator') return { kind: 'dispatch', id: DISPATCH_ID };
  if (by.kind === 'vehicle') {
    if (by.unitId === undefined) fail('ctx.by.unitId', 'a car sends messages as its unit: the vehicle must be bound to one');
    return { kind: 'unit', id: by.unitId };
  }
  throw new BoardError('forbidden', 'sendMessage may not be done by the dispatch policy');
}

function recipientsOf(doc: SectorBoard, input: SendMessageInput, from: MessageParty): MessageParty[] {
  if (!Array.isArray(input.to) || input.to.length === 0) fail('to', 'name at least one recipient: a unit of the sector or dispatch');
  if (input.to.length > MESSAGE_MAX_RECIPIENTS) fail('to', `at most ${MESSAGE_MAX_RECIPIENTS} recipients`);
  const seen = new Set<string>();
  return input.to.map((r, i) => {
    let party: MessageParty;
    if (r?.kind === 'dispatch') party = { kind: 'dispatch', id: DISPATCH_ID };
    else if (r?.kind === 'unit') {
      const id = reqId(`to[${i}].id`, r.id);
      if (id === DISPATCH_ID) fail(`to[${i}].id`, `"${DISPATCH_ID}" names dispatch, not a unit: use { kind: 'dispatch' }`);
      if (!doc.units[id]) throw new BoardError('not_found', `to[${i}].id: unit ${id} is not on the board of sector ${txt(doc.sector)}`, `to[${i}].id`);
      party = { kind: 'unit', id };
    } else fail(`to[${i}].kind`, 'must be unit or dispatch');
    if (party.id === from.id) fail(`to[${i}]`, from.kind === 'dispatch' ? 'dispatch sends to units, not to itself' : 'a unit does not message itself');
    if (seen.has(party.id)) fail(`to[${i}]`, `${party.id} is listed twice`);
    seen.add(party.id);
    return party;
  });
}

export function sendMessage(doc: SectorBoard, input: SendMessageInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const from = senderOf(ctx);
  const to = recipientsOf(doc, input, from);
  const text = reqText('text', input.text, MESSAGE_MAX_CHARS);
  const id = input.id === undefined ? `M-${eventKey(ctx.at)}` : reqId('id', input.id);
  if (doc.inbox[id]) throw new BoardError('exists', `inbox entry ${id} already exists`, 'id');
  return commit(doc, ctx, (d) => {
    const m: StoredMessage = {
      kind: imm(MESSAGE_KIND),
      from: { kind: imm(from.kind), id: imm(from.id) },
      text: imm(text),
      deliveredAt: ctx.at,
      by: storeActor(ctx.by),
      recipients: to.map((p) => ({ kind: imm(p.kind), id: imm(p.id) })),
      readBy: {},
    };
    d.inbox[id] = m;
  });
}

export interface MarkMessageReadInput {
  messageId: MessageId | string;
  /** The reading unit (a car reads only as its own unit). */
  unitId?: UnitId | string;
  /** Dispatch reading at the precinct (operators only). */
  dispatch?: true;
}

export function markMessageRead(doc: SectorBoard, input: MarkMessageReadInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('messageId', input.messageId);
  if ((input.unitId === undefined) === (input.dispatch !== true)) fail('unitId', 'give exactly one of unitId or dispatch');
  let reader: string;
  if (input.dispatch === true) {
    if (ctx.by.kind !== 'operator') throw new BoardError('forbidden', `only an operator at the precinct reads messages as dispatch, not a ${ctx.by.kind}`, 'dispatch');
    reader = DISPATCH_ID;
  } else {
    reader = reqId('unitId', input.unitId);
    if (ctx.by.kind !== 'vehicle') throw new BoardError('forbidden', `a unit's read receipt is written by its car, not by a ${ctx.by.kind}`, 'unitId');
    requireOwnUnit(ctx, 'markMessageRead', reader);
  }
  const m = doc.inbox[id];
  if (!m || txt(m.kind) !== MESSAGE_KIND) throw new BoardError('not_found', `message ${id} is not on this sector's board`, 'messageId');
  if (!m.recipients.some((r) => txt(r.id) === reader)) throw new BoardError('forbidden', `${reader} is not a recipient of message ${id}`, input.dispatch ? 'dispatch' : 'unitId');
  if (typeof m.readBy[reader] === 'number') return doc;
  return commit(doc, ctx, (d) => {
    const x = d.inbox[id];
    if (x) x.readBy[reader] = ctx.at;
  });
}

function party(kind: unknown, id: unknown): MessageParty | undefined {
  const k = txt(kind);
  const i = txt(id);
  if (k === 'dispatch') return { kind: 'dispatch', id: DISPATCH_ID };
  if (k === 'unit' && i) return { kind: 'unit', id: i };
  return undefined;
}

/** The read model of one stored message; undefined for an entry too broken to show. */
export function deriveMessage(id: string, m: StoredMessage): MessageView | undefined {
  const from = party(m.from?.kind, m.from?.id);
  if (!from || typeof m.deliveredAt !== 'number') return undefined;
  const to = (m.recipients ?? []).map((r) => party(r.kind, r.id)).filter((p): p is MessageParty => p !== undefined);
  const readBy: Record<string, number> = {};
  for (const k of Object.keys(m.readBy ?? {}).sort()) {
    const at = m.readBy[k];
    if (typeof at === 'number') readBy[k] = at;
  }
  return { id, from, to, text: txt(m.text) ?? '', sentAt: m.deliveredAt, by: readActor(m.by), readBy };
}
