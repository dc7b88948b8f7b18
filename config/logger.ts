import { redactUrl } from './redact-url.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logger handed down to every layer (it lives here because config/ is the bottom layer). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Credentials must never reach a log line: every string passes through redactUrl, also inside plain objects
 * and arrays (a camera's config logged whole), down to a few levels.
 */
function scrub(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[k] = scrubValue(v, depth); // absent, not "undefined"
  }
  return out;
}

function scrubValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactUrl(v);
  if (depth >= 4 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, depth + 1));
  // Class instances (errors, buffers) are written as they are.
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  return scrub(v as Record<string, unknown>, depth + 1);
}

/** One line per record on stderr: `time level msg key=value…` (or JSON lines with `json: true`). */
export function createLogger(
  opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void } = {},
  bound: Record<string, unknown> = {},
): Logger {
  const min = rank[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (rank[level] < min) return;
    const all = scrub({ ...bound, ...fields });
    const text = redactUrl(msg);
    if (opts.json) {
      write(JSON.stringify({ ts: new Date().toISOString(), level, msg: text, ...all }));
      return;
    }
    const kv = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}${kv ? ' ' + kv : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
