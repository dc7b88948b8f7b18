import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { VigilConfig } from '../../config/schema.js';
import { repoRoot } from '../support/shared.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every object key of a zod schema, with its dotted path (arrays as `[]`, records as `<key>`). */
function keysOf(schema: z.ZodType, at: string, out: Map<string, string>, seen = new Set<z.ZodType>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  if (def.shape) {
    for (const [key, child] of Object.entries(def.shape)) {
      const p = at ? `${at}.${key}` : key;
      out.set(p, key);
      keysOf(child, p, out, seen);
    }
  }
  for (const child of [def.innerType, def.in, def.out, def.getter?.()])
    if (child) keysOf(child, at, out, seen);
  if (def.element) keysOf(def.element, `${at}[]`, out, seen);
  if (def.valueType) keysOf(def.valueType, `${at}.<key>`, out, seen);
  for (const option of def.options ?? []) keysOf(option, at, out, seen);
}

describe('the config reference', () => {
  // docs/config.md is the reference; a capability's own page (pm25.md, drift.md, …) may hold its section.
  it('documents every field of the config schema in docs/', () => {
    const dir = path.join(repoRoot, 'docs');
    const doc = readdirSync(dir)
      .filter((f) => f.endsWith('.md'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const fields = new Map<string, string>();
    keysOf(VigilConfig, '', fields);
    expect(fields.size).toBeGreaterThan(30);
    // A key counts as documented when it is a word inside a code span (`tls.ca` documents tls and ca).
    const words = new Set([...doc.matchAll(/`([^`\n]+)`/g)].flatMap((m) => m[1]!.split(/[^A-Za-z0-9_]+/)));
    const missing = [...fields].filter(([, key]) => !words.has(key)).map(([p]) => p);
    expect(missing).toEqual([]);
  });
});
