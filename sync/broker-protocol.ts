// The messages between the station's main thread and the broker's worker (broker.ts,
// broker-worker.ts). Only what each side needs crosses: credentials to check and their answer,
// log records, connects/disconnects, the publishes the precinct links relay, and commands.
import type { Identity } from './acl.js';

export interface BrokerTlsOptions {
  host?: string;
  port?: number;
  cert: string | Buffer;
  key: string | Buffer;
  /** When set, clients must also present a certificate signed by this CA. */
  ca?: string | Buffer;
}

/** The worker's start parameters (workerData). */
export interface WorkerConfig {
  host: string;
  port: number;
  tls?: BrokerTlsOptions;
  authTimeoutMs: number;
  /** Home precincts whose vehicles' publishes are posted to the main thread. */
  relayFrom: string[];
}

/** A connection the worker reports: `conn` tells apart two connections with the same client id. */
export interface ClientRef {
  clientId: string;
  conn: number;
  identity: Identity;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ToWorker =
  | { type: 'auth'; id: number; result: Identity | { refused: string } | { error: string } }
  | { type: 'publish'; id: number; topic: string; payload: Uint8Array; qos: 0 | 1; retain: boolean }
  | { type: 'disconnect'; id: number; vehicleId: string }
  | { type: 'close' };

export type FromWorker =
  | { type: 'listening'; host: string; port: number; tls?: { host: string; port: number } }
  | { type: 'auth'; id: number; clientId: string; username: string; password: string }
  | { type: 'log'; level: LogLevel; obj: Record<string, unknown>; msg: string }
  | { type: 'clientReady' | 'clientDisconnect'; client: ClientRef }
  | { type: 'publish'; client: ClientRef; topic: string; payload: Uint8Array; qos: number; retain: boolean }
  | { type: 'done'; id: number; error?: string; closed?: number }
  | { type: 'closed' };

/**
 * The payload's own bytes: a Buffer is often a view into a larger pooled or parsed chunk, and
 * posting the view would clone that whole chunk.
 */
export function ownBytes(payload: Uint8Array | string): Uint8Array {
  return typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload);
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
