import { mkdtempSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { HealthService } from '../../../agent/services/health-service.js';
import { HealthSampler } from '../../../agent/web/health-sampler.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  vi.restoreAllMocks();
});

describe('HealthService after start', () => {
  it('a system sample that fails is logged at each period, never an unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', record);
    cleanup.push(() => process.off('unhandledRejection', record));
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-health-svc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { log, lines } = logLines();
    // The first sample (at start) is taken; every later one fails.
    const refresh = HealthSampler.prototype.refresh;
    let calls = 0;
    vi.spyOn(HealthSampler.prototype, 'refresh').mockImplementation(function (this: HealthSampler) {
      return calls++ === 0 ? refresh.call(this) : Promise.reject(new Error('/proc unreadable'));
    });
    const agent = new Agent(
      VigilConfig.parse({
        site: 's',
        device: 'd',
        dataDir: dir,
        http: { enabled: false },
        // Nothing listens on port 9: the link keeps retrying, health goes to the outbox all the same.
        mqtt: { url: 'mqtt://127.0.0.1:9', healthIntervalS: 0.03 },
        models: { m: { path: '/nonexistent.onnx' } },
        cameras: [{ id: 'cam1', source: '/nonexistent.mp4', model: 'm', enabled: false }],
      }),
      { log, version: '0.0.0', services: [new HealthService()] },
    );
    await agent.start();
    cleanup.push(() => agent.stop(1000));
    const failed = () => lines.filter((l) => l.msg === 'health report failed');
    for (let i = 0; i < 200 && failed().length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(failed().slice(0, 3)).toEqual([
      expect.objectContaining({ level: 'error', reason: '/proc unreadable' }),
      expect.objectContaining({ level: 'error', reason: '/proc unreadable' }),
      expect.objectContaining({ level: 'error', reason: '/proc unreadable' }),
    ]);
    expect(rejections).toEqual([]);
  });
});
