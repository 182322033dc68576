// The slice of pino the hardware adapters use. Injected, so tests can capture lines and the
// daemon passes `log.child({ component: 'gpsd' })` without the adapters importing pino.

export interface HardwareLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

const noop = (): void => {};

/** For simulators and tests that do not care about log lines. */
export const silentLogger: HardwareLogger = { debug: noop, info: noop, warn: noop, error: noop };
