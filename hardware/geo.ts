// Small spherical-earth helpers shared by the GPS simulator and the gpsd plausibility filter.
// Patrol beats span a few kilometres, so a spherical earth (error < 0.5 %) is plenty; no
// geodesy dependency is needed.

/** A position as GeoJSON orders it: [longitude, latitude] in degrees. */
export type LonLat = readonly [number, number];

const EARTH_RADIUS_M = 6_371_008.8; // IUGG mean radius

const toRad = (deg: number): number => (deg * Math.PI) / 180;
const toDeg = (rad: number): number => (rad * 180) / Math.PI;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: LonLat, b: LonLat): number {
  const dLat = toRad(b[1] - a[1]);
  const dLon = toRad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a[1])) * Math.cos(toRad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b in degrees true, 0..360 (what gpsd reports as TPV `track`). */
export function bearingDeg(a: LonLat, b: LonLat): number {
  const φ1 = toRad(a[1]);
  const φ2 = toRad(b[1]);
  const Δλ = toRad(b[0] - a[0]);
  const y = Math.sin(Δλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ);
  return (toDeg(Math.atan2(y, x)) + 360) % 360;
}

/** The point `distance` metres from `from` towards `to` (never past `to`). */
export function moveTowards(from: LonLat, to: LonLat, distance: number): LonLat {
  const total = distanceM(from, to);
  if (total <= distance || total === 0) return [to[0], to[1]];
  // Linear interpolation in degrees is accurate to millimetres over a beat-sized segment.
  const f = distance / total;
  return [from[0] + (to[0] - from[0]) * f, from[1] + (to[1] - from[1]) * f];
}

/**
 * Even-odd ray casting. A closing vertex equal to the first (GeoJSON rings) is harmless.
 * Points exactly on an edge may go either way, which does not matter for a patrol route.
 */
export function pointInPolygon(p: LonLat, polygon: readonly LonLat[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export interface BoundingBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

export function boundingBox(polygon: readonly LonLat[]): BoundingBox {
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (const [lon, lat] of polygon) {
    minLon = Math.min(minLon, lon);
    maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
  }
  return { minLon, minLat, maxLon, maxLat };
}

/** Shoelace area in square degrees; only used to reject degenerate polygons. */
export function polygonAreaDeg2(polygon: readonly LonLat[]): number {
  let sum = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    sum += polygon[j]![0] * polygon[i]![1] - polygon[i]![0] * polygon[j]![1];
  }
  return Math.abs(sum) / 2;
}
