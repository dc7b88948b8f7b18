import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CameraStatePayload } from '../../../agent/mqtt/payloads.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { VigilConfig } from '../../../config/schema.js';
import { logLines } from '../../support/log-lines.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { sharedPath } from '../../support/shared.js';

// The `stopped` reason on `<root>/cameras/<camera>/state` (docs/mqtt.md: the reason in words a person can
// act on): a real agent on vtest.avi with yolo11n-320 on the CPU, and a real mosquitto subscriber.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a camera’s stopped state says why', () => {
  it('a camera a fleet apply stops says so, not `agent stopping`; the agent’s own stop says `agent stopping`', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-camera-stop-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const camera = (id: string) => ({
      id,
      source: sharedPath('media', 'vtest.avi'),
      model: 'm',
      fps: 5,
      loop: true,
    });
    const config = VigilConfig.parse({
      site: 's',
      device: 'd',
      dataDir,
      http: { enabled: false },
      mqtt: { url: broker.url },
      models: {
        m: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'], workers: 1 },
      },
      cameras: [camera('a'), camera('b')],
    });
    const agent = new Agent(config, { log: logLines().log, version: '9.9.9', services: [] });
    cleanup.push(() => agent.stop(2000));
    const sub = await collect(broker.url, 'vigil/s/d/cameras/+/state');
    cleanup.push(() => sub.close());
    const states = (id: string) =>
      sub.messages
        .filter((m) => m.topic === `vigil/s/d/cameras/${id}/state`)
        .map((m) => CameraStatePayload.parse(JSON.parse(m.payload.toString())));

    await agent.start();
    await vi.waitFor(() => expect(states('a').map((s) => s.state)).toContain('streaming'), {
      timeout: 30_000,
    });
    // What apply-config does for a camera whose settings changed or that a document removed.
    await agent.stopCamera('a');
    await vi.waitFor(() => expect(states('a').at(-1)?.state).toBe('stopped'), { timeout: 15_000 });
    expect(states('a').at(-1)?.reason).toBe('stopped for a config change');

    await vi.waitFor(() => expect(states('b').map((s) => s.state)).toContain('streaming'), {
      timeout: 30_000,
    });
    await agent.stop(2000);
    await vi.waitFor(() => expect(states('b').at(-1)?.state).toBe('stopped'), { timeout: 15_000 });
    expect(states('b').at(-1)?.reason).toBe('agent stopping');
  });
});
