import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VigilConfig } from '../../config/schema.js';
import { repoRoot } from '../support/shared.js';
import { base } from './minimal-config.js';

describe('documented examples', () => {
  /** YAML blocks of a doc page, parsed. */
  const yamlBlocks = (file: string) =>
    [...readFileSync(path.join(repoRoot, 'docs', file), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => parseYaml(m[1]!) as Record<string, unknown>,
    );

  it('docs/safety.md: the camera example parses with the documented rule defaults', () => {
    const [doc] = yamlBlocks('safety.md');
    const cameras = (doc!.cameras as Record<string, unknown>[]).map((c) => ({
      ...c,
      source: 'rtsp://cam/1',
    }));
    const cfg = VigilConfig.parse({ ...base, models: { forklift: { path: 'f.onnx' } }, cameras });
    const cam = cfg.cameras[0]!;
    expect(cam.priority).toBe(2);
    expect(cam.rules.map((r) => [r.id, r.labels])).toEqual([
      [undefined, ['person']],
      [undefined, ['person']],
      ['bay-crowd', ['person']],
      [undefined, ['forklift']],
    ]);
    expect(cam.motion).toMatchObject({ enabled: true, heartbeatFps: 1, width: 160 });
  });

  it('docs/drift.md: the config example is exactly the defaults, as `drift: {}` gives them', () => {
    const [doc] = yamlBlocks('drift.md');
    const written = VigilConfig.parse({ ...base, drift: doc!.drift }).drift;
    expect(VigilConfig.parse({ ...base, drift: {} }).drift).toEqual(written);
  });

  it.each(['config/demo.yaml', 'config/examples/site.yaml', 'config/examples/pm25-milan.yaml'])(
    '%s parses as written (before ${VAR} expansion of ids)',
    (file) => {
      const doc = parseYaml(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;
      // Values from the environment are checked after expansion (test/config/examples.test.ts); stand in for them.
      const text = JSON.stringify(doc).replace(
        /\$\{[A-Z_]+(?::-([^}]*))?\}/g,
        (_, d: string | undefined) => d ?? 'x',
      );
      const cfg = VigilConfig.parse(JSON.parse(text));
      for (const c of cfg.cameras) expect(Object.keys(cfg.models)).toContain(c.model);
    },
  );

  it('site.yaml overrides only what it sets', () => {
    const doc = parseYaml(readFileSync(path.join(repoRoot, 'config/examples/site.yaml'), 'utf8')) as object;
    const cfg = VigilConfig.parse(
      JSON.parse(JSON.stringify(doc).replace(/\$\{[A-Z_]+(?::-([^}]*))?\}/g, 'x')),
    );
    expect(cfg.outbox).toMatchObject({ maxRows: 500000, maxAgeHours: 168, maxBytes: 512 * 1024 * 1024 });
    expect(cfg.models.forklift!.classes.forklift).toEqual({ confidence: 0.4 });
    expect(cfg.drift).toMatchObject({ windowMinutes: 15, imageEvery: 2, imageStep: 4 });
  });
});
