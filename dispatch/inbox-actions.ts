// What dispatch does with the inbox at the precinct: send messages to units, read the messages
// cars send to dispatch, and post neighborhood watch meeting notices to the sectors' cars. Shared
// by the JSON API and the Watch Commander console, like dispatch/operator-actions.ts.
import { randomBytes } from 'node:crypto';
import * as board from '../sync/board.js';
import type { MessageView, NoticeView } from '../sync/schema.js';
import type { Operator, OperatorRole } from '../daemon/operators.js';
import { ActionError, ctxOf, write, type ActionDeps } from './operator-actions.js';

/** Who speaks for dispatch and the precinct to the cars. */
const DISPATCH_ROLES: readonly OperatorRole[] = ['dispatcher', 'watch_commander'];

function requireDispatch(op: Operator, what: string): void {
  if (!DISPATCH_ROLES.includes(op.role)) throw new ActionError(403, 'forbidden', undefined, `${what} needs the role ${DISPATCH_ROLES.join(' or ')}; ${op.id} is ${op.role}`);
}

/** Time-ordered and unique across the precinct's operators (the same shape as CARE report ids). */
const newId = (prefix: string, at: number): string => `${prefix}-${at.toString(36)}-${randomBytes(4).toString('hex')}`;

function sectorState(deps: ActionDeps, sector: string) {
  const s = deps.sectors.get(sector);
  if (!s) throw new ActionError(404, 'not_found', 'sector', `sector ${sector} is not served by precinct ${deps.precinct.id}`);
  return s;
}

export interface DispatchMessage {
  sector: string;
  /** Units of that sector. */
  to: string[];
  text: string;
}

export async function sendDispatchMessage(deps: ActionDeps, op: Operator, input: DispatchMessage): Promise<MessageView> {
  requireDispatch(op, 'sending a message to units');
  const s = sectorState(deps, input.sector);
  const ctx = ctxOf(deps, op);
  const id = newId('M', ctx.at);
  await write(s.replica, (d) => board.sendMessage(d, { id, to: input.to.map((u) => ({ kind: 'unit' as const, id: u })), text: input.text }, ctx));
  const view = s.replica.view().messages[id];
  if (!view) throw new ActionError(409, 'refused', undefined, 'the message was not recorded');
  return view;
}

export interface SectorMessage extends MessageView {
  sector: string;
}

/** Messages to dispatch on the precinct's boards, unread first, then newest first. */
export function dispatchInbox(deps: ActionDeps, opts: { sector?: string; unreadOnly?: boolean } = {}): SectorMessage[] {
  const sectors = opts.sector !== undefined ? [[opts.sector, sectorState(deps, opts.sector)] as const] : [...deps.sectors];
  const out: SectorMessage[] = [];
  for (const [sector, s] of sectors) {
    for (const m of Object.values(s.replica.view().messages)) {
      if (!m.to.some((p) => p.kind === 'dispatch')) continue;
      if (opts.unreadOnly && m.readBy.dispatch !== undefined) continue;
      out.push({ sector, ...m });
    }
  }
  const unread = (m: SectorMessage) => (m.readBy.dispatch === undefined ? 0 : 1);
  return out.sort((a, b) => unread(a) - unread(b) || b.sentAt - a.sentAt || (a.id < b.id ? 1 : -1));
}

export async function markDispatchRead(deps: ActionDeps, op: Operator, sector: string, messageId: string): Promise<void> {
  requireDispatch(op, 'reading messages to dispatch');
  const s = sectorState(deps, sector);
  await write(s.replica, (d) => board.markMessageRead(d, { messageId, dispatch: true }, ctxOf(deps, op)));
}

export interface NewNotice {
  title: string;
  startsAt: number;
  place: string;
  details?: string;
  /** A beat of the precinct: the notice goes to its sector. */
  beat?: string;
  /** A sector of the precinct; with neither beat nor sector, every sector the precinct serves. */
  sector?: string;
}

/** Posts a watch meeting notice to the board of each sector it concerns. */
export async function postWatchNotice(deps: ActionDeps, op: Operator, input: NewNotice): Promise<Array<{ sector: string; notice: NoticeView }>> {
  requireDispatch(op, 'posting a neighborhood watch meeting notice');
  let sectors: string[];
  if (input.beat !== undefined) {
    const beat = deps.department.beats[input.beat];
    if (!beat || !deps.sectors.has(beat.sector)) throw new ActionError(400, 'invalid', 'beat', `beat ${input.beat} is not in a sector of precinct ${deps.precinct.id}`);
    if (input.sector !== undefined && input.sector !== beat.sector) throw new ActionError(400, 'invalid', 'sector', `beat ${input.beat} is in sector ${beat.sector}, not ${input.sector}`);
    sectors = [beat.sector];
  } else if (input.sector !== undefined) {
    sectorState(deps, input.sector);
    sectors = [input.sector];
  } else sectors = [...deps.sectors.keys()];
  const ctx = ctxOf(deps, op);
  if (input.startsAt < ctx.at - 86_400_000) throw new ActionError(400, 'invalid', 'startsAt', 'the meeting is more than a day in the past');
  const out: Array<{ sector: string; notice: NoticeView }> = [];
  for (const sector of sectors) {
    const s = sectorState(deps, sector);
    const id = newId('W', ctx.at);
    await write(s.replica, (d) =>
      board.postNotice(d, { id, title: input.title, startsAt: input.startsAt, place: input.place, ...(input.details ? { details: input.details } : {}), ...(input.beat ? { beat: input.beat } : {}) }, ctx),
    );
    const notice = s.replica.view().notices[id];
    if (notice) out.push({ sector, notice });
  }
  return out;
}
