// The modem end of a serial line: answers AT commands like a 3GPP TS 27.007 LTE module, so the
// real AtModemSource can be exercised over a pseudo-terminal (socat) in tests and on a bench.
// Scriptable: signal, registration and operator can change, any command can be made to fail
// with ERROR or +CME ERROR, the modem can go silent, and URCs can be injected.
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';

export interface SimulatedModemState {
  /** AT+CSQ <rssi>: 0..31, or 99 for unknown. */
  rssi: number;
  /** <stat> for +CREG and +CEREG (1 home, 2 searching, 3 denied, 5 roaming, ...). */
  cregStat: number;
  ceregStat: number;
  operator: string;
  /** <AcT> for +COPS (7 = E-UTRAN). */
  act: number;
  /** When true the modem reads commands and answers nothing (wedged firmware). */
  silent: boolean;
}

export const defaultSimulatedModem: SimulatedModemState = {
  rssi: 23,
  cregStat: 0, // LTE-only modules have no circuit-switched registration
  ceregStat: 1,
  operator: 'FirstNet',
  act: 7,
  silent: false,
};

/** Pure command -> response lines (without final CRLF framing). Exported for unit tests. */
export class AtModemBrain {
  state: SimulatedModemState;
  /**
   * Failure forced for a command (upper case, e.g. 'AT+CSQ'): a literal final result such as
   * 'ERROR', or a +CME error rendered the way AT+CMEE selected.
   */
  failures = new Map<string, string | { cme: number; text: string }>();
  echo = true;
  private cmee = 0;
  private cregN = 0;
  private ceregN = 0;

  constructor(state: Partial<SimulatedModemState> = {}) {
    this.state = { ...defaultSimulatedModem, ...state };
  }

  /** Returns the lines to send (echo, information, final result), or [] when silent. */
  answer(command: string): string[] {
    if (this.state.silent) return [];
    const out: string[] = this.echo ? [command] : [];
    const forced = this.failures.get(command.toUpperCase());
    if (forced) return [...out, typeof forced === 'string' ? forced : this.cmeError(forced.cme, forced.text)];
    const info = this.handle(command.toUpperCase());
    if (info === undefined) return [...out, 'ERROR'];
    return [...out, ...info, 'OK'];
  }

  private handle(cmd: string): string[] | undefined {
    const s = this.state;
    switch (cmd) {
      case 'AT':
        return [];
      case 'ATE0':
        this.echo = false;
        return [];
      case 'ATE1':
        this.echo = true;
        return [];
      case 'ATI':
        return ['Quectel', 'EG25', 'Revision: EG25GGBR07A08M2G'];
      case 'AT+CSQ':
        return [`+CSQ: ${s.rssi},99`];
      case 'AT+CREG?':
        return [`+CREG: ${this.cregN},${s.cregStat}`];
      case 'AT+CGREG?':
        return [`+CGREG: 0,${s.ceregStat}`];
      case 'AT+CEREG?':
        return [`+CEREG: ${this.ceregN},${s.ceregStat}`];
      case 'AT+COPS?':
        return isRegistered(s.ceregStat) || isRegistered(s.cregStat) ? [`+COPS: 0,0,"${s.operator}",${s.act}`] : ['+COPS: 0'];
    }
    const set = /^AT\+(CMEE|CREG|CEREG)=([0-2])$/.exec(cmd);
    if (set) {
      const n = Number(set[2]);
      if (set[1] === 'CMEE') this.cmee = n;
      else if (set[1] === 'CREG') this.cregN = n;
      else this.ceregN = n;
      return [];
    }
    return undefined;
  }

  /** +CME ERROR in the form AT+CMEE selected: numeric (1) or verbose (2); plain ERROR when 0. */
  cmeError(code: number, text: string): string {
    if (this.cmee === 1) return `+CME ERROR: ${code}`;
    if (this.cmee === 2) return `+CME ERROR: ${text}`;
    return 'ERROR';
  }
}

function isRegistered(stat: number): boolean {
  return stat === 1 || stat === 5;
}

/** An AtModemBrain answering on a serial device (the simulator end of a pty pair). */
export class AtModemSimulator {
  readonly brain: AtModemBrain;
  readonly received: string[] = [];
  private port: SerialPort | undefined;

  constructor(
    private readonly path: string,
    state: Partial<SimulatedModemState> = {},
  ) {
    this.brain = new AtModemBrain(state);
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    // Commands end with CR (V.250 S3); ignore a stray LF some terminals add.
    port.pipe(new ReadlineParser({ delimiter: '\r', encoding: 'latin1' })).on('data', (raw: string) => {
      const command = raw.replace(/\n/g, '').trim();
      if (command.length === 0) return;
      this.received.push(command);
      this.write(this.brain.answer(command));
    });
    port.on('error', () => {
      // The pty vanishing under the simulator is the test's doing; nothing to report.
    });
  }

  /** Sends an unsolicited result code, e.g. `+CEREG: 2`. */
  urc(line: string): void {
    this.write([line]);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private write(lines: string[]): void {
    if (lines.length === 0 || !this.port?.isOpen) return;
    // Verbose result framing (V.250 §5.7.1): each line as <CR><LF>text<CR><LF>; echo is bare.
    const [first, ...rest] = lines;
    const echoed = this.brain.echo && first !== undefined && this.received.at(-1) === first;
    const body = (echoed ? rest : lines).map((l) => `\r\n${l}\r\n`).join('');
    this.port.write(`${echoed ? `${first}\r` : ''}${body}`);
  }
}
