import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AtModemBrain } from '../../../hardware/at-modem-simulator.js';
import { atParams, derivePrefix } from '../../../hardware/at-port.js';
import { MmcliSource, parseMmcliModem, parseMmcliSignal } from '../../../hardware/mmcli-source.js';
import { actToTech, bestRegistration, csqToDbm, dbmToBars, parseCops, parseCsq, parseRegistration } from '../../../hardware/ts27007.js';
import type { DeviceHealth, ModemStatus } from '../../../hardware/types.js';
import { captureLog } from './capture-log.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('3GPP TS 27.007 parsing', () => {
  it('converts AT+CSQ rssi to dBm: -113 + 2 * rssi, 99 unknown', () => {
    expect(csqToDbm(0)).toBe(-113);
    expect(csqToDbm(1)).toBe(-111);
    expect(csqToDbm(23)).toBe(-67);
    expect(csqToDbm(31)).toBe(-51);
    expect(csqToDbm(99)).toBeUndefined();
    expect(csqToDbm(32)).toBeUndefined();
    expect(parseCsq('+CSQ: 15,99')).toEqual({ rssiDbm: -83 });
    expect(parseCsq('+CSQ: 99,99')).toEqual({ rssiDbm: undefined });
    expect(parseCsq('garbage')).toBeUndefined();
  });

  it('maps dBm to 0..5 bars', () => {
    expect([-51, -73, -74, -83, -93, -103, -111, -113].map(dbmToBars)).toEqual([5, 5, 4, 4, 3, 2, 1, 0]);
    expect(dbmToBars(undefined)).toBe(0);
  });

  it('reads +CREG/+CEREG in read form and as URCs', () => {
    expect(parseRegistration('+CREG: 0,1')).toEqual({ registration: 'home' });
    expect(parseRegistration('+CEREG: 2,5,"2B0F","01A2D001",7')).toEqual({ registration: 'roaming', tech: 'LTE' });
    expect(parseRegistration('+CEREG: 0,2')).toEqual({ registration: 'searching' });
    expect(parseRegistration('+CREG: 0,3')).toEqual({ registration: 'denied' });
    expect(parseRegistration('+CREG: 0,0')).toEqual({ registration: 'not_registered' });
    expect(parseRegistration('+CREG: 0,4')).toEqual({ registration: 'unknown' });
    expect(parseRegistration('+CEREG: 1', false)).toEqual({ registration: 'home' });
    expect(parseRegistration('+CREG: 2,"00C3","A1B2",2', false)).toEqual({ registration: 'searching', tech: 'UMTS' });
    expect(parseRegistration('+CREG: x')).toBeUndefined();
    expect(parseRegistration('+CSQ: 1,2')).toBeUndefined();
  });

  it('reads +COPS with quoted operators containing commas', () => {
    expect(parseCops('+COPS: 0,0,"FirstNet",7')).toEqual({ operator: 'FirstNet', tech: 'LTE' });
    expect(parseCops('+COPS: 0,0,"Op, Inc",2')).toEqual({ operator: 'Op, Inc', tech: 'UMTS' });
    expect(parseCops('+COPS: 0')).toEqual({});
    expect(atParams('+COPS: 0,0,"Op, Inc",2')).toEqual(['0', '0', 'Op, Inc', '2']);
  });

  it('names access technologies and combines CS and EPS registration', () => {
    expect([0, 2, 3, 6, 7, 9, 11, 13].map(actToTech)).toEqual(['GSM', 'UMTS', 'EDGE', 'HSPA', 'LTE', 'NB-IoT', '5G NR', 'LTE+NR']);
    expect(bestRegistration('not_registered', 'home')).toBe('home');
    expect(bestRegistration('roaming', 'searching')).toBe('roaming');
    expect(bestRegistration(undefined, undefined)).toBe('unknown');
  });

  it('derives the information-line prefix of a command', () => {
    expect(derivePrefix('AT+CSQ')).toBe('+CSQ');
    expect(derivePrefix('AT+CREG?')).toBe('+CREG');
    expect(derivePrefix('at+cops=3,2')).toBe('+COPS');
    expect(derivePrefix('ATI')).toBeNull();
  });
});

describe('AtModemBrain (the pty simulator logic)', () => {
  it('answers like a modem: echo, info lines, OK, ERROR and +CME ERROR per AT+CMEE', () => {
    const m = new AtModemBrain();
    expect(m.answer('AT+CSQ')).toEqual(['AT+CSQ', '+CSQ: 23,99', 'OK']);
    expect(m.answer('ATE0')).toEqual(['ATE0', 'OK']);
    expect(m.answer('AT+CEREG?')).toEqual(['+CEREG: 0,1', 'OK']);
    expect(m.answer('AT+NOPE')).toEqual(['ERROR']);
    m.failures.set('AT+COPS?', { cme: 30, text: 'no network service' });
    expect(m.answer('AT+COPS?')).toEqual(['ERROR']);
    m.answer('AT+CMEE=2');
    expect(m.answer('AT+COPS?')).toEqual(['+CME ERROR: no network service']);
    m.state.silent = true;
    expect(m.answer('AT')).toEqual([]);
  });
});

describe('mmcli parsing', () => {
  it('reads a connected LTE modem', () => {
    expect(parseMmcliModem(fixture('mmcli-connected-lte.json'))).toEqual({
      state: 'connected',
      signalPercent: 72,
      registration: 'home',
      operator: 'FirstNet',
      tech: 'LTE',
    });
    expect(parseMmcliSignal(fixture('mmcli-signal-lte.json'))).toBe(-71);
    expect(parseMmcliSignal(fixture('mmcli-signal-off.json'))).toBeUndefined();
  });

  it('reads roaming, searching and a failed modem', () => {
    expect(parseMmcliModem(fixture('mmcli-roaming-umts.json'))).toMatchObject({ registration: 'roaming', tech: 'HSPA', operator: 'Rogers' });
    const searching = parseMmcliModem(fixture('mmcli-searching.json'));
    expect(searching).toEqual({ state: 'searching', signalPercent: 0, registration: 'searching' });
    expect(parseMmcliModem(fixture('mmcli-sim-missing.json'))).toMatchObject({ state: 'failed', failedReason: 'sim-missing', registration: 'unknown' });
  });

  it('rejects output that is not mmcli modem JSON', () => {
    expect(() => parseMmcliModem('{"modem-list":[]}')).toThrow(/no modem.generic/);
    expect(() => parseMmcliModem('error: couldn')).toThrow(SyntaxError);
  });
});

describe('MmcliSource behind an exec seam', () => {
  const sources: MmcliSource[] = [];
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
  });

  function mmcli(outputs: Record<string, string | Error>) {
    const calls: string[][] = [];
    const exec = async (args: string[]): Promise<string> => {
      calls.push(args);
      const key = args.includes('--signal-get') ? 'signal' : 'modem';
      const out = outputs[key];
      if (out instanceof Error) throw out;
      if (out === undefined) throw Object.assign(new Error('Command failed'), { stderr: 'error: signal not set up' });
      return out;
    };
    const source = new MmcliSource({ modem: '0', pollMs: 60_000, exec, log: captureLog(), clock: { now: () => 1000 } });
    sources.push(source);
    const health: DeviceHealth[] = [];
    const statuses: ModemStatus[] = [];
    source.on('health', (h) => health.push(h));
    source.on('status', (s) => statuses.push(s));
    return { source, calls, health, statuses };
  }

  it('reports dBm from --signal-get when set up, else bars from the percentage', async () => {
    const a = mmcli({ modem: fixture('mmcli-connected-lte.json'), signal: fixture('mmcli-signal-lte.json') });
    expect(await a.source.pollNow()).toEqual({ rssiDbm: -71, bars: 5, registration: 'home', operator: 'FirstNet', tech: 'LTE', at: 1000 });
    expect(a.calls).toEqual([
      ['-m', '0', '-J'],
      ['-m', '0', '--signal-get', '-J'],
    ]);
    expect(a.source.health()).toMatchObject({ state: 'ok', detail: 'FirstNet, LTE, -71 dBm, home' });
    const b = mmcli({ modem: fixture('mmcli-roaming-umts.json') });
    expect(await b.source.pollNow()).toMatchObject({ bars: 2, registration: 'roaming' });
    expect(b.source.health()).toMatchObject({ state: 'ok', detail: 'Rogers, HSPA, 38 %, roaming' });
  });

  it('turns a missing SIM, no mmcli, no modem and bad output into health', async () => {
    const sim = mmcli({ modem: fixture('mmcli-sim-missing.json') });
    await sim.source.pollNow();
    expect(sim.source.health()).toMatchObject({ state: 'degraded', reason: 'SIM not inserted' });
    const none = mmcli({ modem: Object.assign(new Error('spawn mmcli ENOENT'), { code: 'ENOENT' }) });
    expect(await none.source.pollNow()).toBeUndefined();
    expect(none.source.health()).toMatchObject({ state: 'missing', reason: 'mmcli not installed (install modemmanager)' });
    const gone = mmcli({ modem: Object.assign(new Error('Command failed'), { code: 1, stderr: "error: couldn't find modem" }) });
    await gone.source.pollNow();
    expect(gone.source.health()).toMatchObject({ state: 'missing', reason: "mmcli -m 0: error: couldn't find modem" });
    const junk = mmcli({ modem: 'not json' });
    await junk.source.pollNow();
    expect(junk.source.health()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('unreadable mmcli output') });
    const searching = mmcli({ modem: fixture('mmcli-searching.json') });
    await searching.source.pollNow();
    expect(searching.source.health()).toMatchObject({ state: 'degraded', reason: 'not registered: registration searching (modem searching)' });
  });

  it('polls on start and stops cleanly', async () => {
    const m = mmcli({ modem: fixture('mmcli-connected-lte.json') });
    await m.source.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(m.statuses).toHaveLength(1);
    await m.source.stop();
    expect(m.source.health()).toMatchObject({ state: 'missing', reason: 'stopped' });
  });
});
