// A Logger that records what sync/ logs, for asserting on warnings.
import type { Logger } from '../../sync/schema.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

export function spyLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const rec = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push(msg === undefined ? { level, obj } : { level, obj, msg });
  };
  return { entries, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}
