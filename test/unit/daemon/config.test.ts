import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig, precinctConfigSchema, vehicleConfigSchema } from '../../../daemon/config.js';
import { ConfigError } from '../../../daemon/errors.js';
import { packagePath } from '../../../daemon/paths.js';

const minimalVehicle = {
  vehicle: { id: 'V1', unit: 'NB11', homeBeat: 'B1', sector: 'B', precinct: 'N' },
  brokers: [{ url: 'mqtt://127.0.0.1:1883' }],
  credentials: { password: 'long-enough-secret' },
  hardware: { gps: { kind: 'sim' }, modem: { kind: 'none' }, inputs: { kind: 'none' } },
};

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('accepts the example configs a technician copies', async () => {
    const vehicle = JSON.parse(await readFile(packagePath('deploy', 'vehicle.example.json'), 'utf8'));
    const precinct = JSON.parse(await readFile(packagePath('deploy', 'precinct.example.json'), 'utf8'));
    expect(parseConfig(vehicleConfigSchema, vehicle, 'vehicle.example.json').vehicle.unit).toBe('NB11');
    expect(parseConfig(precinctConfigSchema, precinct, 'precinct.example.json').precinct.id).toBe('N');
  });

  it('fills safe defaults: screen on loopback, precinct API on loopback', () => {
    const v = parseConfig(vehicleConfigSchema, minimalVehicle, 'v.json');
    expect(v.ui.host).toBe('127.0.0.1');
    expect(v.ui.allowRemote).toBe(false);
    const p = parseConfig(precinctConfigSchema, { precinct: { id: 'N', name: 'North' } }, 'p.json');
    expect(p.api.host).toBe('127.0.0.1');
    expect(p.mqtt.host).toBe('127.0.0.1');
    expect(p.epochs).toEqual({ rolloverAt: '04:00', keepClosedHours: 24, archiveCheckMinutes: 10 });
  });

  it('takes a shorter archive check for epochs kept only briefly, and refuses none at all', () => {
    const base = { precinct: { id: 'N', name: 'North' } };
    expect(parseConfig(precinctConfigSchema, { ...base, epochs: { keepClosedHours: 0.05, archiveCheckMinutes: 0.25 } }, 'p.json').epochs).toMatchObject({ rolloverAt: '04:00', archiveCheckMinutes: 0.25 });
    expect(problem(() => parseConfig(precinctConfigSchema, { ...base, epochs: { archiveCheckMinutes: 0 } }, 'p.json'))).toMatch(/^p\.json: epochs\.archiveCheckMinutes: /);
  });

  it('names the field at fault', () => {
    expect(problem(() => parseConfig(vehicleConfigSchema, { ...minimalVehicle, brokers: [] }, 'v.json'))).toBe(
      'v.json: brokers: list at least the home precinct broker',
    );
    expect(
      problem(() => parseConfig(vehicleConfigSchema, { ...minimalVehicle, vehicle: { ...minimalVehicle.vehicle, unit: 'NB 11/#' } }, 'v.json')),
    ).toBe('v.json: vehicle.unit: expected 1-40 letters, digits, "_", "." or "-"');
    expect(problem(() => parseConfig(vehicleConfigSchema, { ...minimalVehicle, credentials: {} }, 'v.json'))).toBe(
      'v.json: credentials: give exactly one of password or passwordFile',
    );
  });

  it('refuses unknown fields instead of ignoring a typo', () => {
    expect(problem(() => parseConfig(vehicleConfigSchema, { ...minimalVehicle, stateDri: '/tmp' }, 'v.json'))).toBe(
      'v.json: (root): unknown field(s) stateDri',
    );
  });
});
