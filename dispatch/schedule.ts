// The yearly schedule: which unit (and officers) works which beat on which shift, day by day, and
// who supervises each sector. It is the source of "the beat officer" for the dispatch policy
// (beat integrity: officers stay on their beat all year). Imported from JSON or CSV (format in
// docs/dispatch.md), validated against the department's geography, errors naming the field.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { z } from 'zod';
import type { Department } from '../daemon/department.js';
import { splitCsvLine } from '../daemon/sample-calls.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const id = z.string().regex(ID, 'expected an id of letters, digits and . _ : - (1-64 chars)');
const date = z
  .string()
  .regex(DATE, 'expected a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a calendar date');

export const scheduleSchema = z
  .object({
    version: z.literal(1),
    /** IANA zone the shift times and dates are in (the department's local time). */
    timeZone: z.string().refine(validTimeZone, 'expected an IANA time zone such as America/Los_Angeles'),
    shifts: z
      .record(id, z.object({ start: z.string().regex(HHMM, 'expected HH:MM'), end: z.string().regex(HHMM, 'expected HH:MM') }).strict())
      .refine((s) => Object.keys(s).length > 0, 'define at least one shift'),
    supervisors: z
      .array(
        z
          .object({ id, sector: id, role: z.enum(['sergeant', 'lieutenant', 'watch_commander']), name: z.string().max(80).optional() })
          .strict(),
      )
      .default([]),
    assignments: z
      .array(
        z
          .object({
            unit: id,
            callSign: z.string().min(1).max(32).optional(),
            officers: z.array(z.string().min(1).max(64)).max(4).default([]),
            beat: id,
            shift: id,
            from: date,
            to: date,
            days: z.union([z.literal('daily'), z.array(z.enum(WEEKDAYS)).min(1)]).default('daily'),
            mode: z.enum(['car', 'foot', 'bicycle']).default('car'),
          })
          .strict(),
      )
      .min(1, 'list at least one assignment'),
  })
  .strict();

export type ScheduleFile = z.input<typeof scheduleSchema>;
export type Schedule = z.infer<typeof scheduleSchema>;
export type Assignment = Schedule['assignments'][number];
export type Supervisor = Schedule['supervisors'][number];

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Local time in the schedule's zone. Intl does the zone rules (DST included); no tz dependency.

const partsCache = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partsCache.set(tz, f);
  }
  return f;
}

/** Offset of the zone from UTC at instant t, in ms (local = utc + offset). */
function offsetAt(t: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const x of fmt(tz).formatToParts(new Date(t))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The local calendar date (YYYY-MM-DD) of instant t. */
export function localDate(t: number, tz: string): string {
  return new Date(t + offsetAt(t, tz)).toISOString().slice(0, 10);
}

/** The instant of local wall time `hhmm` on local date `day`. */
export function zonedTime(day: string, hhmm: string, tz: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const wall = Date.parse(`${day}T00:00:00Z`) + (h * 60 + m) * 60_000;
  // Two passes settle the offset across a DST change (the second uses the offset at the result).
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  return t;
}

const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const weekdayOf = (day: string): Weekday => WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()]!;

function worksOn(a: Assignment, day: string): boolean {
  if (day < a.from || day > a.to) return false;
  return a.days === 'daily' || a.days.includes(weekdayOf(day));
}

export interface ShiftInstance {
  shift: string;
  /** Local date the shift starts on (a night shift belongs to the day it starts). */
  day: string;
  start: number;
  end: number;
}

/** The shift instances that started on `day`, with their instants. */
export function shiftsOn(schedule: Schedule, day: string): ShiftInstance[] {
  return Object.entries(schedule.shifts).map(([name, s]) => {
    const start = zonedTime(day, s.start, schedule.timeZone);
    // An end at or before the start crosses midnight.
    const end = zonedTime(s.end > s.start ? day : addDays(day, 1), s.end, schedule.timeZone);
    return { shift: name, day, start, end };
  });
}

/** Shift instances in progress at t (shifts may overlap at a change of watch). */
export function activeShifts(schedule: Schedule, t: number): ShiftInstance[] {
  const today = localDate(t, schedule.timeZone);
  return [...shiftsOn(schedule, addDays(today, -1)), ...shiftsOn(schedule, today)].filter((s) => s.start <= t && t < s.end).sort((a, b) => a.start - b.start);
}

export interface OnDuty {
  assignment: Assignment;
  instance: ShiftInstance;
}

/** Every scheduled unit on duty at t, in shift start order then file order. */
export function onDutyAt(schedule: Schedule, t: number): OnDuty[] {
  const out: OnDuty[] = [];
  for (const instance of activeShifts(schedule, t)) {
    for (const a of schedule.assignments) if (a.shift === instance.shift && worksOn(a, instance.day)) out.push({ assignment: a, instance });
  }
  return out;
}

/** The beat officer(s) of a beat at t: units scheduled on it for a shift in progress. */
export function scheduledBeatOfficers(schedule: Schedule, beat: string, t: number): string[] {
  const ids: string[] = [];
  for (const d of onDutyAt(schedule, t)) if (d.assignment.beat === beat && !ids.includes(d.assignment.unit)) ids.push(d.assignment.unit);
  return ids;
}

/** Every unit scheduled on a beat on the local day of t, any shift (CARE reports reach them all). */
export function beatOfficersOfDay(schedule: Schedule, beat: string, t: number): string[] {
  const day = localDate(t, schedule.timeZone);
  const ids: string[] = [];
  for (const a of schedule.assignments) if (a.beat === beat && worksOn(a, day) && !ids.includes(a.unit)) ids.push(a.unit);
  return ids;
}

export function supervisorsOf(schedule: Schedule, sector: string): Supervisor[] {
  return schedule.supervisors.filter((s) => s.sector === sector);
}

/** Whether the schedule assigns any unit in the sector; a sector it leaves out falls back to the board's roster. */
export function coversSector(schedule: Schedule, department: Department, sector: string): boolean {
  return schedule.assignments.some((a) => department.beats[a.beat]?.sector === sector);
}

/** Distinct local HH:MM at which some shift starts or ends: when node-cron runs the shift change. */
export function shiftBoundaries(schedule: Schedule): string[] {
  return [...new Set(Object.values(schedule.shifts).flatMap((s) => [s.start, s.end]))].sort();
}

// ---------------------------------------------------------------------------------------------
// Import and validation.

export interface LoadedSchedule {
  schedule: Schedule;
  /** Not errors, but a Watch Commander should see them: beats and shifts nobody covers. */
  warnings: string[];
}

function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/** Validates a parsed schedule against the department; throws ScheduleError naming the field. */
export function validateSchedule(raw: unknown, department: Department, file = 'schedule'): LoadedSchedule {
  const parsed = scheduleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const problem = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    throw new ScheduleError(file, fieldOf(issue.path), problem);
  }
  const s = parsed.data;
  s.supervisors.forEach((sup, i) => {
    if (!department.sectors[sup.sector]) throw new ScheduleError(file, `supervisors[${i}].sector`, `unknown sector ${sup.sector}`);
  });
  s.assignments.forEach((a, i) => {
    if (!department.beats[a.beat]) throw new ScheduleError(file, `assignments[${i}].beat`, `unknown beat ${a.beat} (not in the department file)`);
    if (!s.shifts[a.shift]) throw new ScheduleError(file, `assignments[${i}].shift`, `unknown shift ${a.shift} (defined: ${Object.keys(s.shifts).join(', ')})`);
    if (a.to < a.from) throw new ScheduleError(file, `assignments[${i}].to`, `ends (${a.to}) before it starts (${a.from})`);
  });
  // One unit cannot work two beats (or the same beat twice) in the same shift on the same day.
  for (let i = 0; i < s.assignments.length; i++) {
    for (let j = i + 1; j < s.assignments.length; j++) {
      const a = s.assignments[i]!;
      const b = s.assignments[j]!;
      if (a.unit !== b.unit || a.shift !== b.shift) continue;
      const from = a.from > b.from ? a.from : b.from;
      const to = a.to < b.to ? a.to : b.to;
      for (let d = from; d <= to; d = addDays(d, 1)) {
        if (worksOn(a, d) && worksOn(b, d)) {
          throw new ScheduleError(file, `assignments[${j}].unit`, `unit ${a.unit} is already scheduled on ${d} ${a.shift} shift by assignments[${i}]`);
        }
        if (d >= from && weekSpan(from, d)) break;
      }
    }
  }
  return { schedule: s, warnings: coverageGaps(s, department) };
}

// Weekday patterns repeat weekly: once a full week of overlap has been checked, later days add nothing.
const weekSpan = (from: string, d: string): boolean => Date.parse(`${d}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`) >= 7 * 86_400_000;

/** For each scheduled sector: beats × shifts × days nobody is scheduled on, summarised per beat and shift. */
function coverageGaps(s: Schedule, department: Department): string[] {
  const dates = s.assignments.flatMap((a) => [a.from, a.to]).sort();
  const first = dates[0];
  const last = dates[dates.length - 1];
  if (!first || !last) return [];
  const sectors = new Set(s.assignments.map((a) => department.beats[a.beat]?.sector).filter((x): x is string => !!x));
  const warnings: string[] = [];
  for (const sector of [...sectors].sort()) {
    for (const beat of department.sectors[sector]?.beats ?? []) {
      for (const shift of Object.keys(s.shifts)) {
        let missing = 0;
        let firstMissing: string | undefined;
        for (let d = first; d <= last; d = addDays(d, 1)) {
          if (!s.assignments.some((a) => a.beat === beat && a.shift === shift && worksOn(a, d))) {
            missing++;
            firstMissing ??= d;
          }
        }
        if (missing > 0) warnings.push(`beat ${beat} has no unit on ${missing} ${shift} shift(s) between ${first} and ${last} (first ${firstMissing})`);
      }
    }
  }
  return warnings;
}

/**
 * CSV form: one assignment per line under the header
 * `unit,call_sign,beat,shift,from,to,days,officers,mode` (days `daily` or `mon tue ...`,
 * officers separated by `;`). Lines starting with `#` carry the rest:
 * `# timeZone America/Los_Angeles`, `# shift day 06:00 14:00`, `# supervisor SGT-B1 B sergeant Name`.
 */
export function parseScheduleCsv(text: string): unknown {
  const out: { version: 1; timeZone?: string; shifts: Record<string, { start: string; end: string }>; supervisors: unknown[]; assignments: unknown[] } = {
    version: 1,
    shifts: {},
    supervisors: [],
    assignments: [],
  };
  let header: string[] | undefined;
  for (const [n, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const [kind, ...rest] = line.slice(1).trim().split(/\s+/);
      if (kind === 'timeZone') out.timeZone = rest[0];
      else if (kind === 'shift') out.shifts[rest[0] ?? ''] = { start: rest[1] ?? '', end: rest[2] ?? '' };
      else if (kind === 'supervisor') out.supervisors.push({ id: rest[0], sector: rest[1], role: rest[2], ...(rest.length > 3 ? { name: rest.slice(3).join(' ') } : {}) });
      continue;
    }
    const cells = splitCsvLine(line).map((c) => c.trim());
    if (!header) {
      header = cells;
      for (const col of ['unit', 'beat', 'shift', 'from', 'to']) {
        if (!header.includes(col)) throw new ScheduleError('schedule.csv', `line ${n + 1}`, `header is missing column ${col}`);
      }
      continue;
    }
    const get = (col: string) => {
      const i = header!.indexOf(col);
      return i < 0 ? undefined : cells[i];
    };
    const days = get('days');
    const officers = get('officers');
    out.assignments.push({
      unit: get('unit'),
      ...(get('call_sign') ? { callSign: get('call_sign') } : {}),
      beat: get('beat'),
      shift: get('shift'),
      from: get('from'),
      to: get('to'),
      ...(days && days !== 'daily' ? { days: days.split(/\s+/) } : {}),
      ...(officers ? { officers: officers.split(';').map((o) => o.trim()).filter((o) => o !== '') } : {}),
      ...(get('mode') ? { mode: get('mode') } : {}),
    });
  }
  return out;
}

/** Loads a `.json` or `.csv` schedule file and validates it. */
export async function loadSchedule(file: string, department: Department): Promise<LoadedSchedule> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScheduleError(file, '(file)', `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  if (extname(file).toLowerCase() === '.csv') {
    try {
      raw = parseScheduleCsv(text);
    } catch (err) {
      if (err instanceof ScheduleError) throw new ScheduleError(file, err.field, err.problem);
      throw err;
    }
  } else {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ScheduleError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
    }
  }
  return validateSchedule(raw, department, file);
}

/**
 * A schedule that puts one unit on every beat of the given sectors for each of three 8-hour
 * watches, all year: what the replay uses for sectors without a schedule file, and the shape the
 * sample schedule follows. Unit ids read `<precinct><beat><watch>` (NB12 = beat B1, 2nd watch).
 */
export function uniformSchedule(department: Department, sectors: string[], year: number, timeZone = 'America/Los_Angeles'): Schedule {
  const shifts = { first: { start: '06:00', end: '14:00' }, second: { start: '14:00', end: '22:00' }, third: { start: '22:00', end: '06:00' } };
  const assignments: Assignment[] = [];
  const supervisors: Supervisor[] = [];
  for (const sector of sectors) {
    const sec = department.sectors[sector];
    if (!sec) continue;
    supervisors.push({ id: `SGT-${sector}`, sector, role: 'sergeant' }, { id: `WC-${sec.precinct}`, sector, role: 'watch_commander' });
    for (const beat of sec.beats) {
      Object.keys(shifts).forEach((shift, i) => {
        assignments.push({ unit: `${sec.precinct}${beat}${i + 1}`, officers: [], beat, shift, from: `${year}-01-01`, to: `${year}-12-31`, days: 'daily', mode: 'car' });
      });
    }
  }
  return { version: 1, timeZone, shifts, supervisors, assignments };
}
