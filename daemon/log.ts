// Root logger: JSON lines to stdout for journald, pretty-printed when a person is watching a
// terminal. No worker-thread transports: they lose the last lines on a hard exit (pino #1183).
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

export type Logger = PinoLogger;

// Secrets that must never reach a log line, whatever object they ride on.
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.pin',
  'pin',
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(opts: { level?: LevelWithSilent; pretty?: boolean; name?: string } = {}): Logger {
  const options = {
    name: opts.name ?? 'mdt',
    level: opts.level ?? (process.env.MDT_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  const wantPretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.MDT_LOG_FORMAT !== 'json');
  if (wantPretty) {
    // Loaded only for a person at a terminal: a service logging JSON to journald does not pay for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    return pino(options, pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(options);
}
