// Adapters emit from socket, serial and timer callbacks. A listener that throws there would
// become an uncaught exception and restart the daemon (SignalK #2446), so every emit from a
// hardware adapter goes through here: the throw is logged and the adapter carries on.
import type { EventEmitter } from 'node:events';
import type { HardwareLogger } from './logger.js';

export function emitSafely<T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  log: HardwareLogger,
  event: K,
  ...args: T[K]
): void {
  try {
    // The cast bridges @types/node's conditional EventEmitter parameter types, which do not
    // narrow through a generic K; the public signature above keeps callers type-checked.
    (emitter as unknown as EventEmitter).emit(event, ...args);
  } catch (err) {
    log.error({ err, event }, 'hardware event listener threw; adapter continues');
  }
}
