// A Watch Commander's "cut this sector's board now": the same cut as the nightly one
// (sync/precinct-epochs.ts: close, carry the live work over, announce), on demand. A department
// wants it after an unusually busy day whose board has grown large, or before maintenance at the
// time the nightly cut would fall; a soak that models days in minutes drives the real cut with it.
import type { OperatorRole, Operator } from '../daemon/operators.js';
import type { PrecinctEpochs } from '../sync/precinct-epochs.js';
import { ActionError } from './operator-actions.js';

const CUTTERS: readonly OperatorRole[] = ['watch_commander'];

export interface EpochCut {
  sector: string;
  from: string;
  to: string;
  carried: { calls: number; units: number; reports: number };
}

export async function cutEpochNow(sectors: ReadonlyMap<string, { epochs: PrecinctEpochs }>, op: Operator, sector: string): Promise<EpochCut> {
  if (!CUTTERS.includes(op.role)) throw new ActionError(403, 'forbidden', undefined, `cutting a sector's epoch needs the role ${CUTTERS.join(' or ')}; ${op.id} is ${op.role}`);
  const st = sectors.get(sector);
  if (!st) throw new ActionError(404, 'not_found', 'sector', `sector ${sector} is not served by this precinct`);
  const from = st.epochs.epoch;
  const carried = await st.epochs.rollover();
  // nextEpochId never repeats the live id, so a refusal here means a cut raced this one.
  if (!carried) throw new ActionError(409, 'refused', 'sector', `sector ${sector} is already on a new epoch`);
  return { sector, from, to: st.epochs.epoch, carried: { calls: carried.calls.length, units: carried.units.length, reports: carried.reports.length } };
}
