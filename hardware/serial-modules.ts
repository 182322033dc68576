// serialport takes about 190 ms to load on an MDT-class CPU, a fifth of the car's start-up budget,
// and a car with simulated or absent serial devices never needs it: load it on the first open.
import type { ReadlineParser } from '@serialport/parser-readline';
import type { SerialPort } from 'serialport';

export interface SerialModules {
  SerialPort: typeof SerialPort;
  ReadlineParser: typeof ReadlineParser;
}

let loading: Promise<SerialModules> | undefined;

export function loadSerial(): Promise<SerialModules> {
  loading ??= Promise.all([import('serialport'), import('@serialport/parser-readline')]).then(([s, r]) => ({
    SerialPort: s.SerialPort,
    ReadlineParser: r.ReadlineParser,
  }));
  return loading;
}
