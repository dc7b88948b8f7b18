import type { z } from 'zod';
import { isSecretField, redactUrl } from './redact-url.js';

function describe(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (secret) return `a ${Array.isArray(value) ? 'list' : typeof value} (value hidden)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') {
    // Credentials in a URL go before the cut, so a long URL cannot show half a password.
    const shown = redactUrl(value);
    return `"${shown.length > 40 ? shown.slice(0, 40) + '…' : shown}"`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
}
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The field names the object schema at `p` takes (through defaults, optionals, pipes, arrays and records). */
export function fieldsAt(schema: z.ZodType, p: readonly PropertyKey[]): string[] {
  let cur: z.ZodType | undefined = schema;
  let i = 0;
  for (let guard = 0; cur && guard < 100; guard++) {
    const def = defOf(cur);
    const wrapped = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (wrapped) cur = wrapped;
    else if (i === p.length) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    else if (def.type === 'object' && def.shape) cur = def.shape[String(p[i++])];
    else if (def.type === 'array' || def.type === 'record') {
      cur = def.element ?? def.valueType;
      i++;
    } else return [];
  }
  return [];
}

/**
 * Edit distance with a swap of two neighbours counting as one edit (optimal string alignment): "fsp" is one
 * edit from "fps". Config keys are short, so the quadratic table costs nothing.
 */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The known field a typo most likely meant: a transposition or a letter or two off, case aside. */
export function closestField(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(key.toLowerCase(), name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

const unit = { string: 'character', array: 'item', set: 'item', file: 'byte' } as const;

/** "at least 1", "more than 0", "at most 64 characters". */
function bound(origin: string, limit: number | bigint, inclusive: boolean, side: 'min' | 'max'): string {
  const noun = unit[origin as keyof typeof unit];
  const n = Number(limit);
  const words = side === 'min' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  return `${words} ${n}${noun ? ` ${noun}${n === 1 ? '' : 's'}` : ''}`;
}

/**
 * One line per issue: `cameras[1].fps: expected number, got "ten"`. What was written is shown (the installer
 * needs to see it), except secrets: URL credentials become `***` and secret fields show only their type.
 * Given the schema, an unknown field is answered with the known one it most likely meant.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema?: z.ZodType,
): string[] {
  return issues.map((issue) => {
    const where =
      issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') ||
      '(root)';
    const last = issue.path.at(-1);
    const got = describe(valueAt(input, issue.path), typeof last === 'string' && isSecretField(last));
    switch (issue.code) {
      case 'invalid_type':
        return `${where}: expected ${issue.expected === 'int' ? 'a whole number' : issue.expected}, got ${got}`;
      case 'unrecognized_keys': {
        const known = schema ? fieldsAt(schema, issue.path) : [];
        const keys = issue.keys.map((k) => {
          const near = closestField(k, known);
          return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
        });
        return `${where}: unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      case 'invalid_value':
        return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
      // A schema's own message says more than the bound (e.g. why a token needs 16 characters).
      case 'too_small':
        if (!issue.message.startsWith('Too small')) break;
        return `${where}: must be ${bound(issue.origin, issue.minimum, issue.inclusive ?? true, 'min')}, got ${got}`;
      case 'too_big':
        if (!issue.message.startsWith('Too big')) break;
        return `${where}: must be ${bound(issue.origin, issue.maximum, issue.inclusive ?? true, 'max')}, got ${got}`;
    }
    return `${where}: ${issue.message}${issue.code === 'custom' ? '' : `, got ${got}`}`;
  });
}
