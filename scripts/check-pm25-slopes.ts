/**
 * npm run check:pm25-slopes — the models that follow the physics more closely than the chosen site model,
 * scored by the same blind rolling-origin protocol as `npm run select:pm25` (frames and labels before
 * --calibrate-until only; docs/pm25.md, "Checked after the April diagnosis"). For these checks every model
 * is refit at each origin on the pairs of its window (the calibrator refits every few pairs), so the chosen
 * settings are scored the same way as the rest: ridge toward the prior on [lnBetaTotal, lnBetaRatio].
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { parseArgs } from 'node:util';
import { loadPm25Camera } from '../agent/cli/commands/pm25.js';
import { regressorPrior, regressorValues } from '../models/pm25/regressors.js';
import { ridgeToward } from '../models/pm25/ridge.js';
import { DEFAULT_PROTOCOL, origins, scoreForecasts, type Forecast } from '../models/pm25/selection.js';
import { sunElevationDeg } from '../models/pm25/solar.js';
import { cutoffArg, pm25DatasetOptions, selectionFrames } from './lib/pm25-frames.js';

const { values: args } = parseArgs({
  options: {
    ...pm25DatasetOptions,
  },
});
const { cfg } = loadPm25Camera(args.config);
const until = cutoffArg(args['calibrate-until'], cfg.timezone);
const frames = (await selectionFrames(cfg, args.images, args.labels, until)).sort((a, b) => a.ts - b.ts);
const opts = { ...DEFAULT_PROTOCOL, end: until.getTime() };
if (cfg.latitude === undefined || cfg.longitude === undefined)
  throw new Error('the config needs latitude and longitude (for the sun-geometry models)');
const [lat, lon] = [cfg.latitude, cfg.longitude];
const DAY_MS = 86_400_000;

/** Per frame: [lnBetaTotal, lnBetaRatio, sin(sun elevation), ln air mass]. */
const xs = frames.map((f) => {
  const [total, ratio] = regressorValues(cfg.prior, f.physics, ['lnBetaTotal', 'lnBetaRatio']);
  const el = sunElevationDeg(new Date(f.ts), lat, lon);
  const sin = Math.sin((Math.max(2, el) * Math.PI) / 180);
  return [total!, ratio!, sin, Math.log(1 / sin)];
});

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const cov = (a: number[], b: number[]) => {
  const [ma, mb] = [mean(a), mean(b)];
  return mean(a.map((v, i) => (v - ma) * (b[i]! - mb)));
};
/** A slope on one regressor `a`, estimated with the help of `z`; the intercept passes through the means. */
const line = (a: number[], y: number[], slope: number, pick: (x: number[]) => number) => {
  const c = mean(y) - slope * mean(a);
  return (x: number[]) => c + slope * pick(x);
};
type Fit = (x: number[][], y: number[]) => (x: number[]) => number;
const ridge =
  (cols: number[], lambda: number): Fit =>
  (x, y) => {
    const prior = regressorPrior(cfg.prior, ['lnBetaTotal', 'lnBetaRatio']);
    const slopes = cols.map((c) => (c < 2 ? prior.slopes[c]! : 0));
    const m = ridgeToward(
      x.map((r) => cols.map((c) => r[c]!)),
      y,
      { intercept: prior.intercept, slopes },
      lambda,
    );
    return (r) => cols.reduce((s, c, j) => s + m.slopes[j]! * r[c]!, m.intercept);
  };
const col = (x: number[][], c: number) => x.map((r) => r[c]!);
const avg = (r: number[]) => (r[0]! + r[1]!) / 2;

const models: Record<string, Fit> = {
  'chosen: ridge 16 on [lnBetaTotal, lnBetaRatio]': ridge([0, 1], cfg.calibration.ridge),
  'least squares on lnBetaTotal': (x, y) =>
    line(col(x, 0), y, cov(col(x, 0), y) / cov(col(x, 0), col(x, 0)), (r) => r[0]!),
  'lnBetaTotal, lnBetaRatio as instrument': (x, y) =>
    line(col(x, 0), y, cov(col(x, 1), y) / cov(col(x, 1), col(x, 0)), (r) => r[0]!),
  'lnBetaRatio, lnBetaTotal as instrument': (x, y) =>
    line(col(x, 1), y, cov(col(x, 0), y) / cov(col(x, 0), col(x, 1)), (r) => r[1]!),
  'their mean, both as instruments': (x, y) => {
    const a = x.map(avg);
    const slope = (cov(col(x, 0), y) + cov(col(x, 1), y)) / (cov(col(x, 0), a) + cov(col(x, 1), a));
    return line(a, y, slope, avg);
  },
  'geometric-mean slope on lnBetaTotal': (x, y) => {
    const a = col(x, 0);
    return line(a, y, Math.sign(cov(a, y)) * Math.sqrt(cov(y, y) / cov(a, a)), (r) => r[0]!);
  },
  'slope 1 on lnBetaTotal': (x, y) => line(col(x, 0), y, 1, (r) => r[0]!),
  ...Object.fromEntries(
    [4, 16, 64].flatMap((l) => [
      [`+ sin(sun elevation), ridge ${l}`, ridge([0, 1, 2], l)],
      [`+ ln air mass, ridge ${l}`, ridge([0, 1, 3], l)],
    ]),
  ),
};

console.log(`rolling origin before ${until.toISOString()}: ${frames.length} gated frames`);
for (const windowDays of [30, 60]) {
  for (const [name, fit] of Object.entries(models)) {
    const fc: Forecast[] = [];
    for (const origin of origins(frames, opts)) {
      const known = frames
        .map((f, i) => ({ f, i }))
        .filter(({ f }) => f.pm25 !== undefined && f.pm25 > 0 && f.ts + opts.delayMs <= origin);
      const last = known.at(-1)!.f.ts;
      const train = known.filter(({ f }) => f.ts >= last - windowDays * DAY_MS);
      const predict = fit(
        train.map(({ i }) => xs[i]!),
        train.map(({ f }) => Math.log(f.pm25!)),
      );
      frames.forEach((f, i) => {
        if (f.pm25 === undefined || f.ts < origin || f.ts >= origin + opts.horizonMs) return;
        const pm25 = Math.exp(predict(xs[i]!));
        fc.push({ origin, ts: f.ts, truth: f.pm25, pm25, i80: [pm25, pm25], i95: [pm25, pm25] });
      });
    }
    const s = scoreForecasts(fc);
    console.log(
      `${windowDays} d  ${name.padEnd(48)} n ${s.n}  MAE ${s.MAE.toFixed(2)}  RMSE ${s.RMSE.toFixed(2)}  ` +
        `R² ${s.R2.toFixed(2)}  bias ${s.bias >= 0 ? '+' : ''}${s.bias.toFixed(2)}`,
    );
  }
}
