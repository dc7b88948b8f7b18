import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
  afterEach(() => vi.unstubAllEnvs());

  it.each(files)('%s', (file) => {
    // The secrets the examples take from the environment (an unset one is a config error).
    vi.stubEnv('VIGIL_MQTT_PASSWORD', 'mqtt-secret');
    vi.stubEnv('CAM_PASSWORD', 'cam-secret');
    const cfg = loadConfig(file);
    expect(cfg.cameras.length).toBeGreaterThan(0);
    for (const c of cfg.cameras) expect(Object.keys(cfg.models)).toContain(c.model);
  });
});
