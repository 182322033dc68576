import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDepartment, loadDepartment, loadStations } from '../../../daemon/department.js';
import { SAMPLE_DEPARTMENT, SAMPLE_STATIONS } from '../../../daemon/config.js';
import { departmentPriority, loadRecordedCalls, locateBeat, splitCsvLine } from '../../../daemon/sample-calls.js';

describe('sample department (Seattle PD beats)', () => {
  it('builds 5 precincts and 17 sectors of 3 beats, skipping features without a precinct', async () => {
    const d = await loadDepartment(SAMPLE_DEPARTMENT);
    expect(Object.keys(d.precincts).sort()).toEqual(['E', 'N', 'S', 'SW', 'W']);
    expect(Object.keys(d.sectors)).toHaveLength(17);
    for (const s of Object.values(d.sectors)) expect(s.beats).toHaveLength(3);
    expect(d.beats['99']).toBeUndefined();
    expect(d.sectors.B).toMatchObject({ precinct: 'N', beats: ['B1', 'B2', 'B3'] });
    expect(d.precincts.N?.name).toBe('North Precinct');
  });

  it('places a point in its beat', async () => {
    const d = await loadDepartment(SAMPLE_DEPARTMENT);
    const b1 = d.beats.B1!;
    expect(locateBeat(d, b1.center[0], b1.center[1])).toBe('B1');
    expect(locateBeat(d, 0, 0)).toBeUndefined();
  });

  it('reads the real calls for service into beats', async () => {
    const d = await loadDepartment(SAMPLE_DEPARTMENT);
    const calls = await loadRecordedCalls(d);
    // 999 of the 1,000 points fall inside a beat; a few sit in beats without a precinct.
    expect(calls.length).toBeGreaterThan(950);
    expect(calls.length).toBeLessThanOrEqual(999);
    const first = calls[0]!;
    expect(first.cadId).toBe('2024000000800');
    expect(new Date(first.queuedAt).toISOString()).toBe('2024-01-02T04:24:01.000Z');
    expect(first.sector).toBe(d.beats[first.beat]?.sector);
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.queuedAt).toBeGreaterThanOrEqual(calls[i - 1]!.queuedAt);
  });

  it('reads Polygon and MultiPolygon beats and skips malformed features', () => {
    const square = (x: number) => [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]];
    const feature = (properties: unknown, geometry: unknown) => ({ type: 'Feature', properties, geometry });
    const d = buildDepartment({
      type: 'FeatureCollection',
      features: [
        feature({ beat: 'A1', sector: 'A', first_prec: 'N' }, { type: 'Polygon', coordinates: square(0) }),
        feature({ beat: 'A2', sector: 'A', first_prec: 'N' }, { type: 'MultiPolygon', coordinates: [square(2), [[[5, 0], [6, 0], [6, 1], [5, 0]]]] }),
        feature({ beat: 'A3', sector: 'A', first_prec: 'N' }, { type: 'Polygon', coordinates: [[[0, 0], [1, 'x'], [1, 1]]] }),
        feature({ beat: 'A4', sector: 'A', first_prec: 'N' }, { type: 'Polygon', coordinates: [[[0]]] }),
        feature({ beat: 'A5', sector: 'A', first_prec: 'N' }, { type: 'Point', coordinates: [0, 0] }),
        feature({ beat: 'A6', sector: 7, first_prec: 'N' }, { type: 'Polygon', coordinates: square(0) }),
        feature({ beat: 'W', sector: 'A', first_prec: null }, { type: 'Polygon', coordinates: square(9) }),
        'not a feature',
      ],
    });
    expect(Object.keys(d.beats).sort()).toEqual(['A1', 'A2']);
    expect(d.beats.A2?.rings).toHaveLength(2);
    // The largest ring is the label's: the 5-vertex square, not the triangle.
    expect(d.beats.A2?.center).toEqual([2.4, 0.4]);
    expect(d.sectors.A).toEqual({ id: 'A', precinct: 'N', beats: ['A1', 'A2'] });
    expect(() => buildDepartment({ type: 'Feature' })).toThrow();
  });

  it('splits quoted CSV fields and maps priorities', () => {
    expect(splitCsvLine('1,"a, b","say ""hi""",NULL')).toEqual(['1', 'a, b', 'say "hi"', 'NULL']);
    expect([1, 2, 3, 4, 7].map(departmentPriority)).toEqual([1, 2, 3, 4, 4]);
  });
});

describe('station directory', () => {
  it('loads the sample department stations and names the bad field of a broken file', async () => {
    const stations = await loadStations(SAMPLE_STATIONS);
    expect(stations.find((s) => s.id === 'N-BAL')).toMatchObject({ kind: 'neighborhood', precinct: 'N', phone: '(555) 010-4411' });
    const dir = await mkdtemp(join(tmpdir(), 'mdt-stations-'));
    try {
      const file = join(dir, 'stations.json');
      await writeFile(file, JSON.stringify({ v: 1, stations: [{ id: 'X', name: 'X', kind: 'kiosk', precinct: 'N', address: 'a', phone: '123' }] }));
      await expect(loadStations(file)).rejects.toThrow(/stations\.0\.kind/);
      // The old directory format carried notices: the error says where they went.
      await writeFile(file, JSON.stringify({ v: 1, stations: [], notices: [] }));
      await expect(loadStations(file)).rejects.toThrow(/posted at the precinct/);
      await expect(loadStations(join(dir, 'missing.json'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
