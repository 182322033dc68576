// Beat profiles and beat plans. The profile's lists (resources, crime problems) are replaced
// whole: last writer wins, they are short and edited rarely. The prose (characteristics and the
// four parts of each plan: problem, analysis, response, assessment) is collaborative text updated
// by diff, so two officers editing different passages of a plan offline both keep their work;
// plans live in a map by plan id, so different plans never collide either.
import * as Automerge from '@automerge/automerge';
import { BoardError, type BeatId, type OpContext, type StoredBoard } from '../schema.js';
import { checkCtx, commit, imm, reqId, reqText, reqTextList, storeActor, txt, type SectorBoard } from './common.js';

export interface BeatPlanInput {
  id: string;
  problem: string;
  analysis: string;
  response: string;
  assessment: string;
}

export interface UpsertBeatInput {
  id: BeatId | string;
  name: string;
  profile?: { characteristics: string; resources: string[]; crimeProblems: string[] };
  plans?: BeatPlanInput[];
}

const PLAN_FIELDS = ['problem', 'analysis', 'response', 'assessment'] as const;
const prose = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 4000) : '');

/** Writes text at path by diff (keeps concurrent edits elsewhere in the text) unless unchanged. */
function setText(d: StoredBoard, path: Array<string>, current: unknown, value: string): void {
  if (txt(current) === value) return;
  if (typeof current === 'string') {
    if (current !== value) Automerge.updateText(d as unknown as Automerge.Doc<unknown>, path, value);
    return;
  }
  // Absent, or an immutable snapshot carried over an epoch cut: start the text afresh.
  let obj: Record<string, unknown> = d as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) obj = obj[p] as Record<string, unknown>;
  obj[path.at(-1) as string] = value;
}

export function upsertBeat(doc: SectorBoard, input: UpsertBeatInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('id', input.id);
  const name = reqText('name', input.name, 100);
  const profile = input.profile && {
    characteristics: prose(input.profile.characteristics),
    resources: reqTextList('profile.resources', input.profile.resources, 100, 300),
    crimeProblems: reqTextList('profile.crimeProblems', input.profile.crimeProblems, 100, 300),
  };
  const plans = (input.plans ?? []).map((p, i) => ({
    id: reqId(`plans[${i}].id`, p.id),
    problem: reqText(`plans[${i}].problem`, p.problem, 4000),
    analysis: prose(p.analysis),
    response: prose(p.response),
    assessment: prose(p.assessment),
  }));
  if (new Set(plans.map((p) => p.id)).size !== plans.length) throw new BoardError('invalid_input', 'plans: plan ids must be unique', 'plans');
  return commit(doc, ctx, (d) => {
    if (!d.beats[id]) d.beats[id] = { name: imm(name), characteristics: '', resources: [], crimeProblems: [], plans: {}, updatedAt: ctx.at };
    const beat = d.beats[id];
    if (!beat) return;
    if (txt(beat.name) !== name) beat.name = imm(name);
    if (profile) {
      setText(d, ['beats', id, 'characteristics'], beat.characteristics, profile.characteristics);
      beat.resources = profile.resources.map(imm);
      beat.crimeProblems = profile.crimeProblems.map(imm);
    }
    for (const p of plans) {
      const existing = beat.plans[p.id];
      if (!existing) {
        beat.plans[p.id] = { problem: p.problem, analysis: p.analysis, response: p.response, assessment: p.assessment, updatedAt: ctx.at, by: storeActor(ctx.by) };
        continue;
      }
      for (const f of PLAN_FIELDS) setText(d, ['beats', id, 'plans', p.id, f], existing[f], p[f]);
      existing.updatedAt = ctx.at;
      existing.by = storeActor(ctx.by);
    }
    beat.updatedAt = ctx.at;
  });
}
