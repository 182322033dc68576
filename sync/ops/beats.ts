// Beat profiles and beat plans. Profile fields are replaced whole (last writer wins: they are
// edited rarely, by the beat's officers or the Watch Commander); plans live in a map by plan id so
// two officers writing different plans offline both keep their work.
import { BoardError, type BeatId, type OpContext, type StoredPlan } from '../schema.js';
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

export function upsertBeat(doc: SectorBoard, input: UpsertBeatInput, ctx: OpContext): SectorBoard {
  checkCtx(ctx);
  const id = reqId('id', input.id);
  const name = reqText('name', input.name, 100);
  const profile = input.profile && {
    characteristics: typeof input.profile.characteristics === 'string' ? input.profile.characteristics.slice(0, 4000) : '',
    resources: reqTextList('profile.resources', input.profile.resources, 100, 300),
    crimeProblems: reqTextList('profile.crimeProblems', input.profile.crimeProblems, 100, 300),
  };
  const plans = (input.plans ?? []).map((p, i) => ({
    id: reqId(`plans[${i}].id`, p.id),
    problem: reqText(`plans[${i}].problem`, p.problem, 4000),
    analysis: typeof p.analysis === 'string' ? p.analysis.slice(0, 4000) : '',
    response: typeof p.response === 'string' ? p.response.slice(0, 4000) : '',
    assessment: typeof p.assessment === 'string' ? p.assessment.slice(0, 4000) : '',
  }));
  if (new Set(plans.map((p) => p.id)).size !== plans.length) throw new BoardError('invalid_input', 'plans: plan ids must be unique', 'plans');
  return commit(doc, ctx, `upsertBeat ${id}`, (d) => {
    let beat = d.beats[id];
    if (!beat) {
      d.beats[id] = { name: imm(name), characteristics: imm(''), resources: [], crimeProblems: [], plans: {}, updatedAt: ctx.at };
      beat = d.beats[id];
    }
    if (!beat) return;
    if (txt(beat.name) !== name) beat.name = imm(name);
    if (profile) {
      beat.characteristics = imm(profile.characteristics);
      beat.resources = profile.resources.map(imm);
      beat.crimeProblems = profile.crimeProblems.map(imm);
    }
    for (const p of plans) {
      const stored: StoredPlan = {
        problem: imm(p.problem),
        analysis: imm(p.analysis),
        response: imm(p.response),
        assessment: imm(p.assessment),
        updatedAt: ctx.at,
        by: storeActor(ctx.by),
      };
      beat.plans[p.id] = stored;
    }
    beat.updatedAt = ctx.at;
  });
}
