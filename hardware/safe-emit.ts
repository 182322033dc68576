// Adapters emit from socket, serial and timer callbacks. A listener that throws there would
// become an uncaught exception and restart the daemon (SignalK #2446), so every emit from a
// hardware adapter goes through here. Each listener is called on its own: a throw is logged and
// the remaining listeners still get the event (a plain emit() would stop at the first throw).
import type { EventEmitter } from 'node:events';
import type { HardwareLogger } from './logger.js';

export function emitSafely<T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  log: HardwareLogger,
  event: K,
  ...args: T[K]
): void {
  // The cast bridges @types/node's conditional EventEmitter parameter types, which do not
  // narrow through a generic K; the public signature above keeps callers type-checked.
  // rawListeners() keeps once() wrappers, so a once-listener still removes itself when called.
  const listeners = (emitter as unknown as EventEmitter).rawListeners(event) as Array<(...a: unknown[]) => unknown>;
  for (const listener of listeners) {
    try {
      listener.apply(emitter, args);
    } catch (err) {
      log.error({ err, event }, 'hardware event listener threw; adapter continues');
    }
  }
}
