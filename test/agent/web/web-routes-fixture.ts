import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../config/logger.js';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { WebService } from '../../../agent/web/web-service.js';
import type { Answer } from '../../support/http-call.js';
import { tinyDetector, ultralyticsNames } from '../../support/tiny-detector.js';

// What the web-routes-*.test.ts files share: the real route table (webRoutes, wired by WebService) on a real
// node:http server on port 0, in front of a real agent that is not started: cameras and detectors are put
// in its maps the way start() puts them.

export const token = 'tok-routes-0123456789abcdef';
export const bearer = { Authorization: `Bearer ${token}` };
export const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;

/** The agent of site `yard` (cameras `gate` and a disabled `off`, on a tiny model) behind a started WebService. */
export async function startRoutes(): Promise<{ agent: Agent; web: WebService; base: URL }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-routes-'));
  const model = path.join(dir, 'det.onnx');
  writeFileSync(
    model,
    tinyDetector({
      size: [32, 32],
      output: [1, 5, 8],
      values: new Float32Array(40),
      metadata: { names: ultralyticsNames(['person']) },
    }),
  );
  const config = VigilConfig.parse({
    site: 'yard',
    device: 'routes-test',
    dataDir: path.join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0, auth: { token } },
    models: { det: { path: model, workers: 1, providers: ['cpu'] } },
    cameras: [
      { id: 'gate', source: 'rtsp://127.0.0.1:9/stream', model: 'det' },
      { id: 'off', source: 'rtsp://127.0.0.1:9/other', model: 'det', enabled: false },
    ],
  });
  const web = new WebService(config.http, { log: createLogger({ level: 'error' }) });
  const agent = new Agent(config, {
    log: createLogger({ level: 'error' }),
    version: 'test',
    services: [web],
  });
  await web.start(agent, () => {});
  return { agent, web, base: new URL(`http://127.0.0.1:${web.address!.port}`) };
}
