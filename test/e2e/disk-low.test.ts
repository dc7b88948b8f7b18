import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DropsPayload, HealthPayload } from '../../agent/mqtt/report-payloads.js';
import { startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Received } from '../support/mosquitto.js';
import { hasShared } from '../support/shared.js';
import { detectionLog, range, sleep, storeForwardConfig } from '../support/store-forward.js';
import { cannotMount, fillLeaving, freeBytes, mountTmpfs, unmount } from '../support/tmpfs.js';

const mountRefused = cannotMount();
const KiB = 1024;

interface Stored {
  rows: { id: string; priority: number; stream: string | null; seq: number | null }[];
  lastSeq: Record<string, number>;
  /** Unreported drops by reason and priority, `disk-low:0`. */
  drops: Record<string, number>;
}

/** The agent's outbox as committed, read in one snapshot (a reader of the WAL, beside the agent). */
function readStored(file: string): Stored {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.transaction(() => {
      const rows = db
        .prepare('SELECT id, priority, stream, seq FROM outbox ORDER BY pk')
        .all() as Stored['rows'];
      const streams = db.prepare('SELECT stream, seq FROM streams').all() as {
        stream: string;
        seq: number;
      }[];
      const drops = db.prepare('SELECT reason, priority, count FROM drops').all() as {
        reason: string;
        priority: number;
        count: number;
      }[];
      return {
        rows,
        lastSeq: Object.fromEntries(streams.map((s) => [s.stream, s.seq])),
        drops: Object.fromEntries(drops.map((d) => [`${d.reason}:${d.priority}`, d.count])),
      };
    })();
  } finally {
    db.close();
  }
}

/** Detections seqs handed out that are neither in the outbox nor (when given) delivered. */
function missingSeqs(s: Stored, delivered: Record<string, number[]> = {}): number {
  let n = 0;
  for (const [stream, last] of Object.entries(s.lastSeq)) {
    if (!stream.startsWith('detections/')) continue;
    const have = new Set([
      ...s.rows.filter((r) => r.stream === stream).map((r) => r.seq),
      ...(delivered[stream.replace('detections/', '')] ?? []),
    ]);
    n += range(1, last).filter((seq) => !have.has(seq)).length;
  }
  return n;
}

const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
const of = (all: Received[], topic: string) => all.filter((m) => m.topic === `vigil/s/d/${topic}`);
const onDisk = (dbFile: string) =>
  ['', '-wal', '-shm'].reduce((n, s) => n + (statSync(dbFile + s, { throwIfNoEntry: false })?.size ?? 0), 0);

describe.skipIf(!hasShared || mountRefused)(
  `under the free-space margin: the data dir on a 4 MiB tmpfs${mountRefused ? ` (skipped: cannot mount a tmpfs here: ${mountRefused})` : ''}`,
  () => {
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('with the broker away: stores the newest in place of the oldest routine rows, keeps the alerts, counts disk-low, never fills the disk, then delivers it all', async () => {
      // Subscribed before the agent first connects, then frozen (SIGSTOP) so rows pile up in the outbox.
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const sub = await collect(broker.url, 'vigil/s/d/#');
      cleanup.push(() => sub.close());
      const frozen = broker.pid!;
      process.kill(frozen, 'SIGSTOP');
      cleanup.push(() => process.kill(frozen, 'SIGCONT'));

      const marginMiB = 1;
      const cfg = storeForwardConfig(broker.url, {
        cameras: 2,
        fps: 3,
        mqtt: { reconnectMaxS: 1 },
        outbox: { minFreeMiB: marginMiB },
      });
      // Alerts: c1's safety events when someone enters the right half of vtest.avi, where people walk.
      // Snapshots off: their JPEGs would be a third writer on the tiny disk.
      const doc = parse(readFileSync(cfg.file, 'utf8')) as { cameras: object[] };
      const right = [
        [384, 0],
        [768, 0],
        [768, 576],
        [384, 576],
      ];
      doc.cameras[0] = {
        ...doc.cameras[0],
        zones: [{ id: 'right', name: 'Right half', polygon: right }],
        rules: [{ type: 'enter', zone: 'right' }],
      };
      writeFileSync(cfg.file, stringify({ ...doc, safety: { snapshots: { enabled: false } } }));
      mkdirSync(cfg.dataDir, { recursive: true });
      const mounted = mountTmpfs(cfg.dataDir, '4m');
      expect(mounted.status, mounted.stderr).toBe(0);
      cleanup.push(() => {
        unmount(cfg.dataDir);
        rmSync(path.dirname(cfg.dataDir), { recursive: true, force: true });
      });

      const agent = startAgent(['run', '--config', cfg.file]);
      cleanup.push(() => agent.stop('SIGKILL'));
      await agent.waitForOutput(/camera=c1 state=streaming/, 40_000);
      await agent.waitForOutput(/camera=c2 state=streaming/, 10_000);
      // Results (30 a camera) and at least one alert pile up while the broker is away.
      for (let t0 = Date.now(); ; await sleep(250)) {
        const s = readStored(cfg.dbFile);
        const seqs = ['detections/c1', 'detections/c2'].map((k) => s.lastSeq[k] ?? 0);
        if (Math.min(...seqs) >= 30 && s.rows.some((r) => r.priority === 2)) break;
        expect(Date.now() - t0, 'no alert from c1, or too few results, within 40 s').toBeLessThan(40_000);
      }

      // Another file takes the disk down to half the margin.
      fillLeaving(path.join(cfg.dataDir, 'filler.bin'), (marginMiB * 1024 * KiB) / 2);
      const lowAt = Date.now();
      const freeAtFill = freeBytes(cfg.dataDir);
      await sleep(1500); // the free space is read once a second
      const atLow = readStored(cfg.dbFile);
      const sizeAtLow = onDisk(cfg.dbFile);

      // Under the margin for 12 s: results keep coming, the disk never fills.
      let minFree = freeAtFill;
      for (const t0 = Date.now(); Date.now() - t0 < 12_000; await sleep(200))
        minFree = Math.min(minFree, freeBytes(cfg.dataDir));
      const whileLow = readStored(cfg.dbFile);
      const sizeWhileLow = onDisk(cfg.dbFile);

      // The newest results are stored (seq went on, and the last one handed out is in the outbox)…
      for (const stream of ['detections/c1', 'detections/c2']) {
        expect(whileLow.lastSeq[stream]).toBeGreaterThan(atLow.lastSeq[stream]! + 10);
        expect(whileLow.rows.some((r) => r.stream === stream && r.seq === whileLow.lastSeq[stream])).toBe(
          true,
        );
      }
      // …in the place of the oldest routine ones, every one counted as disk-low (nothing was delivered, nothing
      // was in flight: the seqs missing are exactly the evictions)…
      const evicted = whileLow.drops['disk-low:0'] ?? 0;
      expect(evicted).toBeGreaterThan(0);
      expect(missingSeqs(whileLow)).toBe(evicted);
      const oldestAtLow = atLow.rows.find((r) => r.priority === 0)!;
      expect(whileLow.rows.map((r) => r.id)).not.toContain(oldestAtLow.id);
      // …the alerts all kept, nothing refused, and SQLite never found the disk full.
      const alertIds = (s: Stored) => s.rows.filter((r) => r.priority === 2).map((r) => r.id);
      expect(alertIds(whileLow)).toEqual(expect.arrayContaining(alertIds(atLow)));
      expect(Object.keys(whileLow.drops).filter((k) => !k.startsWith('disk-low:'))).toEqual([]);
      expect(agent.output()).not.toMatch(/type=disk-full|database or disk is full|outbox .* failed/);
      expect(minFree).toBeGreaterThan(0);
      expect(agent.output()).toMatch(
        /outbox event type=free-space low=true freeBytes=\d+ minFreeBytes=1048576/,
      );

      // The broker returns: what is in the outbox is delivered, the disk-low drops are reported.
      const beforeBroker = readStored(cfg.dbFile);
      process.kill(frozen, 'SIGCONT');
      const ids = (all: Received[]) => new Set(all.map((m) => (json(m) as { id?: string }).id));
      await sub.waitFor(
        (all) =>
          alertIds(beforeBroker).every((id) => ids(all).has(id)) &&
          of(all, 'drops').length > 0 &&
          of(all, 'health').some((m) => HealthPayload.parse(json(m)).outbox.rows < 20),
        30_000,
      );
      expect((await agent.stop('SIGTERM')).code).toBe(0);
      expect(agent.output()).not.toMatch(
        /type=disk-full|database or disk is full|outbox .* failed|unhandled error/,
      );

      const reported = of(sub.messages, 'drops').flatMap((m) => DropsPayload.parse(json(m)).counts);
      expect(reported.every((c) => c.reason === 'disk-low' && c.priority === 0)).toBe(true);
      const final = readStored(cfg.dbFile);
      const counted = reported.reduce((n, c) => n + c.count, 0) + (final.drops['disk-low:0'] ?? 0);
      const log = detectionLog(sub.messages);
      const lost = missingSeqs(final, log.seqs);
      // Once connected, a row evicted while in flight may still arrive (docs/mqtt.md): the count can exceed
      // the seqs missing by the in-flight window at most.
      expect(counted).toBeGreaterThanOrEqual(lost);
      expect(counted - lost).toBeLessThanOrEqual(32);
      // What waited in the outbox arrived, but for what the disk-low bound evicted until the link caught up.
      const got = ids(sub.messages);
      const undelivered = beforeBroker.rows.filter((r) => r.priority === 0 && !got.has(r.id)).length;
      const evictedAfter = counted - (beforeBroker.drops['disk-low:0'] ?? 0);
      expect(undelivered).toBeLessThanOrEqual(evictedAfter);
      const health = HealthPayload.parse(json(of(sub.messages, 'health').at(-1)!));
      expect(health.outbox.dropsSinceStart['disk-low']).toBe(counted);
      expect(health.outbox.dropsSinceStart['disk-full']).toBe(0);
      expect(health.outbox.lastError).toBeNull();

      console.info(
        `disk low: ${atLow.rows.length} rows (${(sizeAtLow / KiB).toFixed(0)} KiB outbox files) when the filler left ` +
          `${(freeAtFill / KiB).toFixed(0)} KiB of a ${marginMiB} MiB margin; 12 s under it: seq ` +
          `${JSON.stringify(atLow.lastSeq)} -> ${JSON.stringify(whileLow.lastSeq)}, ${evicted} evicted (disk-low), ` +
          `${whileLow.rows.length} rows, ${alertIds(whileLow).length} alerts kept, outbox files ` +
          `${(sizeWhileLow / KiB).toFixed(0)} KiB, least free ${(minFree / KiB).toFixed(0)} KiB; broker back ` +
          `${((Date.now() - lowAt) / 1000).toFixed(1)} s after the fill: ${beforeBroker.rows.length} waiting, ` +
          `${undelivered} of them evicted before they went (${evictedAfter} evicted after), ${counted} disk-low ` +
          `counted for ${lost} seqs lost, ${log.duplicates} duplicates`,
      );
    }, 120_000);
  },
);
