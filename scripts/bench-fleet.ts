/**
 * Fleet simulation: N light boxes (agent/fleet/sim-host.ts: the real FleetService, verification, diff,
 * apply, health check and atomic persistence; synthetic cameras, no inference) in this process against
 * one local mosquitto. Measures the time from a signed group push to the last `applied` result, then the
 * same with a share of the boxes offline at push time that return afterwards. The baseline is bare MQTT
 * in the same run: N plain clients answering the same retained message.
 *
 *   npm run bench:fleet -- [--boxes 200] [--offline 0.1]
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { silentLogger } from '../config/logger.js';
import { validateConfig } from '../config/load.js';
import type { FleetBodyInput } from '../agent/fleet/fleet-document.js';
import { ConfigResultPayload } from '../agent/fleet/fleet-payloads.js';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../agent/fleet/fleet-signature.js';
import { startSimBox, type SimBox } from '../agent/fleet/sim-host.js';
import { writeFileAtomic } from '../agent/fleet/atomic-file.js';
import { startMosquitto } from '../test/support/mosquitto.js';

const { values: args } = parseArgs({
  options: { boxes: { type: 'string', default: '200' }, offline: { type: 'string', default: '0.1' } },
});
const n = Number(args.boxes);
const offlineShare = Number(args.offline);
const broker = await startMosquitto();
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-fleet-'));
const model = path.join(dir, 'det.onnx');
writeFileSync(model, 'sim');
const key = generateFleetKey();
const topic = 'vigil/fleet/bench/config';
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function bareBaseline(): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      mqtt.connectAsync(broker.url, { clientId: `bare-${i}`, clean: true }),
    ),
  );
  const watcher = await mqtt.connectAsync(broker.url);
  await watcher.subscribeAsync('bare/ack/+', { qos: 1 });
  for (const [i, c] of clients.entries()) {
    c.on(
      'message',
      (_t, payload) => void c.publishAsync(`bare/ack/${i}`, payload, { qos: 1 }).catch(() => {}),
    );
    await c.subscribeAsync('bare/doc', { qos: 1 });
  }
  const acks = new Set<string>();
  const t0 = performance.now();
  const done = new Promise<void>((resolve) =>
    watcher.on('message', (t) => acks.add(t).size === n && resolve()),
  );
  await watcher.publishAsync('bare/doc', Buffer.alloc(600, 1), { qos: 1 });
  await done;
  const ms = performance.now() - t0;
  await Promise.all([...clients, watcher].map((c) => c.endAsync()));
  return ms;
}

const boxCfg = (i: number) =>
  validateConfig({
    site: 'bench',
    device: `box${String(i).padStart(3, '0')}`,
    dataDir: path.join(dir, `box${i}`),
    mqtt: { url: broker.url },
    http: { enabled: false },
    models: { det: { path: model } },
    cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 5 }],
    fleet: { keys: [key.publicBase64], groups: ['bench'], healthDeadlineS: 10 },
  });

const body = (fps: number): FleetBodyInput => ({
  models: { det: { path: model } },
  cameras: [
    { id: 'a', source: '/sim/a', model: 'det', fps: 5 },
    { id: 'b', source: '/sim/b', model: 'det', fps },
  ],
});

/** Publishes a signed document and resolves the time (from publish) of each box's result for it. */
async function watchResults(revision: number) {
  const times = new Map<string, { ms: number; status: string }>();
  const watcher = await mqtt.connectAsync(broker.url);
  await watcher.subscribeAsync('vigil/bench/+/config/result', { qos: 1 });
  let t0 = 0;
  watcher.on('message', (_t, payload) => {
    const r = ConfigResultPayload.safeParse(JSON.parse(payload.toString()));
    if (r.success && r.data.revision === revision && !times.has(r.data.device))
      times.set(r.data.device, { ms: performance.now() - t0, status: r.data.status });
  });
  const doc = signDocument(
    { revision, target: 'group:bench', config: body(revision + 1) },
    fleetPrivateKey(key.privatePem),
  );
  return {
    times,
    push: async () => {
      t0 = performance.now();
      await watcher.publishAsync(topic, JSON.stringify(doc), { qos: 1, retain: true });
    },
    waitFor: async (count: number, timeoutMs = 120_000) => {
      const until = Date.now() + timeoutMs;
      while (times.size < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      if (times.size < count) throw new Error(`only ${times.size}/${count} results after ${timeoutMs} ms`);
    },
    elapsed: () => performance.now() - t0,
    close: () => watcher.endAsync(),
  };
}

const summary = (label: string, xs: number[], bare: number) =>
  console.log(
    `${label}: last applied ${xs.length ? Math.max(...xs).toFixed(0) : '-'} ms (p50 ${pct(xs, 0.5).toFixed(0)}, ` +
      `p95 ${pct(xs, 0.95).toFixed(0)}); ${(Math.max(...xs) / bare).toFixed(1)}x bare MQTT`,
  );

try {
  console.log(
    `fleet simulation: ${n} boxes in one process, one mosquitto; ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  const bare = await bareBaseline();
  console.log(`bare MQTT: ${n} clients receive one message and answer: ${bare.toFixed(0)} ms`);
  // The boxes share this process's one event loop and one disk: every apply's fsync'd writes are serial here.
  const t = performance.now();
  for (let i = 0; i < 40; i++)
    writeFileAtomic(path.join(dir, 'probe.json'), JSON.stringify({ i, pad: 'x'.repeat(3000) }));
  const writeMs = (performance.now() - t) / 40;
  console.log(
    `disk: one atomic write (temp, fsync, rename, fsync dir) ${writeMs.toFixed(1)} ms; an apply makes 4: ` +
      `${n} applies need >= ${((4 * writeMs * n) / 1000).toFixed(1)} s of serial fsync in one process`,
  );

  const tStart = performance.now();
  const boxes: SimBox[] = [];
  for (let i = 0; i < n; i++) boxes.push(await startSimBox(boxCfg(i), silentLogger));
  console.log(`started ${n} boxes in ${(performance.now() - tStart).toFixed(0)} ms`);

  // 1. Everyone online.
  const run1 = await watchResults(1);
  await run1.push();
  await run1.waitFor(n);
  const ok1 = [...run1.times.values()];
  if (ok1.some((r) => r.status !== 'applied')) throw new Error('a box did not apply revision 1');
  summary(
    `push to ${n} online boxes`,
    ok1.map((r) => r.ms),
    bare,
  );
  await run1.close();

  // 2. A share offline at push time, back afterwards (they start from their last-known-good, revision 1).
  const away = Math.round(n * offlineShare);
  const gone = boxes.splice(0, away);
  await Promise.all(gone.map((b) => b.stop()));
  const run2 = await watchResults(2);
  await run2.push();
  await run2.waitFor(n - away);
  const online = [...run2.times.values()].map((r) => r.ms);
  summary(`push to ${n - away} online boxes (${away} offline)`, online, bare);
  const backAt = run2.elapsed();
  const returned: SimBox[] = [];
  for (let i = 0; i < away; i++) returned.push(await startSimBox(boxCfg(i), silentLogger));
  const reconnectedAt = run2.elapsed();
  await run2.waitFor(n);
  const all = [...run2.times.entries()];
  if (all.some(([, r]) => r.status !== 'applied')) throw new Error('a box did not apply revision 2');
  const awayDevices = new Set(gone.map((b) => b.host.config.device));
  const late = all.filter(([d]) => awayDevices.has(d)).map(([, r]) => r.ms);
  console.log(
    `${away} boxes back ${backAt.toFixed(0)} ms after the push (all reconnected by ${reconnectedAt.toFixed(0)} ms): ` +
      `their last applied ${Math.max(...late).toFixed(0)} ms after the push, ` +
      `${(Math.max(...late) - backAt).toFixed(0)} ms after they began to return`,
  );
  await run2.close();
  await Promise.all([...boxes, ...returned].map((b) => b.stop()));
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
