/**
 * npm run bench:outbox — store-and-forward throughput, each against a bare baseline measured in the same run.
 *
 * 1. Commit: Outbox.enqueue of a detections-sized message per transaction, with synchronous NORMAL and FULL
 *    (WAL), against a bare better-sqlite3 INSERT per transaction with the same setting.
 * 2. Sustained commit + publish: enqueue as fast as the link keeps up (depth held under 2 000 rows) with the
 *    MqttLink publishing QoS 1 to a local mosquitto and deleting on PUBACK; against bare mqtt.js QoS 1
 *    publishes with the same in-flight window and no SQLite.
 * 3. Outage: the broker is stopped for --outage-s while messages are committed at --rate; then it returns and
 *    the backlog drains (at most outbox.drainRatePerS = --drain-rate) while live messages keep coming at
 *    --rate. Prints the drain rate and the commit-to-subscriber latency of live messages during the drain.
 *
 * Options: --seconds N (each throughput phase, default 10) --outage-s N (default 300) --rate N (default 20)
 *          --drain-rate N (default 100) --synchronous NORMAL|FULL (phases 2 and 3, default: the config's, FULL) --window N
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { silentLogger } from '../config/logger.js';
import { MqttConfig, OutboxConfig } from '../config/schema.js';
import { MqttLink } from '../agent/mqtt/mqtt-link.js';
import { Outbox } from '../agent/outbox/outbox.js';
import { collect, startMosquitto } from '../test/support/mosquitto.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'outage-s': { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    'drain-rate': { type: 'string', default: '100' },
    // Default: the config's default (phases 2 and 3 run with it).
    synchronous: { type: 'string', default: OutboxConfig.parse({}).synchronous },
    window: { type: 'string', default: '32' },
  },
});
const seconds = Number(values.seconds);
const outageS = Number(values['outage-s']);
const rate = Number(values.rate);
const drainRate = Number(values['drain-rate']);
const sync = OutboxConfig.shape.synchronous.parse(values.synchronous);
const window = Number(values.window);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-bench-outbox-'));
let files = 0;
const dbFile = () => path.join(tmp, `outbox-${files++}.db`);
const fmt = (v: number) => v.toFixed(0).padStart(7);
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/** About what one processed frame with a few people weighs. */
function detections(id: string, seq: number | null, ts: number, kind = 'live', camera = 'c1') {
  const box = { x1: 101.5, y1: 220, x2: 160.2, y2: 380.9 };
  return {
    id,
    camera,
    ts,
    pts: 12.48,
    seq: seq ?? 0,
    model: 'yolo11n',
    provider: 'cpu',
    inferenceMs: 38.2,
    frame: { width: 768, height: 576 },
    kind,
    detections: Array.from({ length: 4 }, () => ({ label: 'person', classId: 0, score: 0.87, box })),
  };
}
const payloadBytes = Buffer.byteLength(JSON.stringify(detections('x'.repeat(36), 1, Date.now())));
const topicOf = (camera: string) => `vigil/bench/box/cameras/${camera}/detections`;
const topic = topicOf('c1');
const enqueue = (o: Outbox, kind?: string, camera = 'c1') =>
  o.enqueue({
    topic: topicOf(camera),
    stream: `detections/${camera}`,
    priority: 0,
    build: ({ id, seq, ts }) => detections(id, seq, ts, kind, camera),
  });

/** Commits per second for `ms` of `commit()` calls, added to `acc`. */
function timed(acc: { n: number; ms: number }, ms: number, commit: () => void): void {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    commit();
    n++;
  }
  acc.n += n;
  acc.ms += performance.now() - t0;
}

/**
 * Outbox.enqueue against a bare INSERT per transaction, both settings, in interleaved slices: the disk is
 * shared, and its fsync time drifts over a run.
 */
function commitRates(): Record<'NORMAL' | 'FULL', { outbox: number; bare: number }> {
  const levels = ['NORMAL', 'FULL'] as const;
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const setups = levels.map((synchronous) => {
    const outbox = Outbox.open(dbFile(), OutboxConfig.parse({ synchronous }));
    const db = new Database(dbFile());
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('CREATE TABLE t (pk INTEGER PRIMARY KEY, id TEXT, payload BLOB)');
    const insert = db.prepare('INSERT INTO t (id, payload) VALUES (?, ?)');
    let m = 0;
    const tx = db.transaction(() => insert.run(String(m++), payload));
    return { outbox, db, tx, o: { n: 0, ms: 0 }, b: { n: 0, ms: 0 } };
  });
  const rounds = 4;
  const slice = (seconds * 1000) / rounds / 4;
  for (let r = 0; r < rounds; r++) {
    for (const s of setups) {
      timed(s.o, slice, () => enqueue(s.outbox));
      timed(s.b, slice, () => s.tx());
    }
  }
  const rate = (a: { n: number; ms: number }) => a.n / (a.ms / 1000);
  for (const s of setups) {
    s.outbox.close();
    s.db.close();
  }
  return {
    NORMAL: { outbox: rate(setups[0]!.o), bare: rate(setups[0]!.b) },
    FULL: { outbox: rate(setups[1]!.o), bare: rate(setups[1]!.b) },
  };
}

async function main(): Promise<void> {
  console.log(`bench:outbox  payload ${payloadBytes} B, window ${window}, synchronous ${sync} (phases 2-3)`);
  console.log('\n1. commit (one message per transaction, WAL)');
  const rates = commitRates();
  for (const s of ['NORMAL', 'FULL'] as const) {
    const r = rates[s];
    console.log(
      `   ${s.padEnd(6)} outbox ${fmt(r.outbox)} msg/s   bare insert ${fmt(r.bare)} /s   ratio ${(r.outbox / r.bare).toFixed(2)}`,
    );
  }

  // Persistence: the subscriber's session (and what it missed) survives the broker's restart.
  const broker = await startMosquitto({
    persistence: true,
    dir: path.join(tmp, 'broker'),
    config: ['max_queued_messages 0'],
  });
  const cfg = OutboxConfig.parse({ synchronous: sync, drainRatePerS: drainRate });
  const mqttCfg = MqttConfig.parse({ url: broker.url, inflightWindow: window });
  try {
    // 2. Bare mqtt.js: QoS 1 with the same window, no SQLite.
    const bare = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const body = Buffer.from(JSON.stringify(detections('x'.repeat(36), 1, Date.now())));
    let acked = 0;
    let inflight = 0;
    const tb = performance.now();
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (inflight < window && performance.now() - tb < seconds * 1000) {
          inflight++;
          bare.publish(topic, body, { qos: 1 }, () => {
            inflight--;
            acked++;
            if (inflight === 0 && performance.now() - tb >= seconds * 1000) resolve();
            else pump();
          });
        }
      };
      pump();
    });
    const bareRate = acked / ((performance.now() - tb) / 1000);
    await bare.endAsync();

    const outbox = Outbox.open(dbFile(), cfg);
    const link = new MqttLink({
      reconnect: { minMs: 200, maxMs: 1000 },
      cfg: mqttCfg,
      statusTopic: 'vigil/bench/box/status',
      outbox,
      log: silentLogger,
      version: 'bench',
    });
    link.start();
    while (link.state.state !== 'connected') await sleep(10);
    const a0 = link.counters().acked;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      // Backpressure: the producer waits while the link is behind (the outbox would absorb it otherwise).
      if (outbox.depth().rows > 2000) await sleep(1);
      else for (let i = 0; i < 50; i++) enqueue(outbox);
      link.notify();
      await new Promise((r) => setImmediate(r));
    }
    const sustained = (link.counters().acked - a0) / ((performance.now() - t0) / 1000);
    console.log('\n2. sustained commit + publish (QoS 1, delete on PUBACK, local mosquitto)');
    console.log(
      `   outbox + link ${fmt(sustained)} msg/s   bare mqtt.js QoS 1 ${fmt(bareRate)} msg/s   ratio ${(sustained / bareRate).toFixed(2)}`,
    );
    while (outbox.depth().rows > 0) await sleep(20);

    // 3. Outage and drain. During the drain, live messages come for c1 (which has backlog: they wait for
    // it, order per camera) and for c2 (no backlog: they go at once, alternating with the backlog).
    const sub = await collect(broker.url, 'vigil/bench/box/cameras/+/detections', {
      clientId: 'bench-sub',
      clean: false,
    });
    const live: Record<string, number[]> = { c1: [], c2: [] };
    let backlogSeen = 0;
    sub.client.on('message', (_t, p) => {
      const m = JSON.parse(p.toString()) as { ts: number; kind: string; camera: string };
      if (m.kind === 'backlog') backlogSeen++;
      else if (m.kind === 'drain-live') live[m.camera]?.push(Date.now() - m.ts);
    });
    await broker.stop();
    let kind = 'backlog';
    let tick = 0;
    const producer = setInterval(() => {
      enqueue(outbox, kind, kind === 'backlog' || tick++ % 2 === 0 ? 'c1' : 'c2');
      link.notify();
    }, 1000 / rate);
    console.log(
      `\n3. outage ${outageS} s at ${rate} msg/s, then drain (drainRatePerS ${drainRate}) with live at ${rate} msg/s`,
    );
    await sleep(outageS * 1000);
    const tb0 = performance.now();
    await broker.start();
    while (link.state.state !== 'connected') await sleep(5);
    // What was committed before the connection is backlog, whatever it was meant to be.
    const backlog = link.backlogRows();
    kind = 'drain-live';
    const reconnectS = (performance.now() - tb0) / 1000;
    const tr = performance.now();
    while (link.backlogRows() > 0) await sleep(20);
    const drainS = (performance.now() - tr) / 1000;
    clearInterval(producer);
    for (let i = 0; i < 200 && backlogSeen < backlog; i++) await sleep(50);
    const lat = (xs: number[]) =>
      `${xs.length} delivered, commit→subscriber p50 ${quantile(xs, 0.5)} ms, p99 ${quantile(xs, 0.99)} ms`;
    console.log(
      `   backlog ${backlog} rows; reconnected ${reconnectS.toFixed(1)} s after the broker was back`,
    );
    console.log(
      `   drained in ${drainS.toFixed(1)} s: ${fmt(backlog / drainS)} msg/s (cap ${drainRate}/s; sustained max above ${sustained.toFixed(0)}/s)`,
    );
    console.log(`   live c2 (no backlog) during the drain: ${lat(live.c2!)}`);
    console.log(`   live c1 (waits for its own backlog, order per camera): ${lat(live.c1!)}`);
    console.log(`   backlog received by the persistent subscriber: ${backlogSeen} of ${backlog}`);
    await sub.close();
    await link.stop();
    outbox.close();
  } finally {
    await broker.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
