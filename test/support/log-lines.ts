import { createLogger, type Logger, type LogLevel } from '../../config/logger.js';

/** One log record, parsed from its JSON line. */
export type LogRecord = { level: string; msg: string; [k: string]: unknown };

/** The real logger in JSON mode, its records kept (parsed, in order) for assertions. */
export function logLines(level: LogLevel = 'info'): { log: Logger; lines: LogRecord[] } {
  const lines: LogRecord[] = [];
  return {
    lines,
    log: createLogger({ level, json: true, write: (l) => lines.push(JSON.parse(l) as LogRecord) }),
  };
}
