// The dispatch section as a technician meets it: in the example precinct config, in the precinct
// guide's snippet, and with a schedule file named relative to the config file.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrecinctConfig, parseConfig, precinctConfigSchema } from '../../../daemon/config.js';
import { packagePath } from '../../../daemon/paths.js';
import { loadSchedule } from '../../../dispatch/schedule.js';
import { sampleDepartment } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdt-deploy-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the dispatch section of a precinct config', () => {
  it('is in the example config, with the policy\'s defaults and no sample schedule', async () => {
    const raw = JSON.parse(await readFile(packagePath('deploy', 'precinct.example.json'), 'utf8')) as { dispatch?: unknown };
    expect(raw.dispatch).toEqual({ holdMinutes: 30, lateReportMinutes: 60 });
    const cfg = parseConfig(precinctConfigSchema, raw, 'precinct.example.json');
    expect(cfg.dispatch).toEqual({ holdMinutes: 30, lateReportMinutes: 60 });
  });

  it('the precinct guide\'s snippet is a valid section', async () => {
    const guide = await readFile(packagePath('docs', 'precinct-guide.md'), 'utf8');
    const snippet = /```json\n("dispatch": \{[\s\S]*?\n\})\n```/.exec(guide)?.[1];
    expect(snippet).toBeDefined();
    const cfg = parseConfig(precinctConfigSchema, JSON.parse(`{ "precinct": { "id": "N", "name": "North" }, ${snippet} }`), 'precinct-guide.md');
    expect(cfg.dispatch).toEqual({ holdMinutes: 30, scheduleFile: '/etc/mdt/schedule-2026.json', lateReportMinutes: 60 });
  });

  it('resolves a relative scheduleFile against the config file, and the sample schedule loads from there', async () => {
    const example = JSON.parse(await readFile(packagePath('deploy', 'precinct.example.json'), 'utf8')) as Record<string, unknown>;
    await copyFile(packagePath('deploy', 'sample-department', 'schedule.json'), join(dir, 'schedule.json'));
    const file = join(dir, 'precinct.json');
    await writeFile(file, JSON.stringify({ ...example, stateDir: join(dir, 'state'), dispatch: { holdMinutes: 20, scheduleFile: 'schedule.json' } }));
    const cfg = await loadPrecinctConfig(file);
    expect(cfg.dispatch).toEqual({ holdMinutes: 20, scheduleFile: join(dir, 'schedule.json'), lateReportMinutes: 60 });
    const { schedule } = await loadSchedule(cfg.dispatch.scheduleFile!, await sampleDepartment());
    expect(schedule.assignments.length).toBeGreaterThan(0);
  });

  it('names the field at fault', () => {
    const base = { precinct: { id: 'N', name: 'North' } };
    for (const [dispatch, field] of [
      [{ holdMinutes: 0 }, 'dispatch.holdMinutes'],
      [{ holdMinutes: 500 }, 'dispatch.holdMinutes'],
      [{ lateReportMinutes: 1.5 }, 'dispatch.lateReportMinutes'],
      [{ holdMinute: 30 }, 'dispatch'],
    ] as const) {
      expect(() => parseConfig(precinctConfigSchema, { ...base, dispatch }, 'p.json'), JSON.stringify(dispatch)).toThrow(new RegExp(`p\\.json: ${field.replace('.', '\\.')}`));
    }
  });
});
