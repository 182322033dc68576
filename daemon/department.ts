// The department's geography: precinct → sector → beat, with beat boundaries, read from a GeoJSON
// file of beat polygons (properties `beat`, `sector`, `first_prec`, as in the Seattle PD data set
// the sample department uses). Features without a precinct (water, harbour) are skipped.
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

const position = z.tuple([z.number(), z.number()]).rest(z.number());
const feature = z.object({
  properties: z.object({ beat: z.string(), sector: z.string(), first_prec: z.string().nullable() }).passthrough(),
  geometry: z.discriminatedUnion('type', [
    z.object({ type: z.literal('Polygon'), coordinates: z.array(z.array(position)) }),
    z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(z.array(position))) }),
  ]),
});
const collection = z.object({ type: z.literal('FeatureCollection'), features: z.array(z.unknown()) });

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
    const parsed = feature.safeParse(raw);
    if (!parsed.success) continue;
    const { beat, sector, first_prec: precinct } = parsed.data.properties;
    if (!precinct) continue;
    const polys = parsed.data.geometry.type === 'Polygon' ? [parsed.data.geometry.coordinates] : parsed.data.geometry.coordinates;
    const rings = polys.map((p) => (p[0] ?? []).map((pt) => [pt[0], pt[1]] as [number, number]));
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
