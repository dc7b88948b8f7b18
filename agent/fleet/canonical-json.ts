/**
 * Canonical JSON of a parsed JSON value: object keys sorted by UTF-16 code units, no whitespace, strings
 * and numbers as JSON.stringify writes them. For the values a fleet document holds (finite numbers,
 * strings, booleans, null, arrays, objects) this is the same text as RFC 8785 (JCS), so a signer in
 * another language can reproduce the signed bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  throw new Error(`canonical JSON: cannot encode a ${typeof value}`);
}
