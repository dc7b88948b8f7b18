import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentEventPayload, DropsPayload } from '../../agent/mqtt/report-payloads.js';
import { startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Received } from '../support/mosquitto.js';
import { hasShared } from '../support/shared.js';
import { detectionLog, range, readCommitted, sleep, storeForwardConfig } from '../support/store-forward.js';

const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
/** Seconds the bound works with the broker away, RSS sampled each second (a minute under VIGIL_LONG). */
const deadS = process.env.VIGIL_LONG ? 60 : 9;
const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe.skipIf(!hasShared)('outbox bounds and recovery with a real agent process', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it(
    'tiny outbox, broker unreachable: oldest routine dropped first, counted, counts arrive when it returns',
    async () => {
      // The subscriber must be listening before the agent can first connect, or the first report passes it
      // by: the broker runs, the subscriber subscribes, then the broker is frozen (SIGSTOP) so the agent never
      // gets a CONNACK, and thawed once the bound has done its work.
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const sub = await collect(broker.url, 'vigil/s/d/#');
      cleanup.push(() => sub.close());
      const frozen = broker.pid!;
      process.kill(frozen, 'SIGSTOP');
      cleanup.push(() => process.kill(frozen, 'SIGCONT'));
      const maxRows = 20;
      const cfg = storeForwardConfig(broker.url, {
        fps: 6,
        outbox: { maxRows },
        mqtt: { reconnectMaxS: 1 },
      });
      const agent = startAgent(['run', '--config', cfg.file]);
      cleanup.push(() => agent.stop('SIGKILL'));
      await agent.waitForOutput(/state=streaming/, 40_000);
      // RSS once a second while the bound does its work: the backlog lives on disk, so no upward trend
      // beyond garbage-collector swings (a 60 s run swung between 233 and 313 MiB with no trend).
      const rss: number[] = [];
      for (let i = 0; i < deadS; i++) {
        await sleep(1000);
        rss.push(rssKiB(agent.child.pid!));
      }
      const whileDead = readCommitted(cfg.dbFile);
      expect(whileDead.rows.length).toBeLessThanOrEqual(maxRows);
      expect(whileDead.lastSeq['detections/c1']).toBeGreaterThan(2 * maxRows);
      expect(sub.messages).toEqual([]);

      process.kill(frozen, 'SIGCONT');
      await sub.waitFor((m) => m.some((x) => x.topic === 'vigil/s/d/drops'), 30_000);
      await sleep(1500);
      expect((await agent.stop('SIGTERM')).code).toBe(0);
      const final = readCommitted(cfg.dbFile);
      const lastSeq = final.lastSeq['detections/c1']!;
      const left = new Set(final.rows.map((r) => r.seq));
      await sub.waitFor(() => {
        const got = new Set(detectionLog(sub.messages).seqs['c1']);
        return range(lastSeq - 5, lastSeq).every((s) => got.has(s) || left.has(s));
      }, 10_000);

      const seqs = detectionLog(sub.messages).seqs['c1']!;
      const first = Math.min(...seqs);
      // Oldest first: what was dropped is a prefix; from the first kept seq on, nothing is missing.
      expect(first).toBeGreaterThan(1);
      const got = new Set(seqs);
      expect(range(first, lastSeq).filter((s) => !got.has(s) && !left.has(s))).toEqual([]);
      // Every seq that never came is counted. A row evicted while in flight may still arrive (the broker
      // had it): it is counted too, so the count may exceed the gap by at most the in-flight window (32).
      const reports = sub.messages
        .filter((m) => m.topic === 'vigil/s/d/drops')
        .map((m) => DropsPayload.parse(json(m)));
      const routine = reports
        .flatMap((r) => r.counts)
        .filter((c) => c.reason === 'max-rows' && c.priority === 0)
        .reduce((n, c) => n + c.count, 0);
      expect(routine).toBeGreaterThanOrEqual(first - 1);
      expect(routine).toBeLessThanOrEqual(first - 1 + 32);
      // Readings outlive routine messages: the camera's retained state, committed first, still arrived.
      expect(sub.messages.some((m) => m.topic === 'vigil/s/d/cameras/c1/state')).toBe(true);
      // Memory stays flat while the bound holds the backlog (the rows live on disk, not in the process).
      expect(rss.at(-1)! - Math.min(...rss), `RSS samples ${rss.join(', ')} KiB`).toBeLessThan(96 * 1024);
      console.info(
        `bounds: ${lastSeq} committed, ${first - 1} dropped (reported ${routine}), RSS ${rss.join(' ')} KiB`,
      );
    },
    120_000 + deadS * 1000,
  );

  it('corrupt database file at start-up: moved aside, agent runs, event published', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const cfg = storeForwardConfig(broker.url, { fps: 6 });
    mkdirSync(cfg.dataDir, { recursive: true });
    // A valid header with garbage pages: quick_check (or the first read) finds it.
    const junk = Buffer.alloc(8192, 0xa5);
    Buffer.from('SQLite format 3\0').copy(junk);
    writeFileSync(cfg.dbFile, junk);
    const sub = await collect(broker.url, 'vigil/s/d/#');
    cleanup.push(() => sub.close());
    const agent = startAgent(['run', '--config', cfg.file]);
    cleanup.push(() => agent.stop('SIGKILL'));
    await sub.waitFor(
      (m) => m.some((x) => x.topic === 'vigil/s/d/events') && m.some((x) => x.topic.endsWith('/detections')),
      40_000,
    );
    const event = AgentEventPayload.parse(json(sub.messages.find((m) => m.topic === 'vigil/s/d/events')!));
    expect(event.type).toBe('outbox-moved-aside');
    expect(existsSync(event.movedTo)).toBe(true);
    expect(readFileSync(event.movedTo).equals(junk)).toBe(true); // kept as it was, for forensics
    expect(readdirSync(cfg.dataDir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
    expect((await agent.stop('SIGTERM')).code).toBe(0);
    expect(readCommitted(cfg.dbFile).lastSeq['detections/c1']).toBeGreaterThan(0);
  }, 90_000);
});
