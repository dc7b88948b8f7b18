/**
 * PM2.5 evaluation: first chooses the site model's settings by rolling-origin validation inside the calibration
 * period (scripts/select-pm25.ts; nothing after --calibrate-until is read), then replays the camera's frames
 * with a sensor until --calibrate-until using those settings, scores the estimates after it against the
 * labels once, next to two baselines fitted on the same calibration period, and times the estimator per
 * frame. --no-select keeps the config's own calibration block. Usage:
 *   node --import tsx scripts/eval-pm25.ts [--images DIR] [--labels CSV] [--config FILE] [--calibrate-until T]
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPm25Camera } from '../agent/cli/commands/pm25.js';
import type { PixelRect } from '../config/pm25-schema.js';
import { Pm25Estimator, type FrameEstimate } from '../models/pm25/estimator.js';
import type { RgbFrame } from '../models/pm25/raw-features.js';
import { describeSkipped, readFrame, readLabels, replay } from '../models/pm25/replay.js';
import { ridgeToward } from '../models/pm25/ridge.js';
import { sunElevationDeg } from '../models/pm25/solar.js';
import { describeCal, runSelection } from './select-pm25.js';
import { cutoffArg, pm25DatasetOptions } from './lib/pm25-frames.js';

const { values: args } = parseArgs({
  options: {
    ...pm25DatasetOptions,
    'timing-frames': { type: 'string', default: '20' },
    'no-select': { type: 'boolean', default: false },
  },
});

const { cfg } = loadPm25Camera(args.config);
const until = cutoffArg(args['calibrate-until'], cfg.timezone);
if (!args['no-select']) {
  const { chosen } = await runSelection(cfg, args.images, args.labels, until).catch((err: Error) => {
    console.error(`eval:pm25: ${err.message}; --no-select keeps the config's own settings`);
    process.exit(1);
  });
  const canon = (c: object) => JSON.stringify(c, Object.keys({ ...chosen, ...cfg.calibration }).sort());
  const same = canon(chosen) === canon(cfg.calibration);
  console.log(
    `the config's calibration block ${same ? 'equals' : 'differs from'} the chosen one; using the chosen\n`,
  );
  cfg.calibration = chosen;
}
console.log(`replay and test with: ${describeCal(cfg.calibration)}`);
const skipped: string[] = [];
const labels = readLabels(args.labels, cfg.timezone, skipped);
if (skipped.length) console.log(describeSkipped(args.labels, skipped));
const labelAt = new Map(labels.map((l) => [l.ts.getTime(), l.pm25]));

/** Mean encoded RGB of a rectangle (baseline features: no physics, just colour). */
function meanColour(frame: RgbFrame, [x0, y0, x1, y1]: PixelRect): number[] {
  const s = [0, 0, 0];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      for (let c = 0; c < 3; c++) s[c]! += frame.rgb[(y * frame.width + x) * 3 + c]!;
  return s.map((v) => v / ((x1 - x0) * (y1 - y0) * 255));
}
const groundRect: PixelRect = [cfg.exposure[0], cfg.near.rect[1], cfg.exposure[2], cfg.exposure[3]];

interface Row {
  ts: Date;
  truth: number | undefined;
  est: FrameEstimate;
  colour: number[];
}
const rows: Row[] = [];
const captured = new Map<string, FrameEstimate>();
for await (const line of replay(cfg, {
  images: args.images,
  labels: args.labels,
  calibrateUntil: until,
  onEstimate: (file, est) => captured.set(file, est),
})) {
  const est = captured.get(line.file)!;
  const frame = await readFrame(path.join(args.images, line.file), cfg);
  const ts = new Date(line.time);
  rows.push({
    ts,
    truth: labelAt.get(ts.getTime()),
    est,
    colour: [...meanColour(frame, cfg.sky), ...meanColour(frame, groundRect)],
  });
}

// Baselines, fitted on the calibration period only: the median label, and ridge of ln PM on colour means.
const calLabels = labels.filter((l) => l.ts < until).map((l) => l.pm25);
const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const medianBaseline = medianOf(calLabels);
const calRows = rows.filter((r) => r.ts < until && r.est.estimable && r.truth !== undefined);
const colourModel = ridgeToward(
  calRows.map((r) => r.colour),
  calRows.map((r) => Math.log(r.truth!)),
  { intercept: 0, slopes: new Array<number>(6).fill(0) },
  0.1,
);
const colourPredict = (c: number[]) =>
  Math.exp(colourModel.slopes.reduce((s, b, i) => s + b * c[i]!, colourModel.intercept));

const after = rows.filter((r) => r.ts >= until);
const sunUp = (r: Row) =>
  cfg.latitude === undefined || sunElevationDeg(r.ts, cfg.latitude, cfg.longitude!) > 0;
const daytime = after.filter(sunUp);
const scored = after.filter((r) => r.est.estimable && r.truth !== undefined);
const truth = scored.map((r) => r.truth!);

function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  let sab = 0, saa = 0, sbb = 0; // prettier-ignore
  a.forEach((x, i) => ((sab += (x - ma) * (b[i]! - mb)), (saa += (x - ma) ** 2), (sbb += (b[i]! - mb) ** 2)));
  return sab / Math.sqrt(saa * sbb);
}
function metrics(pred: number[]) {
  const err = pred.map((p, i) => p - truth[i]!);
  const mean = truth.reduce((s, x) => s + x, 0) / truth.length;
  return {
    MAE: err.reduce((s, e) => s + Math.abs(e), 0) / err.length,
    RMSE: Math.sqrt(err.reduce((s, e) => s + e * e, 0) / err.length),
    R2: 1 - err.reduce((s, e) => s + e * e, 0) / truth.reduce((s, t) => s + (t - mean) ** 2, 0),
    Spearman: pearson(ranks(pred), ranks(truth)),
    bias: err.reduce((s, e) => s + e, 0) / err.length,
  };
}
const coverage = (pick: (e: FrameEstimate) => [number, number] | null) => {
  const inside = scored.filter((r, i) => {
    const b = pick(r.est)!;
    return b[0] <= truth[i]! && truth[i]! <= b[1];
  }).length;
  const width = scored.reduce((s, r) => s + (pick(r.est)![1] - pick(r.est)![0]), 0) / scored.length;
  return { coverage: inside / scored.length, width };
};

const table = [
  ['estimator', metrics(scored.map((r) => r.est.pm25!))],
  ['baseline: calibration median', metrics(scored.map(() => medianBaseline))],
  ['baseline: ridge on colour means', metrics(scored.map((r) => colourPredict(r.colour)))],
] as const;
const fmt = (v: number) => v.toFixed(3).padStart(8);
console.log(
  `calibration: labels before ${until.toISOString()} (${calLabels.length} readings, ${calRows.length} paired day frames)`,
);
console.log(
  `evaluated: ${scored.length} frames after it that passed the gates, of ${daytime.length} with the sun up (${((100 * scored.length) / Math.max(1, daytime.length)).toFixed(1)} % estimated)`,
);
console.log(
  `truth after it: mean ${fmt(truth.reduce((s, x) => s + x, 0) / truth.length)}, median ${fmt(medianOf(truth))}; calibration median ${fmt(medianBaseline)}`,
);
console.log(`\n${'model'.padEnd(34)}     MAE     RMSE       R²  Spearman     bias`);
for (const [name, m] of table)
  console.log(`${name.padEnd(34)}${fmt(m.MAE)}${fmt(m.RMSE)}${fmt(m.R2)}${fmt(m.Spearman)}${fmt(m.bias)}`);
const c80 = coverage((e) => e.i80);
const c95 = coverage((e) => e.i95);
console.log(
  `\nintervals: 80 % covers ${(100 * c80.coverage).toFixed(1)} % (mean width ${c80.width.toFixed(1)} µg/m³); 95 % covers ${(100 * c95.coverage).toFixed(1)} % (mean width ${c95.width.toFixed(1)} µg/m³)`,
);
const flagCounts: Record<string, number> = {};
for (const r of after) for (const f of r.est.flags) flagCounts[f] = (flagCounts[f] ?? 0) + 1;
console.log(`flags after calibration: ${JSON.stringify(flagCounts)}`);
console.log(`final calibration state: ${JSON.stringify(rows.at(-1)?.est.calibration)}`);

// Per-frame cost of the estimator (graph + physics + gates + model), decode excluded, CPU provider.
const timingFiles = rows.filter((r) => r.est.estimable).slice(0, Number(args['timing-frames']));
const frames = await Promise.all(timingFiles.map((r) => readFrame(path.join(args.images, fileOf(r)), cfg)));
function fileOf(r: Row): string {
  return [...captured.entries()].find(([, e]) => e === r.est)![0];
}
const estimator = await Pm25Estimator.create(cfg, { providers: ['cpu'] });
for (const [i, f] of frames.entries()) await estimator.evaluate(f, timingFiles[i]!.ts); // warm-up
const times: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  for (const [i, f] of frames.entries()) {
    const t0 = performance.now();
    await estimator.evaluate(f, timingFiles[i]!.ts);
    times.push(performance.now() - t0);
  }
}
await estimator.close();
times.sort((a, b) => a - b);
console.log(
  `estimator per ${cfg.frame.width}x${cfg.frame.height} frame (CPU, 1 thread, decode excluded): mean ${(times.reduce((s, t) => s + t, 0) / times.length).toFixed(1)} ms, median ${times[times.length >> 1]!.toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms over ${times.length} runs`,
);
