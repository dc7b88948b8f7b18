import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { call } from '../../support/http-call.js';

// A real WebService on a free port beside an agent that is not started: the camera's counters are set by hand,
// as a fleet push that removes the camera and is rolled back leaves them (agent/runtime/camera-counters.ts).
describe('status page: inference errors of a camera a rolled-back push removed', () => {
  it('are listed once: the camera runs again with its counters, and only its new errors are added', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-errors-'));
    const config = VigilConfig.parse({
      site: 's',
      device: 'd',
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: ['yard', 'gate'].map((id) => ({ id, source: path.join(dir, `${id}.mp4`), model: 'det' })),
    });
    const agent = new Agent(config, { log: silentLogger, version: 'test', services: [] });
    const web = new WebService(config.http, { log: silentLogger, tickMs: 50 });
    try {
      await web.start(agent, () => {});
      const base = new URL(`http://127.0.0.1:${web.address!.port}`);
      const inferenceErrors = async () => {
        const status = JSON.parse((await call(base, '/api/status')).body.toString()) as {
          errors: { source: string; message: string }[];
        };
        return status.errors.filter((e) => e.source === 'inference').map((e) => e.message);
      };
      const stats = new CameraStats();
      const runtime = {
        config: config.cameras[1]!,
        state: { camera: 'gate', state: 'streaming' as const, since: Date.now() },
        stats,
      };
      agent.cameras.set('gate', runtime);
      stats.inferenceErrors = 3;
      await vi.waitFor(async () => expect(await inferenceErrors()).toEqual(['3 frame(s) failed inference']));

      // The push stops `gate` and moves to a config without it; the rollback moves back and restarts it.
      agent.cameras.delete('gate');
      agent.config = { ...config, cameras: config.cameras.filter((c) => c.id !== 'gate') };
      agent.config = config;
      agent.cameras.set('gate', { ...runtime });
      stats.inferenceErrors = 4;
      await vi.waitFor(async () => expect(await inferenceErrors()).toHaveLength(2));
      expect(await inferenceErrors()).toEqual(['1 frame(s) failed inference', '3 frame(s) failed inference']);
    } finally {
      await web.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
