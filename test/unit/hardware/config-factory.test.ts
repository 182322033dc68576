import { describe, expect, it } from 'vitest';
import { defaultHardwareConfig, hardwareConfigSchema, parseHardwareConfig } from '../../../hardware/config.js';
import { createHardware } from '../../../hardware/factory.js';
import { GpsdSource } from '../../../hardware/gpsd-client.js';
import { SerialInputs } from '../../../hardware/inputs-serial.js';
import { MmcliSource } from '../../../hardware/mmcli-source.js';
import { AtModemSource } from '../../../hardware/modem-source.js';
import { NoInputs, NoModem } from '../../../hardware/not-fitted.js';
import { SimGps } from '../../../hardware/sim-gps.js';
import { SimInputs } from '../../../hardware/sim-inputs.js';
import { SimModem } from '../../../hardware/sim-modem.js';
import { captureLog } from './capture-log.js';

const BEAT: Array<[number, number]> = [
  [-122.34, 47.6],
  [-122.32, 47.6],
  [-122.32, 47.61],
  [-122.34, 47.61],
];

describe('hardware config', () => {
  it('defaults to gpsd on loopback with modem and inputs not fitted', () => {
    expect(parseHardwareConfig(undefined)).toEqual(defaultHardwareConfig);
    expect(parseHardwareConfig({})).toEqual(defaultHardwareConfig);
    expect(defaultHardwareConfig.gps).toEqual({ kind: 'gpsd', host: '127.0.0.1', port: 2947, staleAfterMs: 5000, silenceTimeoutMs: 5000 });
  });

  it('fills per-kind defaults', () => {
    expect(parseHardwareConfig({ modem: { kind: 'at', path: '/dev/serial/by-id/usb-Quectel-if02' } }).modem).toEqual({
      kind: 'at',
      path: '/dev/serial/by-id/usb-Quectel-if02',
      baudRate: 115200,
      pollMs: 10_000,
      commandTimeoutMs: 2000,
    });
    expect(parseHardwareConfig({ modem: { kind: 'mmcli' } }).modem).toEqual({ kind: 'mmcli', modem: '0', pollMs: 10_000 });
    expect(parseHardwareConfig({ inputs: { kind: 'serial', path: '/dev/ttyVIM' } }).inputs).toEqual({
      kind: 'serial',
      path: '/dev/ttyVIM',
      baudRate: 9600,
      debounceMs: 50,
      heartbeatTimeoutMs: 3000,
    });
  });

  it.each([
    [{ gps: { kind: 'gpsd', port: 70000 } }, 'gps.port'],
    [{ gps: { kind: 'garmin' } }, 'gps.kind'],
    [{ modem: { kind: 'at' } }, 'modem.path'],
    [{ modem: { kind: 'none', path: '/dev/x' } }, 'modem'],
    [{ inputs: { kind: 'serial', path: '/dev/x', debounceMs: -1 } }, 'inputs.debounceMs'],
    [{ gpss: {} }, 'gpss'],
  ])('rejects %j naming %s', (input, field) => {
    const r = hardwareConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => [...i.path, ...('keys' in i ? (i.keys as string[]) : [])].join('.'));
    expect(paths.some((p) => p.startsWith(field))).toBe(true);
  });
});

describe('createHardware', () => {
  it('builds the real adapters', () => {
    const hw = createHardware(
      parseHardwareConfig({
        gps: { kind: 'gpsd', port: 2948 },
        modem: { kind: 'at', path: '/dev/ttyMODEM' },
        inputs: { kind: 'serial', path: '/dev/ttyVIM' },
      }),
    );
    expect(hw.gps).toBeInstanceOf(GpsdSource);
    expect((hw.gps as GpsdSource).port).toBe(2948);
    expect(hw.modem).toBeInstanceOf(AtModemSource);
    expect(hw.inputs).toBeInstanceOf(SerialInputs);
    expect(createHardware(parseHardwareConfig({ modem: { kind: 'mmcli' } })).modem).toBeInstanceOf(MmcliSource);
  });

  it('builds simulators, and not-fitted devices whose health says so', () => {
    const sim = createHardware(parseHardwareConfig({ gps: { kind: 'sim', seed: 4 }, modem: { kind: 'sim' }, inputs: { kind: 'sim' } }), {
      beatPolygon: BEAT,
    });
    expect(sim.gps).toBeInstanceOf(SimGps);
    expect(sim.modem).toBeInstanceOf(SimModem);
    expect(sim.inputs).toBeInstanceOf(SimInputs);
    const none = createHardware(parseHardwareConfig({}), { clock: { now: () => 42 } });
    expect(none.modem).toBeInstanceOf(NoModem);
    expect(none.inputs).toBeInstanceOf(NoInputs);
    expect(none.modem.health()).toEqual({ state: 'missing', reason: 'not fitted', since: 42 });
    expect(none.inputs.health()).toEqual({ state: 'missing', reason: 'not fitted', since: 42 });
  });

  it('needs the beat polygon for a simulated GPS', () => {
    expect(() => createHardware(parseHardwareConfig({ gps: { kind: 'sim' } }))).toThrow(/home beat polygon/);
  });

  it('tags each adapter\'s log lines with its device', async () => {
    const log = captureLog();
    const hw = createHardware(parseHardwareConfig({ gps: { kind: 'sim' } }), { log, beatPolygon: BEAT });
    hw.gps.on('fix', () => {
      throw new Error('listener bug');
    });
    await hw.gps.start();
    await hw.gps.stop();
    expect(log.lines.find((l) => l.level === 'error')?.fields.device).toBe('gps');
  });
});
