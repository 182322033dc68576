// A scripted stand-in for gpsd on a loopback port, for unit tests of the client's fault handling
// (the integration tests use the real gpsd). It greets with VERSION like gpsd does, answers
// ?WATCH with DEVICES + WATCH, records every command, and lets the test write any line,
// go silent, drop clients, stop and restart on the same port.
import net from 'node:net';

export const VERSION_LINE = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}';
export const DEVICE_PATH = '/dev/ttyGPS0';
export const DEVICES_LINE = `{"class":"DEVICES","devices":[{"class":"DEVICE","path":"${DEVICE_PATH}","activated":"2026-11-27T08:00:00.000Z","driver":"NMEA0183"}]}`;
export const WATCH_LINE = '{"class":"WATCH","enable":true,"json":true,"nmea":false}';

export interface FakeGpsdOptions {
  /** Port to listen on; 0 asks the OS. */
  port?: number;
  greeting?: string;
  /** Lines sent in answer to ?WATCH. */
  onWatch?: string[];
  /** Lines sent in answer to ?DEVICES. */
  onDevices?: string[];
}

export class FakeGpsd {
  readonly commands: string[] = [];
  connections = 0;
  /** When each connection arrived (Date.now()), in order. */
  readonly connectedAt: number[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private portNumber: number;

  constructor(private readonly options: FakeGpsdOptions = {}) {
    this.portNumber = options.port ?? 0;
  }

  get port(): number {
    return this.portNumber;
  }

  async start(): Promise<this> {
    const server = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.portNumber = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** Writes raw text (add your own newlines) to every connected client. */
  write(text: string): void {
    for (const s of this.sockets) s.write(text);
  }

  send(...lines: string[]): void {
    this.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  clientCount(): number {
    return this.sockets.size;
  }

  watchCount(): number {
    return this.commands.filter((c) => c.startsWith('?WATCH')).length;
  }

  /** Closes the listener and every client, like gpsd exiting. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    this.connections++;
    this.connectedAt.push(Date.now());
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const command of parts) {
        this.commands.push(command);
        if (command.startsWith('?WATCH')) this.reply(socket, this.options.onWatch ?? [DEVICES_LINE, WATCH_LINE]);
        if (command.startsWith('?DEVICES')) this.reply(socket, this.options.onDevices ?? [DEVICES_LINE]);
      }
    });
    socket.write(`${this.options.greeting ?? VERSION_LINE}\r\n`);
  }

  private reply(socket: net.Socket, lines: string[]): void {
    if (lines.length > 0) socket.write(lines.map((l) => `${l}\r\n`).join(''));
  }
}

/** A TPV line as gpsd 3.22 writes it; fields can be overridden or removed (undefined). */
export function tpvLine(fields: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    class: 'TPV',
    device: DEVICE_PATH,
    mode: 3,
    time: '2026-11-27T08:00:00.000Z',
    ept: 0.005,
    lat: 47.6062,
    lon: -122.3321,
    altHAE: 30.1,
    altMSL: 52.4,
    track: 90.5,
    speed: 12.3,
    climb: 0,
    eph: 8.2,
  };
  const merged = { ...base, ...fields };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return JSON.stringify(merged);
}
