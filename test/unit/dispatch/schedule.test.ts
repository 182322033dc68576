// The yearly schedule: import (JSON and CSV), validation naming the field, and who the beat
// officer is at a given instant, across midnight and a daylight-saving change.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Department } from '../../../daemon/department.js';
import { packagePath } from '../../../daemon/paths.js';
import {
  activeShifts,
  beatOfficersOfDay,
  loadSchedule,
  parseScheduleCsv,
  ScheduleError,
  scheduledBeatOfficers,
  shiftBoundaries,
  supervisorsOf,
  uniformSchedule,
  validateSchedule,
  zonedTime,
  type Schedule,
} from '../../../dispatch/schedule.js';
import { sampleDepartment } from './fixtures.js';

let dept: Department;
let sample: Schedule;
beforeAll(async () => {
  dept = await sampleDepartment();
  const loaded = await loadSchedule(packagePath('deploy', 'sample-department', 'schedule.json'), dept);
  sample = loaded.schedule;
  expect(loaded.warnings).toEqual([]);
});

const pacific = (iso: string) => Date.parse(`${iso}-08:00`);

describe('beat officers from the sample schedule (sector B, 2026)', () => {
  it('follows the three watches, the night watch belonging to the day it starts', () => {
    expect(scheduledBeatOfficers(sample, 'B1', pacific('2026-03-02T10:00:00'))).toEqual(['NB11']);
    expect(scheduledBeatOfficers(sample, 'B1', pacific('2026-03-02T15:00:00'))).toEqual(['NB12']);
    expect(scheduledBeatOfficers(sample, 'B2', pacific('2026-03-02T23:30:00'))).toEqual(['NB23']);
    expect(scheduledBeatOfficers(sample, 'B2', pacific('2026-03-03T05:59:59'))).toEqual(['NB23']);
    expect(scheduledBeatOfficers(sample, 'B2', pacific('2026-03-03T06:00:00'))).toEqual(['NB21']);
  });

  it('changes watch at 14:00 sharp', () => {
    expect(scheduledBeatOfficers(sample, 'B3', pacific('2026-03-02T13:59:59'))).toEqual(['NB31']);
    expect(scheduledBeatOfficers(sample, 'B3', pacific('2026-03-02T14:00:00'))).toEqual(['NB32']);
  });

  it('adds the summer bicycle unit on Friday and Saturday second watch', () => {
    // 2026-07-03 is a Friday; Pacific daylight time (UTC-7).
    const fri = Date.parse('2026-07-03T16:00:00-07:00');
    expect(scheduledBeatOfficers(sample, 'B1', fri)).toEqual(['NB12', 'NB1K']);
    expect(scheduledBeatOfficers(sample, 'B1', fri - 86_400_000)).toEqual(['NB12']);
  });

  it('keeps local shift times across the daylight-saving change', () => {
    // 2026-03-08: clocks go forward at 02:00; the first watch starts 06:00 PDT = 13:00Z.
    expect(new Date(zonedTime('2026-03-08', '06:00', 'America/Los_Angeles')).toISOString()).toBe('2026-03-08T13:00:00.000Z');
    expect(new Date(zonedTime('2026-03-07', '06:00', 'America/Los_Angeles')).toISOString()).toBe('2026-03-07T14:00:00.000Z');
    const night = activeShifts(sample, Date.parse('2026-03-08T03:30:00-07:00'));
    expect(night.map((s) => `${s.shift}@${s.day}`)).toEqual(['third@2026-03-07']);
  });

  it('lists every beat officer of the day and the sector supervisors for CARE reports', () => {
    expect(beatOfficersOfDay(sample, 'B2', pacific('2026-03-02T10:00:00'))).toEqual(['NB21', 'NB22', 'NB23']);
    expect(supervisorsOf(sample, 'B').map((s) => s.id)).toEqual(['SGT-B1', 'SGT-B3', 'LT-N1']);
  });

  it('names the shift boundaries node-cron runs the shift change at', () => {
    expect(shiftBoundaries(sample)).toEqual(['06:00', '14:00', '22:00']);
  });
});

describe('validation', () => {
  const base = () => JSON.parse(JSON.stringify(sample)) as Record<string, unknown> & { assignments: Array<Record<string, unknown>>; shifts: Record<string, Record<string, string>> };
  const field = (raw: unknown): string => {
    try {
      validateSchedule(raw, dept, 'x.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ScheduleError);
      return `${(err as ScheduleError).field}: ${(err as ScheduleError).problem}`;
    }
    return 'valid';
  };

  it('names the field at fault', () => {
    const s1 = base();
    s1.assignments[2]!.beat = 'Z9';
    expect(field(s1)).toBe('assignments[2].beat: unknown beat Z9 (not in the department file)');
    const s2 = base();
    s2.shifts.first!.start = '6am';
    expect(field(s2)).toBe('shifts.first.start: expected HH:MM');
    const s3 = base();
    s3.assignments[0]!.shift = 'graveyard';
    expect(field(s3)).toMatch(/^assignments\[0\]\.shift: unknown shift graveyard/);
    const s4 = base();
    s4.assignments[1]!.to = '2025-12-31';
    expect(field(s4)).toBe('assignments[1].to: ends (2025-12-31) before it starts (2026-01-01)');
    const s5 = base();
    (s5 as Record<string, unknown>).extra = 1;
    expect(field(s5)).toBe('(root): unknown field(s) extra');
    const s6 = base();
    s6.assignments[0]!.from = '2026-02-30';
    expect(field(s6)).toBe('assignments[0].from: not a calendar date');
    expect(field({ ...base(), timeZone: 'Mars/Olympus' })).toMatch(/^timeZone: expected an IANA time zone/);
  });

  it('refuses a unit booked twice in one shift', () => {
    const s = base();
    s.assignments.push({ unit: 'NB11', beat: 'B2', shift: 'first', from: '2026-06-01', to: '2026-06-30', days: ['tue'] });
    expect(field(s)).toBe(`assignments[${s.assignments.length - 1}].unit: unit NB11 is already scheduled on 2026-06-02 first shift by assignments[0]`);
  });

  it('warns about beats and shifts nobody covers', () => {
    const s = base();
    s.assignments = s.assignments.filter((a) => !(a.beat === 'B3' && a.shift === 'third'));
    expect(validateSchedule(s, dept).warnings).toEqual(['beat B3 has no unit on 365 third shift(s) between 2026-01-01 and 2026-12-31 (first 2026-01-01)']);
  });

  it('reads the CSV form into the same schedule', () => {
    const csv = [
      '# timeZone America/Los_Angeles',
      '# shift day 07:00 17:00',
      '# shift night 17:00 03:00',
      '# supervisor SGT-B1 B sergeant Sgt. C. Whitfield',
      'unit,call_sign,beat,shift,from,to,days,officers,mode',
      'NB11,B1-Day,B1,day,2026-01-01,2026-12-31,daily,Ofc. A. Rivera;Ofc. B. Lee,car',
      'NB12,,B1,night,2026-01-01,2026-12-31,mon tue wed thu,,',
    ].join('\n');
    const { schedule } = validateSchedule(parseScheduleCsv(csv), dept, 'x.csv');
    expect(schedule.shifts.night).toEqual({ start: '17:00', end: '03:00' });
    expect(schedule.supervisors).toEqual([{ id: 'SGT-B1', sector: 'B', role: 'sergeant', name: 'Sgt. C. Whitfield' }]);
    expect(schedule.assignments[0]).toMatchObject({ unit: 'NB11', callSign: 'B1-Day', officers: ['Ofc. A. Rivera', 'Ofc. B. Lee'], days: 'daily' });
    expect(schedule.assignments[1]).toMatchObject({ unit: 'NB12', officers: [], days: ['mon', 'tue', 'wed', 'thu'], mode: 'car' });
    // Monday 2026-03-02 at 01:00 is still Sunday's night shift, which NB12 does not work.
    expect(scheduledBeatOfficers(schedule, 'B1', pacific('2026-03-02T01:00:00'))).toEqual([]);
    expect(scheduledBeatOfficers(schedule, 'B1', pacific('2026-03-03T01:00:00'))).toEqual(['NB12']);
  });

  it('builds a uniform schedule the validator accepts', () => {
    const u = uniformSchedule(dept, ['B', 'J'], 2024);
    expect(validateSchedule(u, dept).warnings).toEqual([]);
    expect(u.assignments).toHaveLength(18);
  });
});
