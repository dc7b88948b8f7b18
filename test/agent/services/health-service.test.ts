import { Observable } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServiceSupervisor } from '../../../agent/runtime/service-supervisor.js';
import { HealthService } from '../../../agent/services/health-service.js';
import { HealthSampler } from '../../../agent/web/health-sampler.js';
import { startIdleAgent } from '../../support/idle-agent.js';
import { logLines } from '../../support/log-lines.js';

const cleanup: (() => unknown)[] = [];
const defer = (fn: () => unknown) => cleanup.push(fn);
const linkNowhere = { url: 'mqtt://127.0.0.1:9', healthIntervalS: 0.03 };
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
    const { log, lines } = logLines();
    // The first sample (at start) is taken; every later one fails.
    const refresh = HealthSampler.prototype.refresh;
    let calls = 0;
    vi.spyOn(HealthSampler.prototype, 'refresh').mockImplementation(function (this: HealthSampler) {
      return calls++ === 0 ? refresh.call(this) : Promise.reject(new Error('/proc unreadable'));
    });
    // Nothing listens on port 9: the link keeps retrying, health goes to the outbox all the same.
    await startIdleAgent({ log, services: [new HealthService()], defer, extra: { mqtt: linkNowhere } });
    const failed = () => lines.filter((l) => l.msg === 'health report failed');
    await vi.waitFor(() => expect(failed().length).toBeGreaterThanOrEqual(3), 30_000);
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
  const startedAgent = async (log: ReturnType<typeof logLines>['log']) =>
    (await startIdleAgent({ log, services: [], defer, extra: { mqtt: linkNowhere } })).agent;

  it('after a start that failed half-way: the retry holds one link subscription and publishes health', async () => {
    const { log, lines } = logLines();
    // The first sample fails: that start has already subscribed to the link's state.
    const refresh = HealthSampler.prototype.refresh;
    let calls = 0;
    vi.spyOn(HealthSampler.prototype, 'refresh').mockImplementation(function (this: HealthSampler) {
      return calls++ === 0 ? Promise.reject(new Error('/proc unreadable')) : refresh.call(this);
    });
    const agent = await startedAgent(log);
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
    await vi.waitFor(() => expect(healthRows()).toBeGreaterThanOrEqual(3), 30_000);
    const retried = lines.filter((l) => l.msg === 'service failed to start, retrying');
    expect(retried.at(-1)).toMatchObject({ service: 'health', reason: '/proc unreadable' });
    expect(healthRows()).toBeGreaterThanOrEqual(3);
    expect(watching).toBe(1);
    await sup.stopAll();
    expect(watching).toBe(0);
  });

  it('after stop(): a new start publishes health and ticks again; the old run publishes nothing more', async () => {
    const { log } = logLines();
    const service = new HealthService();
    const agent = await startedAgent(log);
    const enqueue = vi.spyOn(agent.outbox, 'enqueue');
    const healthRows = () => enqueue.mock.calls.filter(([m]) => m.topic === agent.topics.health).length;
    await service.start(agent);
    service.stop();
    enqueue.mockClear();
    await new Promise((r) => setTimeout(r, 100));
    expect(healthRows(), 'a stopped run').toBe(0);
    await service.start(agent);
    await vi.waitFor(() => expect(healthRows()).toBeGreaterThanOrEqual(3), 30_000);
    expect(healthRows()).toBeGreaterThanOrEqual(3);
    service.stop();
  });
});
