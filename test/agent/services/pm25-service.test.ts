import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pm25CameraConfigInput } from '../../../config/pm25-schema.js';
import { VigilConfig } from '../../../config/schema.js';
import type { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
import { Pm25Service } from '../../../agent/services/pm25-service.js';
import { repoRoot } from '../../support/shared.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function until(ok: () => boolean, what: string): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
}

describe('Pm25Service under the supervisor', () => {
  it('a side stream that dies reports the failure: the service is restarted, with one reference subscription', async () => {
    const doc = parse(readFileSync(`${repoRoot}/config/examples/pm25-milan.yaml`, 'utf8')) as {
      cameras: { pm25: Pm25CameraConfigInput }[];
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-svc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { log, lines } = logLines();
    // Never started (no model is loaded): the service reads its config, topics, pm25 map and link.
    const agent = new Agent(
      VigilConfig.parse({
        site: 's',
        device: 'd',
        dataDir: dir,
        http: { enabled: false },
        models: { m: { path: '/nonexistent.onnx', providers: ['cpu'] } },
        // The side stream's file is not there: cameraFrames ends it with an error (nothing to retry).
        cameras: [{ id: 'cam1', source: path.join(dir, 'gone.mp4'), model: 'm', pm25: doc.cameras[0]!.pm25 }],
      }),
      { log, version: '0.0.0', services: [] },
    );
    // The link's subscription table, nothing more (the reference readings' topic).
    const handlers = new Set<unknown>();
    agent.link = {
      subscribe: (_filter: string, handler: unknown) => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      notify: () => {},
    } as unknown as MqttLink;

    const pm25 = new Pm25Service();
    const sup = new ServiceSupervisor([pm25], agent, log, 30);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    const failedLines = () => lines.filter((l) => l.msg === 'PM2.5 stage failed');
    await until(() => failedLines().length >= 3, 'two restarts');

    const restarts = lines.filter((l) => l.msg === 'service failed, restarting it');
    expect(restarts.length).toBeGreaterThanOrEqual(2);
    expect(restarts[0]).toMatchObject({
      service: 'pm25',
      reason: expect.stringMatching(/^PM2\.5 of cam1: source file not found: .*gone\.mp4$/),
    });
    // Each run subscribed once and its stop took the subscription away again.
    expect(handlers.size).toBeLessThanOrEqual(1);
    await sup.stopAll();
    expect(handlers.size).toBe(0);
    const stopped = lines.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(lines.slice(stopped).filter((l) => l.msg === 'PM2.5 stage failed')).toEqual([]);
  });
});
