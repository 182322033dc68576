// The replay on a slice of the real records: every call is decided, no policy hold exceeds the
// limit, the figures add up, and the same records give the same figures (simulated time only).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CALLS } from '../../../daemon/sample-calls.js';
import { runReplay, type ReplayResult } from '../../../dispatch/replay.js';
import { formatFigures } from '../../../dispatch/figures.js';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-replay-'));
  const lines = (await readFile(SAMPLE_CALLS, 'utf8')).split('\n');
  // Header and the first North Precinct records: a busy evening in sector B and its neighbours.
  const north = lines.slice(1).filter((l) => l.split(',')[3] === 'NORTH').slice(0, 30);
  file = join(dir, 'calls.csv');
  await writeFile(file, [lines[0], ...north].join('\n') + '\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dispatch replay', () => {
  let result: ReplayResult;

  it('decides every call, keeps every hold within 30 minutes, and the figures add up', async () => {
    result = await runReplay({ callsFile: file, precincts: ['N'] });
    const f = result.figures;
    expect(result.calls).toBe(30);
    const c = f.counts;
    expect(c.immediate + c.held_then_beat_officer + c.reassigned_after_deadline + c.hold_released + c.override + c.held_open + c.waiting + c.cancelled).toBe(f.calls);
    expect(c.waiting + c.held_open).toBe(0);
    expect(f.hold.maxMs).toBeLessThanOrEqual(30 * 60_000);
    expect(f.receiptToDispatch[1]?.maxMs ?? 0).toBeLessThan(1000); // emergencies are never held
    expect(f.beatIntegrity.ownBeatOfficer).toBeGreaterThan(f.beatIntegrity.dispatched / 2);
    expect([...f.perUnit.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const table = formatFigures(f, { holdMs: result.holdMs });
    for (const heading of ['dispatched immediately', 'held for the beat officer', 'reassigned after the deadline', 'median hold', 'max hold', 'own beat officer', 'Receipt to dispatch', 'per beat', 'per unit']) {
      expect(table).toContain(heading);
    }
  });

  it('is deterministic', async () => {
    const again = await runReplay({ callsFile: file, precincts: ['N'] });
    expect(formatFigures(again.figures, { holdMs: again.holdMs })).toBe(formatFigures(result.figures, { holdMs: result.holdMs }));
  });
});
