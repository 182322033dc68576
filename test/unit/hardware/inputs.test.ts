import { describe, expect, it } from 'vitest';
import { checksum, parseModuleLine, withChecksum } from '../../../hardware/inputs-protocol.js';
import { SimInputs } from '../../../hardware/sim-inputs.js';
import type { InputEvent } from '../../../hardware/types.js';

describe('vehicle interface module line protocol', () => {
  it('reads input levels, heartbeats and identification, with or without checksums', () => {
    expect(parseModuleLine('IN EMERG 1')).toEqual({ kind: 'input', input: 'emergency', active: true });
    expect(parseModuleLine('IN IGN 0\r')).toEqual({ kind: 'input', input: 'ignition', active: false });
    expect(parseModuleLine('in lights 1')).toEqual({ kind: 'input', input: 'lights', active: true });
    expect(parseModuleLine(withChecksum('IN EMERG 1'))).toEqual({ kind: 'input', input: 'emergency', active: true });
    expect(parseModuleLine('HB 42')).toEqual({ kind: 'heartbeat', seq: 42 });
    expect(parseModuleLine('HB')).toEqual({ kind: 'heartbeat' });
    expect(parseModuleLine('ID VIM-4 fw1.2')).toEqual({ kind: 'id', text: 'VIM-4 fw1.2' });
    expect(withChecksum('HB 1')).toBe(`HB 1*${checksum('HB 1')}`);
  });

  it.each([
    ['', 'empty line'],
    ['IN EMERG 1*00', 'checksum 00 does not match'],
    ['IN EMERG 1*ZZ', 'malformed checksum'],
    ['IN SIREN 1', 'unknown input SIREN'],
    ['IN EMERG 2', 'level must be 0 or 1'],
    ['IN EMERG', 'IN needs a name and a level'],
    ['HB x', 'malformed heartbeat'],
    ['FOO 1', 'unknown verb FOO'],
    ['IN EMERG \u00ff', 'non-ASCII'],
    ['x'.repeat(200), 'exceeds 80'],
  ])('rejects %j (%s)', (line, reason) => {
    const r = parseModuleLine(line);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.reason).toContain(reason);
  });

  it('a single flipped bit in a checksummed line is caught', () => {
    const good = withChecksum('IN EMERG 0');
    const flipped = good.replace('0*', '1*');
    expect(parseModuleLine(flipped).kind).toBe('rejected');
  });
});

describe('SimInputs', () => {
  it('emits timestamped changes only, plays a script, and reports ok health', async () => {
    let now = 1000;
    const sim = new SimInputs({ clock: { now: () => now }, script: [{ afterMs: 20, input: 'lights', active: true }] });
    const events: InputEvent[] = [];
    sim.on('input', (e) => events.push(e));
    await sim.start();
    expect(sim.health().state).toBe('ok');
    expect(sim.state()).toEqual({ emergency: false, ignition: true, lights: false });
    now = 2000;
    expect(sim.set('emergency', true)).toEqual({ input: 'emergency', active: true, at: 2000 });
    expect(sim.set('emergency', true)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 60));
    await sim.stop();
    expect(events).toEqual([
      { input: 'emergency', active: true, at: 2000 },
      { input: 'lights', active: true, at: 2000 },
    ]);
  });
});
