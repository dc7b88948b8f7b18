import type { z } from 'zod';
import { RequestEnvelope } from './request-payloads.js';

/** What a request may be: at most this many bytes, nested at most this deep. */
export const requestLimits = { maxBytes: 64 * 1024, maxDepth: 32 } as const;

export type Transaction = string | number;
export type ParsedRequest =
  | { ok: true; body: Record<string, unknown>; transaction?: Transaction }
  | { ok: false; error: string; transaction?: Transaction };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The deepest nesting of arrays and objects in JSON text, counted before parsing (strings skipped). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > stopAbove) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Reads one request payload from anyone who may publish to the request topics: every way it can be wrong
 * (size, encoding, JSON, depth, shape, `transaction` type) gives an error a person can act on. Never throws.
 */
export function parseRequest(payload: Buffer, limits = requestLimits): ParsedRequest {
  if (payload.length > limits.maxBytes)
    return { ok: false, error: `request too large: ${payload.length} bytes (at most ${limits.maxBytes})` };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, error: 'invalid JSON: the payload is not UTF-8 text' };
  }
  // An empty payload is the shortest way to say "no parameters".
  if (text.trim() === '') return { ok: true, body: {} };
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth)
    return { ok: false, error: `request nested too deeply (more than ${limits.maxDepth} levels)` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  if (kind(value) !== 'object')
    return { ok: false, error: `request must be a JSON object, got ${kind(value)}` };
  const envelope = RequestEnvelope.safeParse(value);
  if (!envelope.success) return { ok: false, error: describeIssues(envelope.error) };
  const { transaction } = envelope.data;
  return {
    ok: true,
    body: value as Record<string, unknown>,
    ...(transaction !== undefined && { transaction }),
  };
}

/** Zod issues in words: `field.path: message`, unknown fields named; at most three. */
export function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => `unexpected field "${[...issue.path, k].join('.')}"`).join('; ');
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return parts.join('; ') + more;
}
