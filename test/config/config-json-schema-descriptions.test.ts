import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/shared.js';

type Schema = { [key: string]: unknown };

/**
 * Every property a config can write, as `path → its schema`, found by walking the JSON Schema: object
 * properties, array items (`[]`), map values (`.*`) and each alternative of anyOf / oneOf / allOf.
 */
function writableProperties(node: unknown, at = ''): [string, Schema][] {
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n) => writableProperties(n, at));
  const s = node as Schema;
  const found: [string, Schema][] = [];
  for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    const where = at ? `${at}.${name}` : name;
    found.push([where, prop], ...writableProperties(prop, where));
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) found.push(...writableProperties(s[key], at));
  found.push(...writableProperties(s.items, `${at}[]`), ...writableProperties(s.prefixItems, `${at}[]`));
  if (typeof s.additionalProperties === 'object')
    found.push(...writableProperties(s.additionalProperties, `${at}.*`));
  return found;
}

const schema = JSON.parse(readFileSync(path.join(repoRoot, 'docs', 'schemas', 'config.json'), 'utf8'));
const properties = writableProperties(schema);

describe('docs/schemas/config.json: what an editor shows on hover', () => {
  it('reaches every section a user writes (the walk misses none)', () => {
    const paths = new Set(properties.map(([p]) => p));
    for (const p of [
      'site',
      'mqtt.tls.rejectUnauthorized',
      'outbox.minFreeMiB',
      'http.auth.token',
      'http.pm25Levels[].tone',
      'models.*.classes.*.minArea',
      'models.*.session.interOpThreads',
      'models.*.tensorrt.workspaceMiB',
      'cameras[].pm25.gates.fogMinHumidity',
      'cameras[].pm25.targets[].intrinsicTransmission',
      'cameras[].pm25.calibration.aciGamma',
      'cameras[].detect.tiles.grid',
      'cameras[].rules[].dwellS',
      'cameras[].proximity.margin.px',
      'cameras[].motion.masks',
      'fleet.keys',
      'safety.snapshots.quality',
      'drift.hysteresis.clearRatio',
    ])
      expect(paths, p).toContain(p);
    expect(paths.size).toBeGreaterThan(200);
  });

  it('gives every writable property a description, beside its anyOf where `${VAR}` is allowed', () => {
    const missing = properties
      .filter(([, s]) => typeof s.description !== 'string' || !s.description.trim())
      .map(([p]) => p);
    expect(missing).toEqual([]);
  });
});
