/**
 * npm run bench:soak — is the agent's memory flat over hours, and is nothing lost on the way? The real CLI
 * (`vigil run`) in its own process, N file cameras looping a clip at F fps on one real model, drift on, a
 * page open on /api/events (snapshots rendered every second) and /metrics read at every sample; a real
 * mosquitto stopped for `--outage-s` every `--outage-every-min` (the outbox fills, then drains), and up for
 * the last stretch so everything can arrive. A subscriber counts each camera's `seq`.
 *
 * Prints the samples, then: resident memory and the main thread's heap after the warm-up, their growth
 * per hour (least squares over the samples after the warm-up; for the heap, over the floor of each minute,
 * since it saws between collections), that growth as a share of the warmed-up size, and the messages: seq
 * gaps, duplicates, outbox rows left, drops by the outbox.
 *
 * Also the mean and floor of each 10-minute stretch, so a ramp or a step shows whatever the fit says.
 *
 * Options: --minutes M (60) --cameras N (2) --fps F (5) --model PATH --source PATH --warmup-min W (10, at most
 *   a fifth of the run; RSS rose for about 10 min in the first hour-long run) --outage-every-min E (10; 0 for none) --outage-s S (60) --sample-s S (10)
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { freePort, startLocalBroker } from './lib/local-broker.js';
import { blocks, floors, sampleFromMetrics, SeqLedger, slope, type SoakSample } from './lib/soak-sampler.js';

const shared = process.env.VIGIL_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    cameras: { type: 'string', default: '2' },
    fps: { type: 'string', default: '5' },
    model: { type: 'string', default: path.join(shared, 'models', 'yolo11n-coco-int8-320.onnx') },
    source: { type: 'string', default: path.join(shared, 'media', 'vtest.avi') },
    'warmup-min': { type: 'string', default: '10' },
    'outage-every-min': { type: 'string', default: '10' },
    'outage-s': { type: 'string', default: '60' },
    'sample-s': { type: 'string', default: '10' },
  },
});
const runS = Number(values.minutes) * 60;
const warmupS = Math.min(Number(values['warmup-min']) * 60, runS / 5);
const outageEveryS = Number(values['outage-every-min']) * 60;
const outageS = Number(values['outage-s']);
const sampleS = Number(values['sample-s']);
/** The broker stays up for this long at the end, so the outbox can drain before the count. */
const finalUpS = Math.max(120, outageS * 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-soak-'));
const [mqttPort, httpPort] = [await freePort(), await freePort()];
let broker: Awaited<ReturnType<typeof startLocalBroker>> | undefined;
const brokerUp = async () => {
  broker = await startLocalBroker(mqttPort); // the same port each time: the agent reconnects to it
};
const brokerDown = async () => {
  await broker?.stop();
  broker = undefined;
};

const cameras = Array.from({ length: Number(values.cameras) }, (_, i) => ({
  id: `soak${i + 1}`,
  source: values.source,
  model: 'detector',
  loop: true,
  realtime: true,
  fps: Number(values.fps),
}));
const config = {
  site: 'soak',
  device: 'soak-box',
  dataDir: path.join(dir, 'data'),
  logLevel: 'warn',
  mqtt: { url: `mqtt://127.0.0.1:${mqttPort}` },
  http: { host: '127.0.0.1', port: httpPort },
  models: { detector: { path: values.model, providers: ['cpu'] } },
  cameras,
  drift: { windowMinutes: 5 },
};
writeFileSync(path.join(dir, 'soak.json'), JSON.stringify(config, null, 2));

await brokerUp();
const ledger = new SeqLedger();
const subscriber = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 1000 });
subscriber.on('connect', () => subscriber.subscribe('vigil/#', { qos: 1 }));
subscriber.on('error', () => {}); // reconnects on its own while the broker is down
subscriber.on('message', (topic, payload) => {
  if (!topic.endsWith('/detections')) return;
  const m = JSON.parse(payload.toString()) as { camera: string; seq: number };
  ledger.add(m.camera, m.seq);
});

const logFile = path.join(dir, 'agent.log');
const log = createWriteStream(logFile);
const agent = spawn(
  process.execPath,
  [
    path.join(import.meta.dirname, '..', 'agent/cli/vigil.mjs'),
    'run',
    '--config',
    path.join(dir, 'soak.json'),
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
agent.stdout!.pipe(log);
agent.stderr!.pipe(log);
const agentExit = new Promise<number | null>((r) => agent.once('exit', r));

const get = (p: string) =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: httpPort, path: p }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

// An open page: the event stream, read and thrown away (bytes counted), reopened if it closes.
let pageBytes = 0;
let stopping = false;
const openPage = () => {
  if (stopping) return;
  http
    .get({ host: '127.0.0.1', port: httpPort, path: '/api/events' }, (res) => {
      res.on('data', (d: Buffer) => (pageBytes += d.length));
      res.on('close', () => setTimeout(openPage, 1000));
    })
    .on('error', () => setTimeout(openPage, 1000));
};

for (let i = 0; i < 300; i++) {
  if (agent.exitCode !== null) throw new Error(`agent exited: ${readFileSync(logFile, 'utf8')}`);
  if (await get('/readyz').catch(() => '')) break;
  await sleep(200);
}
openPage();
console.log(
  `soak: ${runS / 60} min + ${finalUpS} s with the broker up, ${cameras.length} cameras at ${values.fps} fps, ` +
    `${path.basename(values.model)}, warm-up ${warmupS} s, broker down ${outageS} s every ${outageEveryS || '∞'} s; ${dir}`,
);
console.log('   t s   RSS MiB  heap MiB  ext MiB  processed  dropped  outbox rows  outbox drops  broker');

const samples: SoakSample[] = [];
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const endS = runS + finalUpS;
while (elapsed() < endS) {
  const t = elapsed();
  const inOutage = outageEveryS > 0 && t < runS && t % outageEveryS >= outageEveryS - outageS;
  if (inOutage && broker) await brokerDown();
  if (!inOutage && !broker) await brokerUp();
  const s = sampleFromMetrics(Math.round(t), agent.pid!, await get('/metrics'));
  samples.push(s);
  console.log(
    `${String(s.t).padStart(6)} ${s.rssMiB.toFixed(1).padStart(9)} ${s.heapUsedMiB.toFixed(1).padStart(9)} ` +
      `${s.externalMiB.toFixed(1).padStart(8)} ${String(s.processed).padStart(10)} ${String(s.dropped).padStart(8)} ` +
      `${String(s.outboxRows).padStart(12)} ${String(s.outboxDrops).padStart(13)}  ${broker ? 'up' : 'down'}`,
  );
  await sleep(Math.max(0, sampleS * 1000 - (elapsed() - t) * 1000));
}

stopping = true;
agent.kill('SIGTERM');
const code = await agentExit;
subscriber.end(true);
await brokerDown();

const after = samples.filter((s) => s.t >= warmupS);
const at = (s: SoakSample[]) => s[Math.min(2, s.length - 1)]!; // the third sample: past the warm-up's edge
const base = at(after);
const last = samples.at(-1)!;
const perHour = (pts: [number, number][]) => slope(pts) * 3600;
const rssGrowth = perHour(after.map((s) => [s.t, s.rssMiB]));
const heapGrowth = perHour(floors(after, (s) => s.heapUsedMiB, 60));
const extGrowth = perHour(floors(after, (s) => s.externalMiB, 60));
const warnings = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter((l) => /"level":"(warn|error)"|\b(WARN|ERROR)\b/.test(l));
console.log(`\nafter the warm-up (t = ${base.t} s) → end (t = ${last.t} s), ${after.length} samples:`);
console.log(
  `  RSS   ${base.rssMiB.toFixed(1)} → ${last.rssMiB.toFixed(1)} MiB (max ${Math.max(...after.map((s) => s.rssMiB)).toFixed(1)}); ` +
    `growth ${rssGrowth.toFixed(2)} MiB/h = ${((rssGrowth / base.rssMiB) * 100).toFixed(2)} %/h of the warmed-up RSS`,
);
console.log(
  `  heap  ${base.heapUsedMiB.toFixed(1)} → ${last.heapUsedMiB.toFixed(1)} MiB; floor growth ${heapGrowth.toFixed(2)} MiB/h ` +
    `= ${((heapGrowth / base.heapUsedMiB) * 100).toFixed(2)} %/h`,
);
console.log(`  external floor growth ${extGrowth.toFixed(2)} MiB/h`);
console.log('  by 10 minutes:   RSS mean   RSS min  heap floor  external floor (MiB)');
for (const b of blocks(samples, 600))
  console.log(
    `  ${`${b.from / 60}–${Math.round(b.to / 60)} min`.padEnd(14)} ${b.rssMean.toFixed(1).padStart(10)} ` +
      `${b.rssMin.toFixed(1).padStart(9)} ${b.heapMin.toFixed(1).padStart(11)} ${b.externalMin.toFixed(1).padStart(15)}`,
  );
console.log(
  `  frames processed ${last.processed}, dropped (latest wins) ${last.dropped}; outbox rows at the end ${last.outboxRows}, ` +
    `outbox drops ${last.outboxDrops}; page stream ${(pageBytes / 1e6).toFixed(1)} MB`,
);
for (const c of ledger.summary())
  console.log(
    `  ${c.camera}: detections seq ${c.min}…${c.max}, ${c.unique} received, ${c.missing} missing, ` +
      `${ledger.duplicates} duplicates (all cameras)`,
  );
console.log(`  agent exit code ${code}; ${warnings.length} warning/error log lines (${logFile})`);
for (const w of warnings.slice(0, 10)) console.log(`    ${w.slice(0, 200)}`);
