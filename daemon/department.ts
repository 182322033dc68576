// The department's geography: precinct → sector → beat, with beat boundaries, read from a GeoJSON
// file of beat polygons (properties `beat`, `sector`, `first_prec`, as in the Seattle PD data set
// the sample department uses). Features without a precinct (water, harbour) are skipped.
// Beside it, the department's station directory: precinct and neighborhood stations with their
// addresses and phones, reference data the department edits rarely (a JSON file, `stationsFile`).
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export type Ring = Array<[number, number]>;

export interface Beat {
  id: string;
  sector: string;
  precinct: string;
  /** Outer rings of the beat's polygons, [lon, lat] (CRS84). */
  rings: Ring[];
  /** A point inside the beat, for labels and for starting a simulated patrol. */
  center: [number, number];
}

export interface Sector {
  id: string;
  precinct: string;
  beats: string[];
}

export interface Precinct {
  id: string;
  name: string;
  sectors: string[];
}

export interface Department {
  precincts: Record<string, Precinct>;
  sectors: Record<string, Sector>;
  beats: Record<string, Beat>;
}

const PRECINCT_NAMES: Record<string, string> = { N: 'North', E: 'East', S: 'South', SW: 'Southwest', W: 'West' };

const collection = z.object({ type: z.literal('FeatureCollection'), features: z.array(z.unknown()) });

type Position = [number, number, ...number[]];
type Polygon = Position[][];

/** A GeoJSON beat feature, read by hand: a zod parse of every coordinate cost a car ~150 ms at start. */
interface BeatFeature {
  beat: string;
  sector: string;
  precinct: string | null;
  polygons: Polygon[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosition = (v: unknown): v is Position => Array.isArray(v) && v.length >= 2 && v.every((x) => typeof x === 'number');
const isPolygon = (v: unknown): v is Polygon => Array.isArray(v) && v.every((ring) => Array.isArray(ring) && ring.every(isPosition));

/** The feature's beat, sector, precinct and polygons; undefined for anything else (skipped). */
function readFeature(raw: unknown): BeatFeature | undefined {
  if (!isObject(raw) || !isObject(raw.properties) || !isObject(raw.geometry)) return undefined;
  const { beat, sector, first_prec: precinct } = raw.properties;
  if (typeof beat !== 'string' || typeof sector !== 'string' || (precinct !== null && typeof precinct !== 'string')) return undefined;
  const { type, coordinates } = raw.geometry;
  if (type === 'Polygon' && isPolygon(coordinates)) return { beat, sector, precinct, polygons: [coordinates] };
  if (type === 'MultiPolygon' && Array.isArray(coordinates) && coordinates.every(isPolygon)) return { beat, sector, precinct, polygons: coordinates };
  return undefined;
}

function ringCenter(ring: Ring): [number, number] {
  // Vertex average is inside for the convex-ish beat shapes; good enough for labels.
  let x = 0;
  let y = 0;
  for (const [lon, lat] of ring) {
    x += lon;
    y += lat;
  }
  return [x / ring.length, y / ring.length];
}

export function buildDepartment(geojson: unknown): Department {
  const fc = collection.parse(geojson);
  const dept: Department = { precincts: {}, sectors: {}, beats: {} };
  for (const raw of fc.features) {
    const f = readFeature(raw);
    if (!f?.precinct) continue;
    const { beat, sector, precinct } = f;
    const rings = f.polygons.map((p) => (p[0] ?? []).map((pt) => [pt[0], pt[1]] as [number, number]));
    const largest = rings.reduce((a, b) => (b.length > a.length ? b : a), rings[0] ?? []);
    dept.beats[beat] = { id: beat, sector, precinct, rings, center: ringCenter(largest) };
    const s = (dept.sectors[sector] ??= { id: sector, precinct, beats: [] });
    s.beats.push(beat);
    const p = (dept.precincts[precinct] ??= { id: precinct, name: `${PRECINCT_NAMES[precinct] ?? precinct} Precinct`, sectors: [] });
    if (!p.sectors.includes(sector)) p.sectors.push(sector);
  }
  for (const s of Object.values(dept.sectors)) s.beats.sort();
  for (const p of Object.values(dept.precincts)) p.sectors.sort();
  return dept;
}

export async function loadDepartment(file: string): Promise<Department> {
  return buildDepartment(JSON.parse(await readFile(file, 'utf8')));
}

// ---------------------------------------------------------------------------------------------
// The station directory.

const station = z
  .object({
    id: z.string().min(1).max(40),
    name: z.string().min(1).max(120),
    kind: z.enum(['precinct', 'neighborhood']),
    precinct: z.string().min(1).max(40),
    address: z.string().min(1).max(200),
    phone: z.string().min(3).max(40),
    hours: z.string().max(120).optional(),
  })
  .strict();
const stationsFileSchema = z.object({ v: z.literal(1), stations: z.array(station).max(500) }).strict();
export type Station = z.infer<typeof station>;

/** The stations of a department file; a bad file is an error naming the file and the field. */
export async function loadStations(file: string): Promise<Station[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = stationsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Watch meeting notices used to live here; they are posted at the precinct now.
    const hint = issue.code === 'unrecognized_keys' && issue.keys.includes('notices') ? ' (watch meeting notices are posted at the precinct: console or POST /api/v1/notices)' : '';
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}${hint}`);
  }
  return parsed.data.stations;
}
