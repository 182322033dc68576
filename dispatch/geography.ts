// Which sectors are "adjacent" for the emergency fallback, from the department's beat polygons.
//
// Choice (docs/dispatch.md): two sectors are adjacent when they belong to the same precinct and
// their beat boundaries come within TOUCH_M of each other (the SPD polygons are digitised
// separately, so shared edges do not share exact vertices). Only sectors of the same precinct are
// considered because only their boards live on this station: a unit of another precinct cannot be
// assigned from here while offline. Adjacent sectors are ordered by centroid distance; a sector
// that touches no other falls back to the nearest sectors of the precinct by centroid.
import type { Department } from '../daemon/department.js';
import type { LonLat } from '../hardware/geo.js';

/** Boundaries closer than this count as shared. */
export const TOUCH_M = 150;
const M_PER_DEG_LAT = 111_320;

type Pt = [number, number];

/** Local equirectangular metres: exact enough over a city and ~50x cheaper than haversine for the pairwise scan. */
function project(lonlat: LonLat, lat0: number): Pt {
  return [lonlat[0] * M_PER_DEG_LAT * Math.cos((lat0 * Math.PI) / 180), lonlat[1] * M_PER_DEG_LAT];
}

function sectorPoints(dept: Department, sector: string, lat0: number): Pt[] {
  return (dept.sectors[sector]?.beats ?? []).flatMap((b) => (dept.beats[b]?.rings ?? []).flat().map((p) => project(p, lat0)));
}

function centroid(pts: Pt[]): Pt {
  let x = 0;
  let y = 0;
  for (const p of pts) {
    x += p[0];
    y += p[1];
  }
  return [x / Math.max(1, pts.length), y / Math.max(1, pts.length)];
}

function touches(a: Pt[], b: Pt[]): boolean {
  const box = (ps: Pt[]): [number, number, number, number] => {
    const m: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const p of ps) {
      m[0] = Math.min(m[0], p[0]);
      m[1] = Math.min(m[1], p[1]);
      m[2] = Math.max(m[2], p[0]);
      m[3] = Math.max(m[3], p[1]);
    }
    return m;
  };
  const [ax0, ay0, ax1, ay1] = box(a);
  const [bx0, by0, bx1, by1] = box(b);
  if (ax0 - TOUCH_M > bx1 || bx0 - TOUCH_M > ax1 || ay0 - TOUCH_M > by1 || by0 - TOUCH_M > ay1) return false;
  // Only vertices of b inside a's box (grown by TOUCH_M) can be close to a.
  const near = b.filter((p) => p[0] >= ax0 - TOUCH_M && p[0] <= ax1 + TOUCH_M && p[1] >= ay0 - TOUCH_M && p[1] <= ay1 + TOUCH_M);
  const t2 = TOUCH_M * TOUCH_M;
  for (const p of a) for (const q of near) if ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 <= t2) return true;
  return false;
}

/** sector -> adjacent sectors among `sectors` (normally those this precinct serves), nearest first. */
export function sectorAdjacency(dept: Department, sectors: readonly string[]): Map<string, string[]> {
  const lat0 = dept.beats[dept.sectors[sectors[0] ?? '']?.beats[0] ?? '']?.center[1] ?? 0;
  const pts = new Map(sectors.map((s) => [s, sectorPoints(dept, s, lat0)]));
  const centres = new Map(sectors.map((s) => [s, centroid(pts.get(s) ?? [])]));
  const dist = (a: string, b: string) => {
    const p = centres.get(a)!;
    const q = centres.get(b)!;
    return Math.hypot(p[0] - q[0], p[1] - q[1]);
  };
  const out = new Map<string, string[]>();
  for (const s of sectors) {
    const others = sectors.filter((o) => o !== s && dept.sectors[o]?.precinct === dept.sectors[s]?.precinct).sort((a, b) => dist(s, a) - dist(s, b) || (a < b ? -1 : 1));
    const touching = others.filter((o) => touches(pts.get(s) ?? [], pts.get(o) ?? []));
    out.set(s, touching.length > 0 ? touching : others.slice(0, 2));
  }
  return out;
}

/** The point the policy assumes for a beat (call without coordinates, unit without AVL). */
export function beatCenterOf(dept: Department): (beat: string) => LonLat | undefined {
  return (beat) => dept.beats[beat]?.center;
}
