import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig, OutboxConfig } from '../../../config/schema.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { HealthPayload } from '../../../agent/mqtt/report-payloads.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import { healthPayload } from '../../../agent/services/health-payload.js';
import { HealthSampler } from '../../../agent/web/health-sampler.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { freePort } from '../../support/free-port.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function outboxIn(cfg: Partial<OutboxConfig> = {}, now = Date.now): Outbox {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-health-'));
  // The clock steps in none of these tests: it is the monotonic one too (ages are elapsed time).
  const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse(cfg), { now, monotonic: now });
  cleanup.push(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return outbox;
}

function cameras(states: Record<string, string>): Agent['cameras'] {
  return new Map(
    Object.entries(states).map(([id, state]) => [id, { state: { camera: id, state, since: 0 } }]),
  ) as unknown as Agent['cameras'];
}

const enqueue = (outbox: Outbox, priority: 0 | 1 | 2 = 0) =>
  outbox.enqueue({ topic: 'vigil/s/d/cameras/c/detections', priority, build: () => ({ x: 'y'.repeat(40) }) });

const zeros = {
  'max-rows': 0,
  'max-bytes': 0,
  'max-age': 0,
  'disk-low': 0,
  'disk-full': 0,
  rejected: 0,
  expired: 0,
};

describe('health payload', () => {
  it('without a link or a system sample: zeros, the process’s own RSS, uptime to 0.1 s', () => {
    const startedAt = 1_764_496_400_000;
    const ts = startedAt + 3_600_549;
    const p = healthPayload(
      {
        outbox: outboxIn(),
        link: undefined,
        cameras: cameras({ 'dock-1': 'streaming', gate: 'stalled' }),
        startedAt,
        version: '1.2.3',
      },
      null,
      ts,
    );
    expect(HealthPayload.parse(p)).toEqual(p);
    expect(p).toMatchObject({
      ts,
      version: '1.2.3',
      uptimeS: 3600.5,
      outbox: {
        rows: 0,
        bytes: 0,
        oldestAgeMs: 0,
        dropsUnreported: zeros,
        dropsSinceStart: zeros,
        lastError: null,
      },
      link: {
        protocol: '5',
        connects: 0,
        published: 0,
        acked: 0,
        inflight: 0,
        backlogRows: 0,
        roundTripMs: null,
        lastError: null,
      },
      cameras: { 'dock-1': 'streaming', gate: 'stalled' },
    });
    expect(p.system).toEqual({
      cpuPercent: null,
      load1: 0,
      cores: 1,
      memory: null,
      temperatureC: null,
      disk: null,
      process: { rssBytes: expect.any(Number), cpuPercent: 0 },
    });
    expect(p.system.process.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(healthPayload({ outbox: outboxIn(), link: undefined, cameras: cameras({}), startedAt, version: 'v' }, null, startedAt + 49).uptimeS).toBe(0); // prettier-ignore
  });

  it('reports the outbox as it is: rows, bytes, the oldest message’s age, drops unreported and since start', () => {
    let now = 1_000_000;
    const outbox = outboxIn({ maxRows: 2 }, () => now);
    enqueue(outbox);
    now += 750;
    enqueue(outbox);
    enqueue(outbox, 1); // over maxRows: the oldest routine one goes
    now += 100;
    const agent = { outbox, link: undefined, cameras: cameras({}), startedAt: 0, version: 'v' };
    const p = healthPayload(agent, null, now);
    expect(p.outbox).toMatchObject({
      rows: 2,
      oldestAgeMs: 100,
      dropsUnreported: { ...zeros, 'max-rows': 1 },
      dropsSinceStart: { ...zeros, 'max-rows': 1 },
      lastError: null,
    });
    expect(p.outbox.bytes).toBe(outbox.depth().bytes);
    expect(p.outbox.bytes).toBeGreaterThan(80);
    // reported: gone from dropsUnreported, still in dropsSinceStart; the report itself (priority 2) evicted
    // one more routine row to fit, counted for the next report
    outbox.reportDrops({ topic: 'vigil/s/d/drops', priority: 2, build: (d) => d });
    const after = healthPayload(agent, null, now);
    expect(after.outbox.dropsUnreported).toEqual({ ...zeros, 'max-rows': 1 });
    expect(after.outbox.dropsSinceStart).toEqual({ ...zeros, 'max-rows': 2 });
    expect(HealthPayload.parse(after)).toEqual(after);
  });

  it('reports a full disk (SQLite’s own SQLITE_FULL) as the outbox’s last error', () => {
    const outbox = outboxIn({}, () => 5000);
    // the Outbox's own connection, capped a few pages above its size: a real full disk, for SQLite
    const db = (outbox as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 20}`);
    const pad = 'p'.repeat(2000);
    let full = false;
    for (let n = 0; n < 200 && !full; n++) {
      full =
        outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ n, pad }) }).dropped === 'disk-full';
    }
    expect(full).toBe(true);
    const p = healthPayload(
      { outbox, link: undefined, cameras: cameras({}), startedAt: 0, version: 'v' },
      null,
      6000,
    );
    expect(p.outbox.lastError).toEqual({ message: expect.stringMatching(/^disk full: /), at: 5000 });
    expect(p.outbox.dropsUnreported['disk-full']).toBe(1);
    expect(HealthPayload.parse(p)).toEqual(p);
  });

  it('passes a real system sample through, with at least one core', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-health-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const sampler = new HealthSampler({ dataDir, gpuEveryMs: 1e12 });
    await sampler.refresh();
    const sample = sampler.read()!;
    expect(sample).not.toBeNull();
    const agent = { outbox: outboxIn(), link: undefined, cameras: cameras({}), startedAt: 0, version: 'v' };
    const p = healthPayload(agent, sample, 1000);
    expect(p.system).toEqual({
      cpuPercent: sample.cpuPercent,
      load1: sample.load1,
      cores: sample.cores,
      memory: sample.memory,
      temperatureC: sample.temperatureC,
      disk: sample.disk,
      process: sample.process,
    });
    expect(p.system.disk?.totalBytes).toBeGreaterThan(0);
    expect(HealthPayload.parse(p)).toEqual(p);
    expect(healthPayload(agent, { ...sample, cores: 0 }, 1000).system.cores).toBe(1);
  });

  it('reports a real link: counters, round trip to 0.1 ms once acknowledged, and its last error', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const outbox = outboxIn();
    const link = new MqttLink({
      cfg: MqttConfig.parse({ url: broker.url }),
      statusTopic: 'vigil/s/d/status',
      outbox,
      log: silentLogger,
      version: 'v',
      reconnect: { minMs: 50, maxMs: 200 },
    });
    cleanup.push(() => link.stop());
    const agent = { outbox, link, cameras: cameras({ c: 'connecting' }), startedAt: 0, version: 'v' };
    expect(healthPayload(agent, null, 1).link.roundTripMs).toBeNull();
    link.start();
    await firstValueFrom(link.state$.pipe(filter((s) => s.state === 'connected')));
    for (let i = 0; i < 3; i++) enqueue(outbox);
    link.notify();
    await vi.waitFor(() => expect(link.counters().acked).toBeGreaterThanOrEqual(3), 30_000);
    const p = healthPayload(agent, null, 1);
    const c = link.counters();
    expect(p.link).toMatchObject({
      protocol: '5',
      connects: 1,
      published: c.published,
      acked: 3,
      inflight: 0,
      backlogRows: 0,
      lastError: null,
    });
    expect(p.link.roundTripMs).toEqual({
      last: Math.round(c.latencyMs.last * 10) / 10,
      avg: Math.round(c.latencyMs.avg * 10) / 10,
    });
    expect(HealthPayload.parse(p)).toEqual(p);

    // a hung broker: a row published and not acknowledged yet
    process.kill(broker.pid!, 'SIGSTOP');
    try {
      enqueue(outbox);
      link.notify();
      await vi.waitFor(() => expect(link.counters().inflight).toBeGreaterThanOrEqual(1), 30_000);
      const hung = healthPayload(agent, null, 2).link;
      expect(hung).toMatchObject({ published: c.published + 1, acked: 3, inflight: 1 });
    } finally {
      process.kill(broker.pid!, 'SIGCONT');
    }

    // a broker that is not there: the link's error is the payload's
    const dead = new MqttLink({
      cfg: MqttConfig.parse({ url: `mqtt://127.0.0.1:${await freePort()}` }),
      statusTopic: 'vigil/s/d/status',
      outbox: outboxIn(),
      log: silentLogger,
      version: 'v',
      reconnect: { minMs: 50, maxMs: 200 },
    });
    cleanup.push(() => dead.stop());
    dead.start();
    await firstValueFrom(dead.state$.pipe(filter((s) => s.lastError !== undefined)));
    const q = healthPayload({ ...agent, link: dead }, null, 1);
    expect(q.link.lastError).toEqual(dead.state.lastError);
    expect(q.link.lastError?.message).toMatch(/ECONNREFUSED/);
    expect(HealthPayload.parse(q)).toEqual(q);
  });
});
