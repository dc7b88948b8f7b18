import { mkdtempSync, rmSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Observable } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VigilConfig } from '../../../config/schema.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
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

describe('HealthService started again', () => {
  /** A started agent with a link (to a port nothing listens on) and no services of its own. */
  async function startedAgent(dir: string, log: ReturnType<typeof logLines>['log']) {
    const agent = new Agent(
      VigilConfig.parse({
        site: 's',
        device: 'd',
        dataDir: dir,
        http: { enabled: false },
        mqtt: { url: 'mqtt://127.0.0.1:9', healthIntervalS: 0.03 },
        models: { m: { path: '/nonexistent.onnx' } },
        cameras: [{ id: 'cam1', source: '/nonexistent.mp4', model: 'm', enabled: false }],
      }),
      { log, version: '0.0.0', services: [] },
    );
    await agent.start();
    cleanup.push(() => agent.stop(1000));
    return agent;
  }

  it('after a start that failed half-way: the retry holds one link subscription and publishes health', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-health-svc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { log, lines } = logLines();
    // The first sample fails: that start has already subscribed to the link's state.
    const refresh = HealthSampler.prototype.refresh;
    let calls = 0;
    vi.spyOn(HealthSampler.prototype, 'refresh').mockImplementation(function (this: HealthSampler) {
      return calls++ === 0 ? Promise.reject(new Error('/proc unreadable')) : refresh.call(this);
    });
    const agent = await startedAgent(dir, log);
    // The real link's state, with its subscribers counted.
    let watching = 0;
    const state$ = agent.link!.state$;
    Object.defineProperty(agent.link!, 'state$', {
      value: new Observable((sub) => {
        watching++;
        const inner = state$.subscribe(sub);
        return () => {
          watching--;
          inner.unsubscribe();
        };
      }),
    });
    const enqueue = vi.spyOn(agent.outbox, 'enqueue');
    const healthRows = () => enqueue.mock.calls.filter(([m]) => m.topic === agent.topics.health).length;
    const sup = new ServiceSupervisor([new HealthService()], agent, log, 20);
    cleanup.push(() => sup.stopAll());
    await sup.startAll();
    for (let i = 0; i < 300 && healthRows() < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const retried = lines.filter((l) => l.msg === 'service failed to start, retrying');
    expect(retried.at(-1)).toMatchObject({ service: 'health', reason: '/proc unreadable' });
    expect(healthRows()).toBeGreaterThanOrEqual(3);
    expect(watching).toBe(1);
    await sup.stopAll();
    expect(watching).toBe(0);
  });

  it('after stop(): a new start publishes health and ticks again; the old run publishes nothing more', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-health-svc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { log } = logLines();
    const service = new HealthService();
    const agent = await startedAgent(dir, log);
    const enqueue = vi.spyOn(agent.outbox, 'enqueue');
    const healthRows = () => enqueue.mock.calls.filter(([m]) => m.topic === agent.topics.health).length;
    await service.start(agent);
    service.stop();
    enqueue.mockClear();
    await new Promise((r) => setTimeout(r, 100));
    expect(healthRows(), 'a stopped run').toBe(0);
    await service.start(agent);
    for (let i = 0; i < 300 && healthRows() < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(healthRows()).toBeGreaterThanOrEqual(3);
    service.stop();
  });
});
