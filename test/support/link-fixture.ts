import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, beforeEach } from 'vitest';
import { silentLogger, type Logger } from '../../config/logger.js';
import type { z } from 'zod';
import { MqttConfig, OutboxConfig } from '../../config/schema.js';
import { MqttLink, type LinkState } from '../../agent/mqtt/mqtt-link.js';
import { topics } from '../../agent/mqtt/topics.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from './mosquitto.js';

export interface LinkFixture {
  /** This test's temp folder (the outbox file is in it). */
  readonly dir: string;
  /** This test's outbox, fresh for each test. */
  readonly outbox: Outbox;
  readonly t: ReturnType<typeof topics>;
  /** Runs `fn` after the test, before the outbox closes (last registered, first run). */
  defer(fn: () => Promise<unknown> | unknown): void;
  /** A real mosquitto, stopped after the test (resumed first, should a test have frozen it). */
  broker(opts?: Parameters<typeof startMosquitto>[0]): Promise<Mosquitto>;
  subscriber(...args: Parameters<typeof collect>): Promise<Collector>;
  /** A started MqttLink draining this test's outbox, stopped after the test. */
  link(url: string, cfg?: Partial<MqttConfig>, opts?: { reconnect?: ReconnectMs; log?: Logger }): MqttLink;
  until(l: MqttLink, pred: (s: LinkState) => boolean): Promise<LinkState>;
  /** Waits for the outbox to empty; fails with what is left after `timeoutMs`. */
  drained(timeoutMs?: number): Promise<void>;
}

interface ReconnectMs {
  minMs: number;
  maxMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the MqttLink tests share: per test a temp folder, an outbox in it and a cleanup list, plus real
 * brokers, subscribers and links that the cleanup stops. Call once at the top of a test file: it registers
 * the file's beforeEach/afterEach.
 */
export function useLinkFixture(prefix: string, outboxCfg: z.input<typeof OutboxConfig> = {}): LinkFixture {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  let dir = '';
  let outbox: Outbox | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), `vigil-${prefix}-`));
    outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse(outboxCfg));
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const fx: LinkFixture = {
    get dir() {
      return dir;
    },
    get outbox() {
      if (!outbox) throw new Error('the link fixture is used outside a test');
      return outbox;
    },
    t: topics('vigil', 's', 'd'),
    defer: (fn) => void cleanup.push(fn),
    async broker(opts = {}) {
      const b = await startMosquitto(opts);
      cleanup.push(async () => {
        if (b.pid) process.kill(b.pid, 'SIGCONT');
        await b.stop();
      });
      return b;
    },
    async subscriber(...args) {
      const c = await collect(...args);
      cleanup.push(() => c.close());
      return c;
    },
    link(url, cfg = {}, { reconnect = { minMs: 50, maxMs: 200 }, log = silentLogger } = {}) {
      const l = new MqttLink({
        cfg: MqttConfig.parse({ url, ...cfg }),
        statusTopic: fx.t.status,
        outbox: fx.outbox,
        log,
        version: '9.9.9',
        reconnect,
      });
      cleanup.push(() => l.stop());
      l.start();
      return l;
    },
    until: (l, pred) => firstValueFrom(l.state$.pipe(filter(pred))),
    async drained(timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (fx.outbox.depth().rows > 0) {
        if (Date.now() > end) throw new Error(`outbox not drained: ${fx.outbox.depth().rows} rows left`);
        await sleep(20);
      }
    },
  };
  return fx;
}
