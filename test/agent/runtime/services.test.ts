import { describe, expect, it } from 'vitest';
import { createServices } from '../../../agent/runtime/services.js';
import { VigilConfig } from '../../../config/schema.js';

describe('the off-switch', () => {
  const base = {
    site: 'yard',
    device: 'box',
    models: { det: { path: 'model.onnx' } },
    cameras: [{ id: 'yard', source: '/dev/video0', model: 'det' }],
  };
  it('http.enabled false registers no web service (no server, no port); the default registers one', () => {
    const names = (cfg: object) => createServices(VigilConfig.parse(cfg)).map((s) => s.name);
    expect(names({ ...base, http: { enabled: false } })).not.toContain('web');
    expect(names(base)).toContain('web');
  });
  // It was registered only when the config at start had a PM2.5 camera, so a push adding the first one
  // was ignored until a restart. The service follows the config (pm25-service-live.test.ts) and idles
  // without one.
  it('registers the PM2.5 service without a PM2.5 camera, so a push can add the first one', () => {
    const names = (cfg: object) => createServices(VigilConfig.parse(cfg)).map((s) => s.name);
    expect(names(base)).toContain('pm25');
  });
});
