import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import type { VigilConfigInput } from '../../../config/schema.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import { requestOps } from '../../../agent/services/request-ops.js';
import { startIdleAgent } from '../../support/idle-agent.js';
import { startMosquitto } from '../../support/mosquitto.js';

// A real Agent (real outbox, real link where a broker is needed), no camera running, no services.
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startAgent(extra: Partial<VigilConfigInput> = {}): Promise<Agent> {
  const { agent } = await startIdleAgent({
    log: silentLogger,
    version: '9.8.7',
    services: [],
    defer: (fn) => cleanup.push(fn),
    extra: { site: 'yard', device: 'box-7', ...extra },
  });
  return agent;
}

const run = (agent: Agent, op: string, params: unknown = {}) =>
  requestOps[op]!.run(agent, requestOps[op]!.params.parse(params));

describe('requestOps', () => {
  it('registers exactly the ops docs/mqtt.md lists', () => {
    expect(Object.keys(requestOps).sort()).toEqual(['outbox-stats', 'ping', 'status']);
  });

  it('every op takes only a string (at most 256) or number transaction, strictly', () => {
    for (const [name, op] of Object.entries(requestOps)) {
      for (const ok of [{}, { transaction: 'a1' }, { transaction: 7 }, { transaction: 'x'.repeat(256) }]) {
        expect(op.params.safeParse(ok).success, `${name} ${JSON.stringify(ok)}`).toBe(true);
      }
      const bad = [
        { foo: 1 },
        { transaction: 'a1', camera: 'cam1' },
        { transaction: 'x'.repeat(257) },
        { transaction: { a: 1 } },
        { transaction: true },
        { transaction: null },
      ];
      for (const params of bad) {
        expect(op.params.safeParse(params).success, `${name} ${JSON.stringify(params)}`).toBe(false);
      }
    }
  });

  it('ping answers pong', async () => {
    const agent = await startAgent();
    expect(await run(agent, 'ping', { transaction: 't' })).toEqual({ pong: true });
  });

  it('status: version, site, device, whole-second uptime, no link without MQTT, each camera state', async () => {
    const agent = await startAgent();
    // Uptime is elapsed time on the monotonic clock, not the wall clock's (agent-uptime.test.ts).
    const elapsed = vi.spyOn(performance, 'now').mockReturnValue(performance.now() + 61_600);
    expect(run(agent, 'status')).toEqual({
      version: '9.8.7',
      site: 'yard',
      device: 'box-7',
      uptimeS: 62,
      link: null,
      cameras: [],
    });
    elapsed.mockRestore();

    const [cam] = agent.config.cameras;
    agent.cameras.set('cam1', {
      config: cam!,
      state: { camera: 'cam1', state: 'streaming', since: 1000 },
      stats: new CameraStats(),
    });
    agent.cameras.set('dock', {
      config: { ...cam!, id: 'dock' },
      state: { camera: 'dock', state: 'failed', since: 2000, reason: 'source not found' },
      stats: new CameraStats(),
    });
    const status = run(agent, 'status') as { cameras: object[] };
    expect(status.cameras).toEqual([
      { id: 'cam1', state: 'streaming', since: 1000 },
      { id: 'dock', state: 'failed', since: 2000, reason: 'source not found' },
    ]);
    expect(Object.keys(status.cameras[0]!)).not.toContain('reason');
  });

  it("status: the link's state, protocol and last error over a real broker", async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const agent = await startAgent({ mqtt: { url: broker.url, reconnectMaxS: 1 } });
    const link = agent.link!;
    await firstValueFrom(
      link.state$.pipe(
        filter((s) => s.state === 'connected'),
        timeout(15_000),
      ),
    );
    expect(run(agent, 'status')).toMatchObject({
      link: { state: 'connected', protocol: '5', lastError: null },
    });

    await broker.stop();
    const failed = await firstValueFrom(
      link.state$.pipe(
        filter((s) => s.state !== 'connected' && s.lastError !== undefined),
        timeout(15_000),
      ),
    );
    // Read back from the link itself: a reconnect attempt may have replaced the error since.
    expect(failed.lastError).toEqual({ message: expect.any(String), at: expect.any(Number) });
    expect(run(agent, 'status')).toMatchObject({
      link: { state: link.state.state, protocol: '5', lastError: link.state.lastError },
    });
    expect(link.state.state).not.toBe('connected');
  });

  it('outbox-stats: depth, drops unreported and since start, last error and synchronous level', async () => {
    const agent = await startAgent({ outbox: { maxRows: 3, synchronous: 'NORMAL' } });
    const zero = {
      'max-rows': 0,
      'max-bytes': 0,
      'max-age': 0,
      'disk-low': 0,
      'disk-full': 0,
      rejected: 0,
      expired: 0,
    };
    expect(run(agent, 'outbox-stats', { transaction: 1 })).toEqual({
      rows: 0,
      bytes: 0,
      oldestAgeMs: 0,
      dropsUnreported: zero,
      dropsSinceStart: zero,
      lastError: null,
      synchronous: 'NORMAL',
    });

    // No broker: every message stays, and the fifth evicts the two oldest beyond maxRows.
    for (let n = 0; n < 5; n++) agent.outbox.enqueue({ topic: 'vigil/t', priority: 0, build: () => ({ n }) });
    const stats = run(agent, 'outbox-stats') as Record<string, unknown>;
    expect(stats).toMatchObject({
      rows: 3,
      bytes: agent.outbox.depth().bytes,
      dropsUnreported: { ...zero, 'max-rows': 2 },
      dropsSinceStart: { ...zero, 'max-rows': 2 },
      lastError: null,
      synchronous: 'NORMAL',
    });
    expect(stats.bytes).toBeGreaterThan(0);

    agent.outbox.clearDrops();
    expect(run(agent, 'outbox-stats')).toMatchObject({
      dropsUnreported: zero,
      dropsSinceStart: { ...zero, 'max-rows': 2 },
    });
  });
});
