/**
 * npm run bench — the pipeline against bare onnxruntime, measured in the same run on the same machine.
 *
 * 1. Bare: onnxruntime-node in worker threads, the same model and session settings, a fixed input in a loop,
 *    for each workers × intra-op threads configuration that fits the cores; the best one is the baseline.
 * 2. Pipeline: the real agent (ffmpeg file source read as fast as inference takes frames, latest-wins, the
 *    worker pool in the baseline's configuration, decode + NMS, SQLite outbox, MQTT to a local mosquitto).
 * Prints processed fps / bare inferences/s, the main thread's event-loop lag, frame-to-delivery latency
 * (capture → a subscriber has the message) and peak RSS.
 *
 * Options: --model PATH --source PATH --seconds N (default 20) --synchronous FULL|NORMAL (outbox; default FULL)
 * — or VIGIL_SHARED for the defaults.
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { silentLogger } from '../config/logger.js';
import { validateConfig } from '../config/load.js';
import { readOnnxInfo } from '../models/onnx/onnx-info.js';
import { Agent } from '../agent/runtime/agent.js';
import { tuneGarbageCollector } from '../agent/runtime/gc-tuning.js';
import { measureBareInference, type BareResult } from './lib/bare-onnx.js';
import { startLocalBroker } from './lib/local-broker.js';
import { childPids, ownCpuSeconds, processCpuSeconds, threadCpuSeconds } from './lib/cpu-usage.js';
import { DriftConfig } from '../config/drift-schema.js';
import { DriftWindow } from '../pipeline/drift/drift-window.js';

const shared = process.env.VIGIL_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(shared, 'models', 'yolov8n-coco-int8-640.onnx') },
    source: { type: 'string', default: path.join(shared, 'media', 'vtest.avi') },
    seconds: { type: 'string', default: '20' },
    // The outbox's durability setting (ADR 0003): FULL is the product default, NORMAL for comparison.
    synchronous: { type: 'string', default: 'FULL' },
  },
});
tuneGarbageCollector(); // as the CLI does
const seconds = Number(values.seconds);
const modelPath = values.model!;
const cores = availableParallelism();
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

const input = readOnnxInfo(modelPath).inputs[0]!;
const [height, width] = [input.dims[2] ?? 640, input.dims[3] ?? 640];
console.log(
  `model ${path.basename(modelPath)} (${width}×${height}), source ${path.basename(values.source!)}, ${cores} cores, ${seconds} s per measurement\n`,
);

// 1. bare onnxruntime, every configuration that fits the cores
const configs: [number, number][] = [];
for (let w = 1; w <= cores; w++) for (let t = 1; w * t <= cores; t++) configs.push([w, t]);
const bare: BareResult[] = [];
for (const [w, t] of configs) {
  const r = await measureBareInference(modelPath, {
    workers: w,
    intraOpThreads: t,
    seconds: Math.max(5, seconds / 2),
    width,
    height,
  });
  bare.push(r);
  console.log(
    `bare   ${w} worker(s) × ${t} thread(s): ${r.inferencesPerSecond.toFixed(2)} inferences/s, median ${r.medianMs.toFixed(1)} ms, ${r.cpuMsPerInference.toFixed(1)} CPU ms each`,
  );
}
const best = bare.reduce((a, b) => (b.inferencesPerSecond > a.inferencesPerSecond ? b : a));

// 2. the pipeline, in the best configuration
const broker = await startLocalBroker();
const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
const cfg = validateConfig({
  site: 'bench',
  device: 'bench',
  dataDir,
  mqtt: { url: broker.url },
  http: { enabled: false },
  outbox: { synchronous: values.synchronous },
  models: {
    det: { path: modelPath, providers: ['cpu'], workers: best.workers, intraOpThreads: best.intraOpThreads },
  },
  cameras: [{ id: 'bench', source: values.source, model: 'det', loop: true, realtime: false }],
});
const latencies: number[] = [];
let measuring = false;
const sub = mqtt.connect(broker.url);
await new Promise<void>((r) =>
  sub.on('connect', () => sub.subscribe('vigil/bench/bench/cameras/+/detections', { qos: 1 }, () => r())),
);
sub.on('message', (_t, payload) => {
  if (measuring) latencies.push(Date.now() - (JSON.parse(payload.toString()) as { ts: number }).ts);
});
const agent = new Agent(cfg, { log: silentLogger, version: 'bench', services: [] });
await agent.start();
const stats = agent.cameras.get('bench')!.stats;
const work = { pre: 0, inference: 0, post: 0, frames: 0, driftCpuMs: 0 };
// Drift accounting as the drift service does it (DriftWindow.add per frame), inline on the main thread. It is
// synchronous, so its wall time is its CPU time or more (process.cpuUsage would add the workers' CPU).
const drift = new DriftWindow({
  camera: 'bench',
  modelId: 'det',
  configRevision: 'bench',
  config: DriftConfig.parse({}),
  reference: null,
  pixelOrder: agent.detectors.get('det')!.info.input.pixelOrder,
});
agent.detections$.subscribe((e) => {
  if (!measuring) return;
  const d0 = performance.now();
  drift.add(e);
  work.driftCpuMs += performance.now() - d0;
  work.pre += e.result.preMs;
  work.inference += e.result.inferenceMs;
  work.post += e.result.postMs;
  work.frames++;
});
await new Promise((r) => setTimeout(r, 5000)); // warm-up: ffmpeg, JIT, pool
agent.lag.read(true);
measuring = true;
const p0 = stats.processed;
const d0 = stats.dropped;
const ffmpegPids = childPids(process.pid, 'ffmpeg');
const cpuOf = () => ({
  own: ownCpuSeconds(),
  main: threadCpuSeconds(),
  ffmpeg: ffmpegPids.reduce((a, pid) => a + processCpuSeconds(pid), 0),
  broker: processCpuSeconds(broker.child.pid!),
});
const cpu0 = cpuOf();
const t0 = Date.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu1 = cpuOf();
const processed = stats.processed - p0;
const elapsed = (Date.now() - t0) / 1000;
measuring = false;
const lag = agent.lag.read();
const fps = processed / elapsed;
await agent.stop();
sub.end(true);
await broker.stop();
const rssMiB = process.resourceUsage().maxRSS / 1024;

console.log(
  `\npipeline (${best.workers} × ${best.intraOpThreads}, file at full speed, outbox synchronous=${cfg.outbox.synchronous} + MQTT): ${fps.toFixed(2)} frames/s, ${stats.dropped - d0} dropped`,
);
console.log(`ratio pipeline / best bare: ${(fps / best.inferencesPerSecond).toFixed(3)}  (goal ≥ 0.90)`);
console.log(`event-loop lag: p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms  (goal p99 < 20 ms)`);
console.log(
  `frame-to-delivery latency: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms (${latencies.length} messages)`,
);
console.log(`peak RSS: ${rssMiB.toFixed(0)} MiB`);
// Where the cores went, per processed frame: on a box whose cores are all busy inferring, every other CPU
// millisecond (decode, pre/post, outbox, MQTT, the broker) comes out of the inference rate.
const perFrame = (sec: number) => ((sec * 1000) / processed).toFixed(1);
const driftUs = (work.driftCpuMs * 1000) / Math.max(1, work.frames);
console.log(
  `drift accounting: ${driftUs.toFixed(0)} µs CPU per frame = ${pct(driftUs / 1000 / (((cpu1.own - cpu0.own) * 1000) / processed))} of the agent's CPU per frame (goal < 1 %)`,
);
const workerMs = (v: number) => (v / Math.max(1, work.frames)).toFixed(1);
console.log(
  `CPU ms per frame: agent process ${perFrame(cpu1.own - cpu0.own)} (main thread ${perFrame(cpu1.main - cpu0.main)}, worker pre ${workerMs(work.pre)}, inference ${workerMs(work.inference)} wall, post ${workerMs(work.post)}), ffmpeg ${perFrame(cpu1.ffmpeg - cpu0.ffmpeg)}, broker ${perFrame(cpu1.broker - cpu0.broker)}; bare ${best.cpuMsPerInference.toFixed(1)} per inference`,
);
// CPU per frame against CPU per bare inference: what the throughput ratio tends to on a box whose cores
// this pipeline saturates, and a figure that other load on a shared machine disturbs far less than fps.
const pipelineCpuMs =
  ((cpu1.own - cpu0.own + cpu1.ffmpeg - cpu0.ffmpeg + cpu1.broker - cpu0.broker) * 1000) / processed;
console.log(
  `CPU ratio bare CPU per inference / pipeline CPU per frame (all processes): ${(best.cpuMsPerInference / pipelineCpuMs).toFixed(3)}`,
);
console.log(
  `summary: bare ${best.inferencesPerSecond.toFixed(2)}/s, pipeline ${fps.toFixed(2)}/s = ${pct(fps / best.inferencesPerSecond)}`,
);
process.exit(0);
