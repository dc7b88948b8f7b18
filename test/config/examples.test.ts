import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { repoRoot } from '../support/shared.js';

const dir = path.join(repoRoot, 'config', 'examples');
const files = [
  path.join(repoRoot, 'config', 'demo.yaml'),
  ...readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(dir, f)),
];

describe('bundled configs are valid', () => {
  it.each(files)('%s', (file) => {
    const cfg = loadConfig(file);
    expect(cfg.cameras.length).toBeGreaterThan(0);
    for (const c of cfg.cameras) expect(Object.keys(cfg.models)).toContain(c.model);
  });
});
