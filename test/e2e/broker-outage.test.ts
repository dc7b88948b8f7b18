import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HealthPayload } from '../../agent/mqtt/report-payloads.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../support/mosquitto.js';
import { hasShared } from '../support/shared.js';
import { detectionLog, range, readCommitted, sleep, storeForwardConfig } from '../support/store-forward.js';

/** The issue asks for 60 s; VIGIL_OUTAGE_S shortens it for a quick local run. */
const outageS = Number(process.env.VIGIL_OUTAGE_S ?? 60);
const window = 16;

describe.skipIf(!hasShared)(
  'broker outage with a real agent, a real mosquitto and a persistent subscriber',
  () => {
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it(
      `mosquitto stopped ${outageS} s at >= 5 msg/s: every committed id arrives, in order per camera`,
      async () => {
        const brokerDir = mkdtempSync(path.join(tmpdir(), 'vigil-outage-broker-'));
        cleanup.push(() => rmSync(brokerDir, { recursive: true, force: true }));
        // Persistence: the subscriber's session and its queue survive the broker's restart; no queue limit.
        const broker: Mosquitto = await startMosquitto({
          persistence: true,
          dir: brokerDir,
          config: ['max_queued_messages 0', 'autosave_interval 1'],
        });
        cleanup.push(() => broker.stop());
        const sub: Collector = await collect(broker.url, 'vigil/s/d/cameras/+/detections', {
          clientId: 'outage-subscriber',
          clean: false,
        });
        cleanup.push(() => sub.close());
        const health = await collect(broker.url, 'vigil/s/d/health');
        cleanup.push(() => health.close());

        // Two cameras at 3 fps each: >= 5 msg/s in all, two sequences to keep in order.
        const cfg = storeForwardConfig(broker.url, {
          cameras: 2,
          fps: 3,
          mqtt: { inflightWindow: window, reconnectMaxS: 2 },
        });
        const agent: AgentProcess = startAgent(['run', '--config', cfg.file]);
        cleanup.push(() => agent.stop('SIGKILL'));
        await sub.waitFor((m) => m.length >= 1, 40_000);
        const t0 = Date.now(); // about when seq 1 was committed: the rate below counts from here
        await sub.waitFor((m) => m.length >= 10, 20_000);

        await broker.stop();
        await sleep(outageS * 1000);
        await broker.start();

        // Caught up: a health from a second connection with no backlog left.
        await health.waitFor(
          (ms) =>
            ms.some((m) => {
              const h = HealthPayload.parse(JSON.parse(m.payload.toString()));
              return h.link.connects >= 2 && h.link.backlogRows === 0 && h.outbox.rows < 10;
            }),
          60_000,
        );
        const stopped = await agent.stop('SIGTERM');
        expect(stopped.code).toBe(0);
        const elapsedS = (Date.now() - t0) / 1000;
        const committed = readCommitted(cfg.dbFile);
        const waiting = new Set(committed.rows.map((r) => r.id));

        let log = detectionLog(sub.messages);
        const missing = () =>
          Object.entries(committed.lastSeq).flatMap(([stream, last]) => {
            const camera = stream.replace('detections/', '');
            const got = new Set(log.seqs[camera] ?? []);
            const left = new Set(committed.rows.filter((r) => r.stream === stream).map((r) => r.seq));
            return range(1, last).filter((s) => !got.has(s) && !left.has(s));
          });
        await sub.waitFor(() => {
          log = detectionLog(sub.messages);
          return missing().length === 0;
        }, 30_000);

        const total = Object.values(committed.lastSeq).reduce((a, b) => a + b, 0);
        console.info(
          `outage ${outageS} s: committed ${total} in ${elapsedS.toFixed(1)} s, ${log.duplicates} duplicates, ${waiting.size} left in the outbox`,
        );
        expect(Object.keys(committed.lastSeq).sort()).toEqual(['detections/c1', 'detections/c2']);
        expect(total / elapsedS, `committed ${total} in ${elapsedS.toFixed(0)} s`).toBeGreaterThanOrEqual(5);
        expect(missing()).toEqual([]);
        for (const seqs of Object.values(log.seqs)) {
          // Per camera, first arrivals in strictly rising seq order.
          expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
        }
        // Rows still in the outbox after the stop are committed and wait for the next start; none was lost.
        expect(waiting.size).toBeLessThan(window);
        // One reconnect: at most one window re-sent.
        expect(log.duplicates).toBeLessThanOrEqual(window);
      },
      120_000 + outageS * 1000,
    );
  },
);
