import { afterAll, describe, expect, it } from 'vitest';
import { startAgent } from '../support/agent-process.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../support/mosquitto.js';
import { hasShared } from '../support/shared.js';
import { detectionLog, range, readCommitted, sleep, storeForwardConfig } from '../support/store-forward.js';

const kills = Number(process.env.VIGIL_KILLS ?? 10);

describe.skipIf(!hasShared)('power loss: kill -9 at random moments while producing', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it(`after ${kills} kill -9s, every id that had been committed is delivered`, async () => {
    const broker: Mosquitto = await startMosquitto();
    cleanup.push(() => broker.stop());
    const sub: Collector = await collect(broker.url, 'vigil/s/d/cameras/+/detections');
    cleanup.push(() => sub.close());
    const cfg = storeForwardConfig(broker.url, { fps: 6 });

    // Ids that were committed but not yet acknowledged at a kill: the ones a crash could lose.
    const atRisk = new Set<string>();
    let lastSeq = 0;
    for (let i = 0; i < kills; i++) {
      const agent = startAgent(['run', '--config', cfg.file]);
      cleanup.push(() => agent.stop('SIGKILL'));
      await agent.waitForOutput(/state=streaming/, 40_000);
      await sleep(300 + Math.random() * 2000);
      // Every other kill comes while the broker hangs (SIGSTOP): rows pile up committed but unacknowledged.
      const hang = i % 2 === 1 ? broker.pid : undefined;
      if (hang) process.kill(hang, 'SIGSTOP');
      if (hang) await sleep(300 + Math.random() * 1000);
      await agent.stop('SIGKILL');
      if (hang) process.kill(hang, 'SIGCONT');
      const committed = readCommitted(cfg.dbFile);
      for (const r of committed.rows) if (r.stream) atRisk.add(r.id);
      expect(committed.lastSeq['detections/c1'] ?? 0).toBeGreaterThanOrEqual(lastSeq);
      lastSeq = committed.lastSeq['detections/c1'] ?? 0;
    }
    expect(lastSeq).toBeGreaterThan(kills); // it did produce between the kills
    expect(atRisk.size).toBeGreaterThan(0); // the hung broker left rows for the crash to lose

    // A last run delivers what the kills left behind, then stops cleanly.
    const agent = startAgent(['run', '--config', cfg.file]);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.waitForOutput(/state=streaming/, 40_000);
    await sub.waitFor(() => [...atRisk].every((id) => detectionLog(sub.messages).ids.has(id)), 30_000);
    expect((await agent.stop('SIGTERM')).code).toBe(0);
    const final = readCommitted(cfg.dbFile);
    const left = new Set(final.rows.map((r) => r.seq));
    const finalSeq = final.lastSeq['detections/c1']!;
    let log = detectionLog(sub.messages);
    await sub.waitFor(() => {
      log = detectionLog(sub.messages);
      const got = new Set(log.seqs['c1']);
      return range(1, finalSeq).every((s) => got.has(s) || left.has(s));
    }, 15_000);

    const got = new Set(log.seqs['c1']);
    // delivered ⊇ committed: every seq ever handed out arrived (or still waits in the outbox), no gap.
    expect(range(1, finalSeq).filter((s) => !got.has(s) && !left.has(s))).toEqual([]);
    expect([...atRisk].filter((id) => !log.ids.has(id))).toEqual([]);
    console.info(
      `power loss: ${kills} kills, ${finalSeq} committed, ${atRisk.size} unacknowledged at a kill, ${log.duplicates} duplicates`,
    );
  }, 240_000);
});
