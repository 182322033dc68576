// The simulators and the fake-backed adapters held to the shared port contracts. The pty-backed
// adapters run the same suites in test/integration/hardware/contracts.test.ts.
import { readFileSync } from 'node:fs';
import { describe } from 'vitest';
import { GpsdSource } from '../../../hardware/gpsd-client.js';
import { MmcliSource } from '../../../hardware/mmcli-source.js';
import { SimGps } from '../../../hardware/sim-gps.js';
import { SimInputs } from '../../../hardware/sim-inputs.js';
import { SimModem } from '../../../hardware/sim-modem.js';
import { FakeGpsd, tpvLine } from './fake-gpsd.js';
import { runGpsSourceContract, runModemSourceContract, runVehicleInputsContract } from './source-contracts.js';

const BEAT: Array<[number, number]> = [
  [-122.34, 47.6],
  [-122.32, 47.6],
  [-122.32, 47.61],
  [-122.34, 47.61],
];

describe('SimGps', () => runGpsSourceContract({ create: async () => new SimGps({ polygon: BEAT, intervalMs: 20 }) }));

describe('GpsdSource (scripted gpsd)', () => {
  let gpsd: FakeGpsd | undefined;
  let feed: NodeJS.Timeout | undefined;
  runGpsSourceContract({
    create: async () => {
      gpsd = await new FakeGpsd().start();
      let s = 0;
      feed = setInterval(() => {
        const t = new Date(Date.parse('2026-11-27T08:00:00Z') + s * 1000).toISOString();
        gpsd!.send(tpvLine({ time: t, lat: 47.6062 + s * 0.0001 }));
        s++;
      }, 20);
      return new GpsdSource({ port: gpsd.port, backoff: { minMs: 20, maxMs: 100 } });
    },
    teardown: async () => {
      clearInterval(feed);
      await gpsd?.stop();
    },
  });
});

describe('SimModem', () => runModemSourceContract({ create: async () => new SimModem({ pollMs: 50 }) }));

describe('MmcliSource (fixture exec)', () => {
  const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  runModemSourceContract({
    create: async () =>
      new MmcliSource({
        pollMs: 50,
        exec: async (args) => fixture(args.includes('--signal-get') ? 'mmcli-signal-lte.json' : 'mmcli-connected-lte.json'),
      }),
  });
});

describe('SimInputs', () =>
  runVehicleInputsContract({
    create: async () => new SimInputs(),
    stimulate: async (inputs) => void (inputs as SimInputs).set('emergency', true),
  }));
