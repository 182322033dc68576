// A HardwareLogger that records lines so tests can assert what an adapter reported.
import type { HardwareLogger } from '../../../hardware/logger.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

export interface CapturedLog extends HardwareLogger {
  lines: LogLine[];
  messages(level?: LogLine['level']): string[];
}

export function captureLog(echo = process.env.HW_TEST_LOG === '1'): CapturedLog {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg, fields });
      if (echo) console.log(level, msg, JSON.stringify(fields));
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) => lines.filter((l) => !level || l.level === level).map((l) => l.msg),
  };
}
