// The module end of the vehicle-input serial line (inputs-protocol.ts), for pty tests and bench
// checks of SerialInputs: reports levels, sends heartbeats, answers `?`, and can send noise,
// bounce a contact, or fall silent.
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import { MODULE_INPUT_NAMES, QUERY_COMMAND, withChecksum } from './inputs-protocol.js';
import type { InputName } from './types.js';

const WIRE_NAMES = Object.fromEntries(Object.entries(MODULE_INPUT_NAMES).map(([wire, name]) => [name, wire])) as Record<InputName, string>;

export interface InputModuleSimulatorOptions {
  /** Heartbeat period; 0 disables heartbeats. Default 1000 ms. */
  heartbeatMs?: number;
  /** Append `*HH` checksums. Default true. */
  checksums?: boolean;
  id?: string;
}

export class InputModuleSimulator {
  readonly levels: Record<InputName, boolean> = { emergency: false, ignition: true, lights: false };
  readonly received: string[] = [];
  /** When true the module neither answers nor sends heartbeats (lost power, cut cable). */
  silent = false;
  private port: SerialPort | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly path: string,
    private readonly options: InputModuleSimulatorOptions = {},
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    port.on('error', () => {
      // The pty vanishing under the simulator is the test's doing.
    });
    port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' })).on('data', (raw: string) => {
      const command = raw.trim();
      this.received.push(command);
      if (command === QUERY_COMMAND && !this.silent) this.reportAll();
    });
    const hb = this.options.heartbeatMs ?? 1000;
    if (hb > 0) this.heartbeat = setInterval(() => !this.silent && this.send(`HB ${this.seq++}`), hb);
  }

  /** Changes one input and reports it, as the module does on every edge. */
  set(input: InputName, active: boolean): void {
    this.levels[input] = active;
    this.send(`IN ${WIRE_NAMES[input]} ${active ? 1 : 0}`);
  }

  /** Sends a line exactly as given (no checksum added): noise, wrong checksums, unknown verbs. */
  sendRaw(text: string): void {
    this.port?.write(text);
  }

  reportAll(): void {
    this.send(`ID ${this.options.id ?? 'SIM-VIM fw1.0'}`);
    for (const input of Object.keys(this.levels) as InputName[]) this.send(`IN ${WIRE_NAMES[input]} ${this.levels[input] ? 1 : 0}`);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private send(body: string): void {
    if (!this.port?.isOpen) return;
    this.port.write(`${this.options.checksums === false ? body : withChecksum(body)}\r\n`);
  }
}
