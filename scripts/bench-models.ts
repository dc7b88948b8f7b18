/**
 * npm run bench:models — per model in ../shared/models (or --models DIR), on this machine, in one run:
 *
 * - bare: onnxruntime-node on this thread, one session with the agent's settings (1 intra-op thread, all
 *   graph optimisations), a fixed letterboxed bus.jpg tensor, median of --runs after warm-up;
 * - Vigil: the same frame through the Detector (one worker): the worker's own timings per frame for
 *   tensor preparation (bytes → planar values, the per-frame work once ffmpeg has letterboxed), inference,
 *   and decode + NMS; medians of --runs;
 * - the one-shot letterbox with sharp (source frame already decoded) for `vigil detect` and tiling.
 *
 * Prints pre and post as a fraction of the bare inference. Goal: pre + post ≤ 5 % for yolov8n-640 on CPU.
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ModelConfig } from '../config/schema.js';
import { Detector } from '../models/detect/detector.js';
import { decodeImage, regionToInputFrame } from '../models/detect/raw-input.js';
import type { InputSpec } from '../models/types.js';

const shared = process.env.VIGIL_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: path.join(shared, 'models') },
    image: { type: 'string', default: path.join(shared, 'media', 'bus.jpg') },
    runs: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '8' },
  },
});
const runs = Math.max(50, Number(values.runs));
const warmup = Number(values.warmup);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const ms = (v: number) => `${v.toFixed(2)} ms`;
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

/** The planar tensor the worker would build for this frame (same scale and order), for the bare run. */
function planar(data: Uint8Array, spec: InputSpec): Float32Array {
  const plane = spec.width * spec.height;
  const t = new Float32Array(3 * plane);
  for (let i = 0, j = 0; i < plane; i++, j += 3)
    for (let c = 0; c < 3; c++) t[c * plane + i] = data[j + c]! * spec.scale;
  return t;
}

async function bareMs(modelPath: string, tensor: Float32Array, spec: InputSpec): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor('float32', tensor, [1, 3, spec.height, spec.width]);
  const feeds = { [session.inputNames[0]!]: input };
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return median(times);
}

const src = await decodeImage(values.image!);
const files = readdirSync(values.models!)
  .filter((f) => f.endsWith('.onnx'))
  .sort();
console.log(
  `bench:models — ${files.length} models, ${path.basename(values.image!)} ${src.width}×${src.height}, ${runs} runs after ${warmup} warm-up, CPU provider, 1 intra-op thread`,
);
console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start\n`,
);
const rows: string[][] = [
  ['model', 'input', 'bare inf', 'Vigil inf', 'pre', 'decode+NMS', '(pre+post)/bare', 'sharp letterbox'],
];
for (const file of files) {
  const modelPath = path.join(values.models!, file);
  const detector = await Detector.load(
    file,
    ModelConfig.parse({ path: modelPath, workers: 1, providers: ['cpu'] }),
  );
  try {
    const spec = detector.info.input;
    const whole = { x: 0, y: 0, width: src.width, height: src.height };
    const letterboxTimes: number[] = [];
    let frame = await regionToInputFrame(src, whole, spec);
    for (let i = 0; i < Math.min(runs, 50); i++) {
      const t0 = performance.now();
      frame = await regionToInputFrame(src, whole, spec);
      letterboxTimes.push(performance.now() - t0);
    }
    const bare = await bareMs(modelPath, planar(frame.data, spec), spec);
    for (let i = 0; i < warmup; i++) await detector.detect(frame);
    const pre: number[] = [];
    const inf: number[] = [];
    const post: number[] = [];
    let found = 0;
    for (let i = 0; i < runs; i++) {
      const r = await detector.detect(frame);
      pre.push(r.preMs);
      inf.push(r.inferenceMs);
      post.push(r.postMs);
      found = r.detections.length;
    }
    const [p, q] = [median(pre), median(post)];
    rows.push([
      `${file} (${detector.info.family}, ${found} boxes)`,
      `${spec.width}×${spec.height}`,
      ms(bare),
      ms(median(inf)),
      `${ms(p)} (${pct(p / bare)})`,
      `${ms(q)} (${pct(q / bare)})`,
      pct((p + q) / bare),
      ms(median(letterboxTimes)),
    ]);
  } finally {
    await detector.close();
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  '));
console.log(
  `\nload average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (a shared machine inflates every column alike)`,
);
