// AT command exchange over a serial port (ITU-T V.250 framing, 3GPP TS 27.007 result codes).
//
// - One command in flight: a modem answers commands in order and its responses carry no id,
//   so overlapping commands would mix their lines. send() queues.
// - Every command has a timeout: a wedged modem must not stall the poll loop forever.
// - Final result codes end a command: `OK`, `ERROR`, `+CME ERROR: <err>` (TS 27.007 §9.2; with
//   AT+CMEE=1 a number, with =2 text), `+CMS ERROR: <err>` (TS 27.005), and the V.250 call
//   codes that also end a command (`NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`).
// - Unsolicited result codes (URCs, e.g. `+CREG: 1` with AT+CREG=1, `RING`) can arrive at any
//   time. Lines that do not belong to the command in flight are emitted as `urc`.
// - send() never throws: a timeout or a closed port is a result the caller inspects.
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import { loadSerial } from './serial-modules.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';

export type AtResult =
  | { status: 'ok'; lines: string[] }
  | { status: 'error'; lines: string[]; final: string; cmeError?: string }
  | { status: 'timeout'; lines: string[] }
  | { status: 'closed' };

export interface AtPortEvents {
  urc: [string];
  /** The port closed; `disconnected` is true when the device went away (unplugged, pty gone). */
  close: [{ disconnected: boolean }];
}

export interface AtPortOptions {
  path: string;
  baudRate?: number;
  /** Default timeout per command. */
  timeoutMs?: number;
  log?: HardwareLogger;
}

export interface SendOptions {
  timeoutMs?: number;
  /**
   * Prefix of the command's information lines, e.g. `+CSQ` for AT+CSQ. Other lines received
   * while it is in flight are URCs. Derived from the command when omitted (`AT+CSQ` -> `+CSQ`);
   * commands without one (ATI, AT+CGSN) take every line.
   */
  prefix?: string | null;
}

const FINAL_OK = 'OK';
const FINAL_ERRORS = ['ERROR', 'NO CARRIER', 'BUSY', 'NO ANSWER', 'NO DIALTONE'];
/** URCs that never carry a `+` prefix (V.250 / TS 27.007 §6.11 ring indication). */
const BARE_URCS = new Set(['RING', 'RDY', 'POWERED DOWN']);

interface InFlight {
  command: string;
  prefix: string | null;
  lines: string[];
  resolve: (result: AtResult) => void;
  timer: NodeJS.Timeout;
}

export class AtPort extends EventEmitter<AtPortEvents> {
  readonly path: string;
  private readonly baudRate: number;
  private readonly timeoutMs: number;
  private readonly log: HardwareLogger;
  private port: SerialPort | undefined;
  private inFlight: InFlight | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: AtPortOptions) {
    super();
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115200;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.log = options.log ?? silentLogger;
  }

  isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Opens the port; rejects with the OS error (ENOENT when the device is absent). */
  async open(): Promise<void> {
    const { SerialPort, ReadlineParser } = await loadSerial();
    if (this.port?.isOpen) return;
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    // Modems end lines with CR LF (V.250 §5.7.1, S3/S4); splitting on CR and trimming also
    // copes with modems configured to send bare CR.
    const lines = port.pipe(new ReadlineParser({ delimiter: '\r', encoding: 'latin1' }));
    lines.on('data', (raw: string) => {
      const line = raw.replace(/[\r\n]/g, '').trim();
      if (line.length > 0) this.onLine(line);
    });
    port.on('error', (err: Error) => this.log.warn({ err, path: this.path }, 'AT port error'));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port === port) this.port = undefined;
      this.finish({ status: 'closed' });
      const disconnected = err?.disconnected === true;
      emitSafely(this, this.log, 'close', { disconnected });
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.finish({ status: 'closed' });
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Sends one command (without CR) after any queued ones; resolves with its result. */
  send(command: string, options: SendOptions = {}): Promise<AtResult> {
    const run = (): Promise<AtResult> => this.exchange(command, options);
    const result = this.queue.then(run, run);
    this.queue = result;
    return result;
  }

  private exchange(command: string, options: SendOptions): Promise<AtResult> {
    const port = this.port;
    if (!port?.isOpen) return Promise.resolve({ status: 'closed' });
    const prefix = options.prefix === undefined ? derivePrefix(command) : options.prefix;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<AtResult>((resolve) => {
      const timer = setTimeout(() => {
        const lines = this.inFlight?.lines ?? [];
        this.log.debug({ command, timeoutMs }, 'AT command timed out');
        this.finish({ status: 'timeout', lines });
      }, timeoutMs);
      this.inFlight = { command, prefix, lines: [], resolve, timer };
      port.write(`${command}\r`, (err) => {
        if (err) {
          this.log.warn({ err, command }, 'AT write failed');
          this.finish({ status: 'closed' });
        }
      });
    });
  }

  private onLine(line: string): void {
    const cmd = this.inFlight;
    if (!cmd) {
      emitSafely(this, this.log, 'urc', line);
      return;
    }
    // With echo on (ATE1, the power-on default) the modem repeats the command first.
    if (line === cmd.command) return;
    if (line === FINAL_OK) return this.finish({ status: 'ok', lines: cmd.lines });
    if (FINAL_ERRORS.includes(line)) return this.finish({ status: 'error', lines: cmd.lines, final: line });
    const cme = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(line);
    if (cme) return this.finish({ status: 'error', lines: cmd.lines, final: line, cmeError: cme[2]!.trim() });
    if (cmd.prefix === null) {
      if (BARE_URCS.has(line)) emitSafely(this, this.log, 'urc', line);
      else cmd.lines.push(line);
      return;
    }
    if (line.startsWith(`${cmd.prefix}:`)) cmd.lines.push(line);
    else emitSafely(this, this.log, 'urc', line);
  }

  private finish(result: AtResult): void {
    const cmd = this.inFlight;
    if (!cmd) return;
    this.inFlight = undefined;
    clearTimeout(cmd.timer);
    cmd.resolve(result);
  }
}

/** `AT+CSQ` -> `+CSQ`, `AT+CREG?` -> `+CREG`, `AT+COPS=3,2` -> `+COPS`; `ATI`, `ATE0` -> null. */
export function derivePrefix(command: string): string | null {
  const m = /^AT([+%$^][A-Z0-9]+)/i.exec(command);
  return m ? m[1]!.toUpperCase() : null;
}

/** Splits the parameters of an information line: `+COPS: 0,0,"Op, Inc",7` -> ['0','0','Op, Inc','7']. */
export function atParams(line: string): string[] {
  const body = line.slice(line.indexOf(':') + 1).trim();
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of body) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (body.length > 0) out.push(current.trim());
  return out;
}
