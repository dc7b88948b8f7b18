import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DropsPayload, HealthPayload } from '../../agent/mqtt/report-payloads.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { collect, startMosquitto, type Received } from '../support/mosquitto.js';
import { hasShared } from '../support/shared.js';
import { detectionLog, range, readCommitted, sleep, storeForwardConfig } from '../support/store-forward.js';
import { cannotMount, fill, mountTmpfs, unmount } from '../support/tmpfs.js';

const mountRefused = cannotMount();

const json = (m: Received) => JSON.parse(m.payload.toString()) as unknown;
const of = (all: Received[], topic: string) => all.filter((m) => m.topic === `vigil/s/d/${topic}`);
const diskFull = (camera: string) =>
  new RegExp(`outbox event type=disk-full topic=vigil/s/d/cameras/${camera}/detections`);
/** Refusals in the log: each line, plus the similar ones it says were left out (the log is throttled). */
const dropped = (output: string) =>
  [...output.matchAll(/type=disk-full .* dropped=true(?: similarLeftOut=(\d+))?/g)].reduce(
    (n, m) => n + 1 + Number(m[1] ?? 0),
    0,
  );
const sum = (counts: { count: number }[]) => counts.reduce((n, c) => n + c.count, 0);
const streaming = async (agent: AgentProcess) => {
  await agent.waitForOutput(/camera=c1 state=streaming/, 40_000);
  await agent.waitForOutput(/camera=c2 state=streaming/, 10_000);
};

describe.skipIf(!hasShared || mountRefused)(
  `a real full disk: the data dir on a 4 MiB tmpfs${mountRefused ? ` (skipped: cannot mount a tmpfs here: ${mountRefused})` : ''}`,
  () => {
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('fills up with the broker away: runs on, counts and reports disk-full, loses nothing accepted, recovers', async () => {
      // Subscribed before the agent first connects, then frozen (SIGSTOP) so rows pile up in the outbox.
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const sub = await collect(broker.url, 'vigil/s/d/#');
      cleanup.push(() => sub.close());
      const frozen = broker.pid!;
      process.kill(frozen, 'SIGSTOP');
      cleanup.push(() => process.kill(frozen, 'SIGCONT'));

      // The free-space margin off: this is what happens when the disk fills anyway (test/e2e/disk-low.test.ts
      // has the margin at work).
      const cfg = storeForwardConfig(broker.url, {
        cameras: 2,
        fps: 3,
        mqtt: { reconnectMaxS: 1 },
        outbox: { minFreeMiB: 0 },
      });
      // Drift with 1-s windows: a second SQLite writer (drift.db) on the same disk.
      const drift = { windowMinutes: 1 / 60, minFrames: 1, minSamples: 1 };
      writeFileSync(cfg.file, stringify({ ...(parse(readFileSync(cfg.file, 'utf8')) as object), drift }));
      mkdirSync(cfg.dataDir, { recursive: true });
      const mounted = mountTmpfs(cfg.dataDir, '4m');
      expect(mounted.status, mounted.stderr).toBe(0);
      cleanup.push(() => {
        unmount(cfg.dataDir);
        rmSync(path.dirname(cfg.dataDir), { recursive: true, force: true });
      });
      const filler = path.join(cfg.dataDir, 'filler.bin');

      let agent = startAgent(['run', '--config', cfg.file]);
      cleanup.push(() => agent.stop('SIGKILL'));
      await streaming(agent);
      for (let t0 = Date.now(); Object.keys(readCommitted(cfg.dbFile).lastSeq).length < 2;) {
        expect(Date.now() - t0).toBeLessThan(20_000);
        await sleep(250);
      }
      await sleep(2000);

      fill(filler);
      expect(statfsSync(cfg.dataDir).bavail).toBe(0);
      const fullAt = Date.now();
      await agent.waitForOutput(diskFull('c1'), 10_000);
      await agent.waitForOutput(diskFull('c2'), 10_000);
      // What the agent accepted before the disk filled (read once both cameras are refused, so nothing is
      // committed meanwhile): every one of these must reach the broker.
      const accepted = readCommitted(cfg.dbFile);
      await sleep(2000);
      // Nothing new could be stored, nothing accepted went (no gap in seq: a refused message takes none).
      const whileFull = readCommitted(cfg.dbFile);
      expect(whileFull.rows.map((r) => r.id)).toEqual(accepted.rows.map((r) => r.id));
      expect(whileFull.lastSeq).toEqual(accepted.lastSeq);
      await agent.waitForOutput(/ERROR drift accounting failed .*reason="database or disk is full"/, 30_000);

      // A stop on the full disk is clean; the counts it could never write are named in the log as lost.
      expect((await agent.stop('SIGTERM')).code).toBe(0);
      const firstRun = agent.output();
      const firstDrops = dropped(firstRun);
      const lost = /type=drop-counts-lost counts=(\[.*\])/.exec(firstRun)?.[1];
      expect(lost, firstRun.slice(-2000)).toBeDefined();
      // The log is throttled: the refusals after its last line are in the counts only.
      expect(sum(JSON.parse(lost!) as { count: number }[])).toBeGreaterThanOrEqual(firstDrops);
      expect(firstDrops).toBeGreaterThan(0);

      // It starts again on a disk with not a byte free (the close gave some back: taken again): no crash loop.
      fill(`${filler}2`);
      agent = startAgent(['run', '--config', cfg.file]);
      await streaming(agent);
      await agent.waitForOutput(diskFull('c2'), 10_000);

      // The broker returns, the disk still full: the backlog goes out; its acks can't be written, so the rows
      // stay until there is room (before the fix, a delete whose commit failed was taken for done: the rows
      // stayed, their streams blocked the live ones, and nothing new went out until a reconnect).
      process.kill(frozen, 'SIGCONT');
      const acceptedIds = accepted.rows.filter((r) => r.stream).map((r) => r.id);
      await sub.waitFor(() => acceptedIds.every((id) => detectionLog(sub.messages).ids.has(id)), 15_000);
      const kept = new Set(readCommitted(cfg.dbFile).rows.map((r) => r.id));
      expect(acceptedIds.filter((id) => !kept.has(id))).toEqual([]);
      expect(agent.child.exitCode).toBeNull();

      // Room again: the deferred acks go, results are stored and published again, the drops are reported.
      rmSync(filler);
      rmSync(`${filler}2`);
      const freedAt = Date.now();
      const seen = sub.messages.length;
      const newer = (camera: string) =>
        (detectionLog(sub.messages).seqs[camera] ?? []).filter(
          (s) => s > accepted.lastSeq[`detections/${camera}`]!,
        );
      await sub.waitFor(
        (all) =>
          of(all, 'drops').length > 0 &&
          newer('c1').length >= 3 &&
          newer('c2').length >= 3 &&
          of(all.slice(seen), 'cameras/c1/drift').length > 0 &&
          of(all, 'health').some((m) => HealthPayload.parse(json(m)).outbox.rows < 10),
        20_000,
      );
      const recoveredMs = Date.now() - freedAt;
      await sleep(1500);
      expect((await agent.stop('SIGTERM')).code).toBe(0);
      const out = agent.output();
      expect(out).not.toMatch(
        /camera pipeline crashed|unhandled error|outbox (ack|read) failed|drop-counts-lost/,
      );

      // Counted and reported with the right reason: detections (0) and readings (1), no alert (2) in this
      // scenario; the report itself, retried at each period, is never counted as a dropped message.
      const counts = of(sub.messages, 'drops').flatMap((m) => DropsPayload.parse(json(m)).counts);
      const count = (p: number) => sum(counts.filter((c) => c.priority === p));
      expect(counts.every((c) => c.reason === 'disk-full')).toBe(true);
      const secondDrops = dropped(out);
      expect(count(0) + count(1)).toBeGreaterThanOrEqual(secondDrops);
      expect(count(0)).toBeGreaterThan(0);
      expect(count(2)).toBe(0);
      // Health names the failure precisely, and both cameras kept streaming through it.
      const last = HealthPayload.parse(json(of(sub.messages, 'health').at(-1)!));
      expect(last.outbox.lastError?.message).toBe('disk full: database or disk is full');
      expect(last.outbox.dropsSinceStart['disk-full']).toBe(count(0) + count(1));
      expect(last.cameras).toEqual({ c1: 'streaming', c2: 'streaming' });

      // Nothing accepted is lost: every seq ever handed out arrived or still waits in the outbox.
      const final = readCommitted(cfg.dbFile);
      const left = new Set(final.rows.map((r) => `${r.stream}:${r.seq}`));
      const log = detectionLog(sub.messages);
      const missing = Object.entries(final.lastSeq).flatMap(([stream, lastSeq]) => {
        const got = new Set(log.seqs[stream.replace('detections/', '')]);
        return range(1, lastSeq).filter((s) => !got.has(s) && !left.has(`${stream}:${s}`));
      });
      expect(missing).toEqual([]);
      console.info(
        `full disk: ${accepted.rows.length} rows accepted (seq ${JSON.stringify(accepted.lastSeq)}), ` +
          `full ${((freedAt - fullAt) / 1000).toFixed(1)} s; run 1 dropped ${firstDrops} (counts lost at its stop), ` +
          `run 2 dropped ${secondDrops} (reported p0 ${count(0)}, p1 ${count(1)}); published again ${recoveredMs} ms ` +
          `after space returned; final seq ${JSON.stringify(final.lastSeq)}, ${final.rows.length} left, ` +
          `${log.duplicates} duplicates`,
      );
    }, 90_000);
  },
);
