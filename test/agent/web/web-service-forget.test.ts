import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import { familyInput } from '../../../models/detect/families.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { call } from '../../support/http-call.js';
import { hasShared } from '../../support/shared.js';
import { zidaneEvent } from '../../support/zidane-event.js';

const spec = { width: 320, height: 320, ...familyInput.yolov8 };

// A real WebService on a free port beside an agent that is not started: its camera's frames are fed by hand.
describe.skipIf(!hasShared)('status page: a camera a push removes is forgotten', () => {
  // Each camera id a fleet ever pushed kept its label counts and last snapshot (JPEG and base64) for good.
  it('its label counts and snapshots go; the cameras that stay keep theirs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-forget-'));
    const config = VigilConfig.parse({
      site: 's',
      device: 'd',
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: ['yard', 'gate'].map((id) => ({ id, source: path.join(dir, `${id}.mp4`), model: 'det' })),
    });
    const agent = new Agent(config, { log: silentLogger, version: 'test', services: [] });
    const web = new WebService(config.http, { log: silentLogger });
    try {
      await web.start(agent, () => {});
      const base = new URL(`http://127.0.0.1:${web.address!.port}`);
      for (const [i, camera] of config.cameras.entries()) {
        const last = await zidaneEvent({ spec, camera: camera.id, frameNo: 1 });
        const state = { camera: camera.id, state: 'streaming' as const, since: Date.now() };
        agent.cameras.set(camera.id, { config: config.cameras[i]!, state, stats: new CameraStats(), last });
        agent.detections$.next(last);
        expect((await call(base, `/api/cameras/${camera.id}/snapshot.jpg`)).status).toBe(200);
      }
      expect(web.rememberedCameras()).toEqual(['gate', 'yard']);

      agent.cameras.delete('gate');
      agent.config = { ...config, cameras: config.cameras.filter((c) => c.id !== 'gate') };
      expect(web.rememberedCameras()).toEqual(['yard']);
    } finally {
      await web.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
