import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GPSD_MAX_LINE_CHARS, isDeviceDeactivated, parseGpsdLine } from '../../../hardware/gpsd-reports.js';

const fixture = (name: string): string[] =>
  readFileSync(new URL(`./fixtures/${name}.gpsd.jsonl`, import.meta.url), 'utf8').split('\n');

describe('parseGpsdLine', () => {
  it('types the reports gpsd 3.22 sends (from a recorded session)', () => {
    const classes = new Map<string, number>();
    for (const line of fixture('bt451')) {
      const r = parseGpsdLine(line);
      if (r.kind === 'report') classes.set(r.report.class, (classes.get(r.report.class) ?? 0) + 1);
      else if (line.startsWith('{')) throw new Error(`rejected a real gpsd line: ${line} (${JSON.stringify(r)})`);
    }
    expect(classes.get('VERSION')).toBe(1);
    expect(classes.get('DEVICES')).toBe(1);
    expect(classes.get('WATCH')).toBe(1);
    expect(classes.get('TPV')).toBe(30);
    expect(classes.get('SKY')).toBeGreaterThan(0);
    expect(classes.get('DEVICE')).toBeGreaterThanOrEqual(2);
  });

  it('reads TPV fields with their gpsd meanings', () => {
    const line =
      '{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2029-07-25T14:33:07.000Z","ept":0.005,"lat":55.780441500,"lon":23.578604167,"altHAE":155.0000,"altMSL":128.1000,"track":221.4800,"speed":15.876,"eph":23.940}';
    const r = parseGpsdLine(line);
    expect(r.kind).toBe('report');
    if (r.kind !== 'report' || r.report.class !== 'TPV') throw new Error('expected TPV');
    expect(r.report).toMatchObject({ mode: 3, lat: 55.7804415, lon: 23.578604167, speed: 15.876, track: 221.48, eph: 23.94, altMSL: 128.1 });
  });

  it('recognises a device removal', () => {
    const removed = parseGpsdLine('{"class":"DEVICE","path":"/dev/pts/1","activated":0}');
    const added = parseGpsdLine('{"class":"DEVICE","path":"/dev/pts/1","activated":"2026-11-27T07:55:07.327Z","driver":"NMEA0183"}');
    if (removed.kind !== 'report' || removed.report.class !== 'DEVICE') throw new Error('expected DEVICE');
    if (added.kind !== 'report' || added.report.class !== 'DEVICE') throw new Error('expected DEVICE');
    expect(isDeviceDeactivated(removed.report)).toBe(true);
    expect(isDeviceDeactivated(added.report)).toBe(false);
  });

  it.each([
    ['', 'empty line'],
    ['$GPRMC,,V,,,,,,,,,,N*53', 'not a JSON object'],
    ['{"class":"TPV","mode":3,"lat":55.78', 'truncated'],
    ['{"class":"TPV","mode":3} trailing}', 'invalid JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"mode":3}', 'missing "class"'],
    ['{"class":"TPV","mode":7}', 'TPV mode'],
    ['{"class":"TPV","mode":3,"lat":"north"}', 'TPV lat'],
    ['{"class":"TPV","mode":3,"lat":123}', 'TPV lat'],
    ['{"class":"VERSION","release":"3.22"}', 'VERSION proto_major'],
    ['{"class":"DEVICES","devices":{}}', 'DEVICES devices'],
    [`{"class":"TPV","mode":1,"pad":"${'x'.repeat(GPSD_MAX_LINE_CHARS)}"}`, '1536-char cap'],
  ])('rejects %j with a reason (%s)', (line, reason) => {
    const r = parseGpsdLine(line);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.reason).toContain(reason);
  });

  it('ignores classes the client does not use', () => {
    expect(parseGpsdLine('{"class":"GST","device":"/dev/pts/1","rms":1.2}')).toEqual({ kind: 'ignored', class: 'GST' });
  });

  it('keeps unknown extra fields (newer gpsd adds them)', () => {
    const r = parseGpsdLine('{"class":"TPV","mode":2,"lat":1,"lon":2,"newField":"x"}');
    expect(r.kind).toBe('report');
  });

  it('never throws on arbitrary input, including every prefix of a real report', () => {
    const real = fixture('bt451').find((l) => l.includes('"mode":3'))!;
    for (let i = 0; i <= real.length; i++) expect(() => parseGpsdLine(real.slice(0, i))).not.toThrow();
    fc.assert(fc.property(fc.string(), (s) => ['report', 'ignored', 'rejected'].includes(parseGpsdLine(s).kind)));
    fc.assert(fc.property(fc.json(), (s) => ['report', 'ignored', 'rejected'].includes(parseGpsdLine(s).kind)));
  });
});
