// The roster payload: schema, wire parsing with the size cap, the precinct file, the car's cache.
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isNewerRoster, parseRoster, readCachedRoster, readRosterFile, rosterForSector, verifyPin, writeCachedRoster, RosterFileError } from '../../../sync/roster.js';
import { testRoster, OFFICER } from './fixture.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('roster', () => {
  it('round-trips over the wire and refuses junk, oversize and duplicate badges', async () => {
    const r = await testRoster();
    expect(parseRoster(Buffer.from(JSON.stringify(r)))).toEqual(r);
    expect(parseRoster(Buffer.from('{'))).toBeUndefined();
    expect(parseRoster(Buffer.from(JSON.stringify({ ...r, officers: [r.officers[0], r.officers[0]] })))).toBeUndefined();
    expect(parseRoster(Buffer.from(JSON.stringify({ ...r, officers: [{ ...r.officers[0], pin: '1234' }] })))).toBeUndefined();
    expect(parseRoster(Buffer.alloc(300 * 1024, 32))).toBeUndefined();
    expect(await verifyPin(OFFICER.pin, r.officers[0]!.pinHash)).toBe(true);
  });

  it('reads the precinct file, filters per sector, and names the bad field', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-roster-'));
    const r = await testRoster();
    const file = join(dir, 'roster.json');
    expect(await readRosterFile(file)).toBeUndefined();
    await writeFile(file, JSON.stringify({ v: 1, officers: [{ ...r.officers[0], sectors: ['B'] }, { ...r.officers[1], sectors: ['C'] }] }));
    const parsed = (await readRosterFile(file))!;
    expect(rosterForSector(parsed, 'B', 'N', 5).officers.map((o) => o.badge)).toEqual([OFFICER.badge]);
    await writeFile(file, JSON.stringify({ v: 1, officers: [{ ...r.officers[0], pinHash: '1234' }] }));
    await expect(readRosterFile(file)).rejects.toThrow(RosterFileError);
    await expect(readRosterFile(file)).rejects.toThrow(/officers\.0\.pinHash/);
  });

  it('caches atomically with owner-only permissions and keeps the newest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-roster-'));
    const r = await testRoster();
    const file = join(dir, 'roster.json');
    await writeCachedRoster(file, r);
    expect(await readCachedRoster(file)).toEqual(r);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(isNewerRoster(r, { ...r, at: r.at - 1 })).toBe(false);
    expect(isNewerRoster(r, { ...r, at: r.at + 1 })).toBe(true);
  });
});
