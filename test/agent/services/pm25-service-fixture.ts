import path from 'node:path';
import { afterEach, expect, vi } from 'vitest';
import type { Logger } from '../../../config/logger.js';
import { MqttConfig, VigilConfig } from '../../../config/schema.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Agent } from '../../../agent/runtime/agent.js';

// What pm25-service.test.ts and pm25-service-live.test.ts share.

/** What the test made, closed or removed after it (last first). */
export const cleanup: (() => unknown)[] = [];

/** Registers the file's hook that runs `cleanup` after each test. */
export function useCleanup(): void {
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
}

export const until = (ok: () => boolean, what: string) =>
  vi.waitFor(() => expect(ok(), what).toBe(true), { timeout: 30_000, interval: 10 });

/**
 * An agent with this one camera, never started (no model is loaded): the service reads its config, topics,
 * pm25 map, outbox and link. Its outbox is in `dir`; its MqttLink to the broker is started (subscriptions
 * made before it connects are sent when it does). Both are closed after the test.
 */
export function serviceAgent(
  dir: string,
  brokerUrl: string,
  log: Logger,
  camera: Record<string, unknown> | Record<string, unknown>[],
): Agent {
  const config = VigilConfig.parse({
    site: 's',
    device: 'd',
    dataDir: dir,
    http: { enabled: false },
    mqtt: { url: brokerUrl },
    models: { m: { path: '/nonexistent.onnx', providers: ['cpu'] } },
    cameras: Array.isArray(camera) ? camera : [camera],
  });
  const agent = new Agent(config, { log, version: '0.0.0', services: [] });
  agent.outbox = Outbox.open(path.join(dir, 'outbox.db'), config.outbox);
  cleanup.push(() => agent.outbox.close());
  const link = new MqttLink({
    cfg: MqttConfig.parse({ url: brokerUrl }),
    statusTopic: agent.topics.status,
    outbox: agent.outbox,
    log,
    version: '0.0.0',
  });
  agent.link = link;
  link.start();
  cleanup.push(() => link.stop());
  return agent;
}
