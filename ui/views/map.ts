// The sector map, drawn locally as SVG: beat outlines from the department file (static, in the
// page), and a dynamic layer of units (AVL) and open calls pushed on every change. No tiles: the
// map must work with no network at all. Projection: equirectangular scaled by cos(latitude),
// accurate to well under a pixel over a sector a few kilometres across.
import type { Department } from '../../daemon/department.js';
import type { AvlPosition } from '../../sync/avl.js';
import { isClosedCallState, type BoardView } from '../../sync/schema.js';
import { h, type Markup } from './html.js';
import { PRIORITY_LABEL, STATUS_LABEL } from './format.js';

export interface Projection {
  width: number;
  height: number;
  project(lon: number, lat: number): [number, number];
  contains(lon: number, lat: number): boolean;
}

const WIDTH = 1000;
const PAD = 20;

export function sectorProjection(dept: Department, sector: string): Projection | undefined {
  const beats = (dept.sectors[sector]?.beats ?? []).map((b) => dept.beats[b]).filter((b) => b !== undefined);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const b of beats) {
    for (const r of b.rings) {
      for (const [x, y] of r) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (!Number.isFinite(minX) || maxX <= minX || maxY <= minY) return undefined;
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180);
  const scale = (WIDTH - 2 * PAD) / ((maxX - minX) * k);
  const height = Math.round((maxY - minY) * scale + 2 * PAD);
  const mx = (maxX - minX) * 0.15;
  const my = (maxY - minY) * 0.15;
  return {
    width: WIDTH,
    height,
    project: (lon, lat) => [PAD + (lon - minX) * k * scale, PAD + (maxY - lat) * scale],
    contains: (lon, lat) => lon >= minX - mx && lon <= maxX + mx && lat >= minY - my && lat <= maxY + my,
  };
}

const n = (v: number) => (Math.round(v * 10) / 10).toString();

/** Beat outlines and labels: rendered once into the page. Points closer than a pixel are dropped. */
export function beatLayer(dept: Department, sector: string, p: Projection, homeBeat: string): Markup {
  const beats = (dept.sectors[sector]?.beats ?? []).map((b) => dept.beats[b]).filter((b) => b !== undefined);
  return h`${beats.map((b) => {
    const polys = b.rings.map((ring) => {
      const pts: string[] = [];
      let last = '';
      for (const [lon, lat] of ring) {
        const [x, y] = p.project(lon, lat);
        const pt = `${Math.round(x)},${Math.round(y)}`;
        if (pt !== last) pts.push(pt);
        last = pt;
      }
      return h`<polygon class="beat${b.id === homeBeat ? ' home' : ''}" points="${pts.join(' ')}"></polygon>`;
    });
    const [cx, cy] = p.project(b.center[0], b.center[1]);
    return h`<g><title>Beat ${b.id}</title>${polys}<text class="beat-label" x="${n(cx)}" y="${n(cy)}">${b.id}</text></g>`;
  })}`;
}

/** Units and open calls on the map. */
export function dynamicLayer(view: BoardView | undefined, positions: Record<string, AvlPosition>, me: string, p: Projection): Markup {
  const calls = view
    ? Object.values(view.calls).filter((c) => !isClosedCallState(c.state) && c.lat !== undefined && c.lon !== undefined && p.contains(c.lon, c.lat))
    : [];
  const callMarks = calls.map((c) => {
    const [x, y] = p.project(c.lon!, c.lat!);
    const mine = c.assigned.includes(me);
    return h`<g class="call p${c.priority}${mine ? ' mine' : ''}" transform="translate(${n(x)} ${n(y)})"><title>P${c.priority} ${PRIORITY_LABEL[c.priority]}: ${c.type}, ${c.address}</title><rect x="-11" y="-11" width="22" height="22" transform="rotate(45)"></rect><text y="5">${c.priority}</text></g>`;
  });
  const units = Object.values(positions).filter((pos) => p.contains(pos.lon, pos.lat));
  // Own car last, so it is drawn on top.
  units.sort((a, b) => (a.unit === me ? 1 : 0) - (b.unit === me ? 1 : 0));
  const unitMarks = units.map((pos) => {
    const [x, y] = p.project(pos.lon, pos.lat);
    const u = view?.units[pos.unit];
    const label = u?.callSign ?? pos.unit;
    const status = u ? STATUS_LABEL[u.status] : 'unknown status';
    if (pos.unit === me) {
      const rot = pos.track ?? 0;
      return h`<g class="unit me" transform="translate(${n(x)} ${n(y)})"><title>This car (${label}): ${status}</title><circle r="16"></circle><path d="M0,-12 L8,9 L0,4 L-8,9 Z" transform="rotate(${Math.round(rot)})"></path><text x="20" y="6">YOU</text></g>`;
    }
    return h`<g class="unit other s-${u?.status ?? 'unknown'}" transform="translate(${n(x)} ${n(y)})"><title>${label}: ${status}</title><circle r="10"></circle><text x="14" y="5">${label}</text></g>`;
  });
  return h`${callMarks}${unitMarks}`;
}
