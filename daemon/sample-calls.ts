// Real calls for service (Seattle PD, 2024) placed into the department's beats, for the demo and
// the dispatch replay. The records carry time, priority and location but no call type or street
// address, so the type names the SPD priority and the address is the neighbourhood.
import { readFile } from 'node:fs/promises';
import { pointInPolygon } from '../hardware/geo.js';
import type { Department } from './department.js';
import { packagePath } from './paths.js';

export const SAMPLE_CALLS = packagePath('deploy', 'sample-department', 'seattle-spd-dispatch-2024-01-sample1000.csv');

export interface RecordedCall {
  cadId: string;
  /** SPD priority 1 (most urgent) .. 7. */
  spdPriority: number;
  lat: number;
  lon: number;
  queuedAt: number;
  firstDispatchDelayS: number | undefined;
  firstResponseTimeS: number | undefined;
  respondingUnits: number;
  neighborhood: string;
  beat: string;
  sector: string;
  precinct: string;
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines, as in this file). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const num = (s: string | undefined): number | undefined => (s === undefined || s === '' || s === 'NULL' ? undefined : Number(s));

/** Seattle times are Pacific; January is PST (UTC-8) throughout this sample. */
function pacificToEpoch(s: string): number {
  return Date.parse(s.replace(' ', 'T') + '-08:00');
}

export function locateBeat(dept: Department, lon: number, lat: number): string | undefined {
  for (const beat of Object.values(dept.beats)) {
    if (beat.rings.some((r) => pointInPolygon([lon, lat], r))) return beat.id;
  }
  return undefined;
}

export async function loadRecordedCalls(dept: Department, file = SAMPLE_CALLS): Promise<RecordedCall[]> {
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0] ?? '');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: column ${name} missing`);
    return i;
  };
  const c = {
    id: col('cad_id'),
    units: col('responding_units'),
    pri: col('priority'),
    lon: col('Dispatch_Longitude'),
    lat: col('dispatch_latitude'),
    queued: col('CAD_Event_Original_Time_Queued'),
    delay: col('first_dispatch_delay'),
    response: col('first_response_time'),
    hood: col('dispatch_neighborhood'),
  };
  const calls: RecordedCall[] = [];
  for (const line of lines.slice(1)) {
    const f = splitCsvLine(line);
    const lon = num(f[c.lon]);
    const lat = num(f[c.lat]);
    const pri = num(f[c.pri]);
    const queuedAt = pacificToEpoch(f[c.queued] ?? '');
    if (lon === undefined || lat === undefined || pri === undefined || Number.isNaN(queuedAt)) continue;
    const beatId = locateBeat(dept, lon, lat);
    const beat = beatId ? dept.beats[beatId] : undefined;
    if (!beat) continue;
    calls.push({
      cadId: f[c.id] ?? '',
      spdPriority: pri,
      lat,
      lon,
      queuedAt,
      firstDispatchDelayS: num(f[c.delay]),
      firstResponseTimeS: num(f[c.response]),
      respondingUnits: num(f[c.units]) ?? 1,
      neighborhood: f[c.hood] ?? '',
      beat: beat.id,
      sector: beat.sector,
      precinct: beat.precinct,
    });
  }
  return calls.sort((a, b) => a.queuedAt - b.queuedAt);
}

/** SPD priorities 1..7 onto the department's P1 (emergency) .. P4. */
export function departmentPriority(spdPriority: number): 1 | 2 | 3 | 4 {
  return spdPriority <= 1 ? 1 : spdPriority === 2 ? 2 : spdPriority === 3 ? 3 : 4;
}
