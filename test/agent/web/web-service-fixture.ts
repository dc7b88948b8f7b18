import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import type { Answer } from '../../support/http-call.js';
import { sharedPath } from '../../support/shared.js';

// What web-service.test.ts and web-service-security.test.ts share: a real agent on vtest.avi with its
// WebService, auth on.

// Secrets placed in the config: none may ever appear in a page, an asset or an API answer.
export const token = 'tok-5ecret-0123456789abcdef';
const camPassword = 'camPa55word-zz';
const mqttPassword = 'mqttPa55word-yy';
export const secrets = [token, camPassword, mqttPassword];

export const auth = { Authorization: `Bearer ${token}` };
export const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;

// The file's agent and its web service (started by useWebServiceAgent).
export let agent: Agent;
let web: WebService;
export let base: URL;

/** Registers the describe's hooks: the agent started (a frame processed) before its tests, stopped after. */
export function useWebServiceAgent(): void {
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    const config = VigilConfig.parse({
      site: 'yard',
      device: 'web-test',
      dataDir: path.join(dir, 'data'),
      // Nothing listens on port 9: the link keeps retrying, which is fine here.
      mqtt: { url: 'mqtt://127.0.0.1:9', username: 'vigil', password: mqttPassword },
      http: { host: '127.0.0.1', port: 0, auth: { token } },
      models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), workers: 1 } },
      cameras: [
        { id: 'yard', source: sharedPath('media', 'vtest.avi'), model: 'det', fps: 5, loop: true },
        { id: 'gate', source: `rtsp://admin:${camPassword}@127.0.0.1:9/stream`, model: 'det' },
        // Fails at once, before the web service starts: its error must still be listed.
        { id: 'dock', source: path.join(dir, 'no-such-clip.mp4'), model: 'det' },
      ],
    });
    web = new WebService(config.http, {
      log: createLogger({ level: 'error' }),
      detectLimits: { maxBytes: 256 * 1024, maxPixels: 4_000_000 },
    });
    agent = new Agent(config, { log: createLogger({ level: 'error' }), version: 'test', services: [web] });
    await agent.start();
    base = new URL(`http://127.0.0.1:${web.address!.port}`);
    // Wait for processed frames so snapshots and counters exist.
    await vi.waitFor(() => expect(agent.cameras.get('yard')?.last).toBeDefined(), 50_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
  });
}
