import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startAgent, type AgentProcess } from './agent-process.js';
import { freePort } from './free-port.js';
import { sharedPath } from './shared.js';

export interface PageAgentOptions {
  cameras: object[];
  /** `http.auth`; none: open. */
  auth?: object;
  site?: string;
  device?: string;
  /** Where the config and data go (a fresh temp dir by default). */
  dir?: string;
  /** The `mqtt` section; none: no broker. */
  mqtt?: object;
}

/**
 * A real `vigil run` process with its status page on a free local port and the yolo11n-320 model from
 * ../shared (one worker), resolved once the page listens.
 */
export async function startPageAgent(opts: PageAgentOptions): Promise<{ agent: AgentProcess; base: string }> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'vigil-page-'));
  const port = await freePort();
  const cfg = path.join(dir, 'vigil.yaml');
  writeFileSync(
    cfg,
    stringify({
      site: opts.site ?? 'yard',
      device: opts.device ?? 'page-e2e',
      dataDir: path.join(dir, 'data'),
      http: { enabled: true, host: '127.0.0.1', port, ...(opts.auth ? { auth: opts.auth } : {}) },
      models: { det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), workers: 1 } },
      cameras: opts.cameras,
      ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
    }),
  );
  const agent = startAgent(['run', '--config', cfg]);
  await agent.waitForOutput(/status page listening/, 60_000);
  return { agent, base: `http://127.0.0.1:${port}` };
}
