// The pty-backed adapters held to the same port contracts as the simulators.
import { describe } from 'vitest';
import { AtModemSimulator } from '../../../hardware/at-modem-simulator.js';
import { InputModuleSimulator } from '../../../hardware/input-module-simulator.js';
import { SerialInputs } from '../../../hardware/inputs-serial.js';
import { AtModemSource } from '../../../hardware/modem-source.js';
import { type PtyPair, createPtyPair } from '../../helpers/socat-pty.js';
import { runModemSourceContract, runVehicleInputsContract } from '../../unit/hardware/source-contracts.js';

describe('AtModemSource over a pty', () => {
  let pair: PtyPair | undefined;
  let sim: AtModemSimulator | undefined;
  runModemSourceContract({
    create: async () => {
      pair = await createPtyPair('modem');
      sim = new AtModemSimulator(pair.simulatorPath);
      await sim.open();
      return new AtModemSource({ path: pair.devicePath, pollMs: 200, commandTimeoutMs: 300 });
    },
    teardown: async () => {
      await sim?.close();
      await pair?.close();
    },
  });
});

describe('SerialInputs over a pty', () => {
  let pair: PtyPair | undefined;
  let module: InputModuleSimulator | undefined;
  runVehicleInputsContract({
    create: async () => {
      pair = await createPtyPair('vim');
      module = new InputModuleSimulator(pair.simulatorPath, { heartbeatMs: 100 });
      await module.open();
      return new SerialInputs({ path: pair.devicePath, debounceMs: 20 });
    },
    stimulate: async () => module!.set('emergency', true),
    teardown: async () => {
      await module?.close();
      await pair?.close();
    },
  });
});
