// The sector board: one Automerge document per sector and epoch. This module and sync/ops/ are
// the only code that calls Automerge.change on it; everyone else calls the named operations and
// reads the plain BoardView.
import { createHash } from 'node:crypto';
import * as Automerge from '@automerge/automerge';
import {
  BoardError,
  SCHEMA_VERSION,
  isValidId,
  type BeatView,
  type BoardView,
  type CareReportView,
  type CallView,
  type MessageView,
  type NoticeView,
  type SectorId,
  type StoredBoard,
  type StoredMessage,
  type StoredNotice,
  type StoredReport,
  type StoredCallEvent,
  type StoredUnitEvent,
  type UnitView,
} from './schema.js';
import { assertWritable, imm, readActor, txt, type SectorBoard } from './ops/common.js';
import { ARCHIVED, deriveCall, deriveUnit, terminalOf } from './ops/derive.js';
import { NOTICE_KIND, deriveNotice, deriveReport } from './ops/inbox.js';
import { MESSAGE_KIND, deriveMessage } from './ops/messages.js';

export type { SectorBoard } from './ops/common.js';
export { BoardError } from './schema.js';
export { upsertUnit, signOn, signOff, setUnitStatus } from './ops/units.js';
export type { UpsertUnitInput, SignOnInput, SetUnitStatusInput } from './ops/units.js';
export { createCall, assignUnit, acceptCall, holdCall, releaseHold, addNote, clearCall, cancelCall, updateCall, transferCall, receiveTransfer } from './ops/calls.js';
export type { CreateCallInput, UpdateCallInput, ReceiveTransferInput } from './ops/calls.js';
export { upsertBeat } from './ops/beats.js';
export type { UpsertBeatInput, BeatPlanInput } from './ops/beats.js';
export { deliverReport, markRead, postNotice } from './ops/inbox.js';
export type { PostNoticeInput } from './ops/inbox.js';
export { sendMessage, markMessageRead } from './ops/messages.js';
export type { SendMessageInput, MarkMessageReadInput } from './ops/messages.js';
/** Cheap single-entity reads (one entity's log keys, not the whole board): for dispatch decisions. */
export { callView as readCall, unitView as readUnit } from './ops/read.js';
export type { DeliverReportInput, MarkReadInput } from './ops/inbox.js';

/**
 * The actor of the genesis change, derived from (sector, epoch): every replica that creates the
 * board independently produces the byte-identical first change, so their root maps are the same
 * objects and their later edits merge instead of one replica's maps replacing the other's.
 */
export function genesisActor(sector: string, epoch: string): string {
  return createHash('sha256').update(`mdt-sector-board-genesis\0${sector}\0${epoch}`).digest('hex').slice(0, 32);
}

export const docIdOf = (sector: string, epoch: string): string => `${sector}@${epoch}`;

/**
 * The genesis change is frozen forever: it always writes schemaVersion 1 and the same root maps.
 * A later schema moves forward with a migration change after genesis, so boards created by
 * daemons of different versions still share one genesis and merge.
 */
function genesis(sector: SectorId | string, epoch: string): SectorBoard {
  if (!isValidId(sector)) throw new BoardError('invalid_input', `sector must be an id, got ${JSON.stringify(sector)}`, 'sector');
  if (!isValidId(epoch)) throw new BoardError('invalid_input', `epoch must be an id, got ${JSON.stringify(epoch)}`, 'epoch');
  const empty = Automerge.init<StoredBoard>({ actor: genesisActor(sector, epoch) });
  return Automerge.change(empty, { time: 0 }, (d) => {
    d.schemaVersion = 1;
    d.sector = imm(sector);
    d.epoch = imm(epoch);
    d.units = {};
    d.calls = {};
    d.unitLog = {};
    d.callLog = {};
    d.inbox = {};
    d.beats = {};
  });
}

/**
 * Creates the board for (sector, epoch): the deterministic genesis, then a copy carrying this
 * replica's own actor id (random when not given). Never edit the genesis doc itself: two replicas
 * writing as the same actor would produce conflicting changes with equal sequence numbers.
 */
export function createBoard(sector: SectorId | string, epoch: string, actorId?: string): SectorBoard {
  const g = genesis(sector, epoch);
  const doc = Automerge.clone(g, actorId);
  Automerge.free(g);
  return upgradeBoard(doc, { at: 0 });
}

export interface Migration {
  /** Version the document has before the migration. */
  from: number;
  /** Must be idempotent: two replicas may migrate the same document concurrently. */
  migrate(d: StoredBoard): void;
}

/** Schema migrations in order; empty while version 1 is the only version. */
export const MIGRATIONS: readonly Migration[] = [];

/**
 * Brings an older document up to `target` (default: this daemon's SCHEMA_VERSION) in one change,
 * and refuses a newer one with a BoardError (code schema_too_new) rather than touching it.
 */
export function upgradeBoard(doc: SectorBoard, opts: { at: number; target?: number; migrations?: readonly Migration[] }): SectorBoard {
  const target = opts.target ?? SCHEMA_VERSION;
  const migrations = opts.migrations ?? MIGRATIONS;
  const v = doc.schemaVersion;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new BoardError('schema_invalid', 'document has no valid schemaVersion: not a sector board');
  if (v > target) {
    throw new BoardError(
      'schema_too_new',
      `sector board ${txt(doc.sector)}@${txt(doc.epoch)} has schema version ${v}, this daemon understands up to ${target}: upgrade the daemon; the document was left untouched`,
    );
  }
  if (v === target) return doc;
  const steps: Migration[] = [];
  for (let from = v; from < target; from++) {
    const m = migrations.find((x) => x.from === from);
    if (!m) throw new BoardError('schema_invalid', `no migration from schema version ${from} to ${from + 1}`);
    steps.push(m);
  }
  return Automerge.change(doc, { message: `migrate schema ${v} -> ${target}`, time: Math.floor(opts.at / 1000) }, (d) => {
    for (const m of steps) m.migrate(d);
    d.schemaVersion = target;
  });
}

/** Structural guard for a document that arrived from disk or the wire, before anything reads it. */
export function assertBoard(doc: unknown): asserts doc is SectorBoard {
  const d = doc as Partial<StoredBoard> | null;
  if (!d || typeof d !== 'object') throw new BoardError('schema_invalid', 'not a document');
  for (const k of ['units', 'calls', 'unitLog', 'callLog', 'inbox', 'beats'] as const) {
    if (!d[k] || typeof d[k] !== 'object') throw new BoardError('schema_invalid', `sector board is missing its ${k} map`, k);
  }
  assertWritable(doc as SectorBoard);
}

function groupLog<E>(log: Record<string, E>): Map<string, E[]> {
  const byEntity = new Map<string, E[]>();
  for (const key of Object.keys(log).sort()) {
    const sep = key.indexOf('~');
    if (sep <= 0) continue;
    const entity = key.slice(0, sep);
    const e = log[key];
    if (e === undefined) continue;
    const list = byEntity.get(entity);
    if (list) list.push(e);
    else byEntity.set(entity, [e]);
  }
  return byEntity;
}

/**
 * The plain read model. Pure function of the document's changes: replicas holding the same
 * changes return deep-equal views whatever order the changes were merged in.
 */
export function readBoard(doc: SectorBoard): BoardView {
  assertBoard(doc);
  // Outside a change, an Automerge 3 document is already plain, materialised JS (proxies exist
  // only inside change()): read it as it is. A toJS() copy cost a car ~60 ms CPU at start and is
  // repeated on every change. Nothing below writes to `s`; the view holds no reference into it.
  const s = doc;
  const callEvents = groupLog<StoredCallEvent>(s.callLog);
  const unitEvents = groupLog<StoredUnitEvent>(s.unitLog);

  const calls: Record<string, CallView> = {};
  const stacked = new Map<string, string[]>();
  for (const id of Object.keys(s.calls).sort()) {
    const c = s.calls[id];
    if (!c) continue;
    const view = deriveCall(id, c, callEvents.get(id) ?? []);
    calls[id] = view;
    const waitingFor = view.hold?.unitId;
    if (waitingFor) stacked.set(waitingFor, [...(stacked.get(waitingFor) ?? []), id]);
  }
  const units: Record<string, UnitView> = {};
  for (const id of Object.keys(s.units).sort()) {
    const u = s.units[id];
    if (!u) continue;
    units[id] = deriveUnit(id, u, unitEvents.get(id) ?? [], (c) => (calls[c] ? terminalOf(calls[c]) : ARCHIVED), stacked.get(id) ?? []);
  }
  const inbox: Record<string, CareReportView> = {};
  const messages: Record<string, MessageView> = {};
  const notices: Record<string, NoticeView> = {};
  for (const id of Object.keys(s.inbox).sort()) {
    const r = s.inbox[id];
    if (!r) continue;
    // Entries of a kind this daemon does not know (a newer peer's) are left out, never shown as reports.
    const kind = txt(r.kind);
    if (kind === undefined) inbox[id] = deriveReport(id, r as StoredReport);
    else if (kind === MESSAGE_KIND) {
      const m = deriveMessage(id, r as StoredMessage);
      if (m) messages[id] = m;
    } else if (kind === NOTICE_KIND) notices[id] = deriveNotice(id, r as StoredNotice);
  }
  const beats: Record<string, BeatView> = {};
  for (const id of Object.keys(s.beats).sort()) {
    const b = s.beats[id];
    if (!b) continue;
    const plans: BeatView['plans'] = {};
    for (const pid of Object.keys(b.plans ?? {}).sort()) {
      const p = b.plans[pid];
      if (!p) continue;
      plans[pid] = {
        id: pid,
        problem: txt(p.problem) ?? '',
        analysis: txt(p.analysis) ?? '',
        response: txt(p.response) ?? '',
        assessment: txt(p.assessment) ?? '',
        updatedAt: p.updatedAt,
        by: readActor(p.by),
      };
    }
    beats[id] = {
      id,
      name: txt(b.name) ?? id,
      profile: {
        characteristics: txt(b.characteristics) ?? '',
        resources: (b.resources ?? []).map((x) => txt(x) ?? ''),
        crimeProblems: (b.crimeProblems ?? []).map((x) => txt(x) ?? ''),
      },
      plans,
      updatedAt: b.updatedAt,
    };
  }
  const view: BoardView = { schemaVersion: s.schemaVersion, sector: txt(s.sector) ?? '', epoch: txt(s.epoch) ?? '', units, calls, inbox, messages, notices, beats };
  if (s.closed && typeof s.closed.at === 'number') view.closed = { at: s.closed.at, nextEpoch: txt(s.closed.nextEpoch) ?? '' };
  if (s.openedFrom && typeof s.openedFrom.at === 'number') view.openedFrom = { at: s.openedFrom.at, epoch: txt(s.openedFrom.epoch) ?? '' };
  return view;
}
