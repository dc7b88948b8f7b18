import { Pm25Calibration, type Pm25Prior } from '../../config/pm25-schema.js';
import { Calibrator } from './calibrator.js';
import type { PhysicsFeatures } from './physics.js';
import { regressorValues } from './regressors.js';

/**
 * Model selection by rolling-origin validation inside the calibration period only: for each weekly origin,
 * the calibrator gets the readings before it (as the sensor would have delivered them) and forecasts the
 * labelled frames of the following weeks with no further readings — the same situation as after the sensor
 * is removed. Nothing after the calibration period is read, so the chosen settings are not tuned to the test.
 */

/** A frame that passed the gates, with its physics and (when the sensor had one) the reading of its hour. */
export interface SelectionFrame {
  ts: number;
  physics: PhysicsFeatures;
  pm25?: number;
}

export interface Forecast {
  origin: number;
  ts: number;
  truth: number;
  pm25: number;
  i80: [number, number];
  i95: [number, number];
}

export interface ValidationScore {
  n: number;
  origins: number;
  MAE: number;
  RMSE: number;
  /** Mean over origins of R² against that origin's own forecast period (as a test month is scored). */
  R2: number;
  bias: number;
  coverage80: number;
  coverage95: number;
  width80: number;
}

export interface ProtocolOptions {
  /** Readings reach the calibrator this long after their time (hourly means). */
  delayMs: number;
  /** Weeks forecast after each origin without readings. */
  horizonMs: number;
  /** End of the calibration period: nothing at or after it is read. */
  end: number;
  /** Readings needed before the first origin. */
  minTrainPairs: number;
  stepMs: number;
}

export const DEFAULT_PROTOCOL = {
  delayMs: 3_600_000,
  horizonMs: 28 * 86_400_000,
  minTrainPairs: 30,
  stepMs: 7 * 86_400_000,
} satisfies Omit<ProtocolOptions, 'end'>;

/** Weekly origins from the first time `minTrainPairs` readings were in, to a week before the end. */
export function origins(frames: readonly SelectionFrame[], opts: ProtocolOptions): number[] {
  const labelled = frames.filter((f) => f.pm25 !== undefined && f.ts < opts.end).map((f) => f.ts);
  const first = labelled[opts.minTrainPairs - 1];
  if (first === undefined) return [];
  const out: number[] = [];
  for (let o = first + opts.delayMs; o <= opts.end - opts.stepMs; o += opts.stepMs) out.push(o);
  return out;
}

/** Forecasts of every origin with one calibration setting. */
export function rollingOrigin(
  frames: readonly SelectionFrame[],
  cal: Pm25Calibration,
  prior: Pm25Prior,
  opts: ProtocolOptions,
): Forecast[] {
  const sorted = [...frames].filter((f) => f.ts < opts.end).sort((a, b) => a.ts - b.ts);
  const xs = sorted.map((f) => regressorValues(prior, f.physics, cal.features));
  const out: Forecast[] = [];
  for (const origin of origins(sorted, opts)) {
    const calibrator = new Calibrator(cal, prior);
    sorted.forEach((f, i) => {
      if (f.pm25 !== undefined && f.pm25 > 0 && f.ts + opts.delayMs <= origin)
        calibrator.add({ ts: f.ts, x: xs[i]!, y: Math.log(f.pm25) });
    });
    sorted.forEach((f, i) => {
      if (f.pm25 === undefined || f.ts < origin || f.ts >= origin + opts.horizonMs) return;
      const est = calibrator.estimate(xs[i]!, prior.logSd);
      if (est) out.push({ origin, ts: f.ts, truth: f.pm25, ...est });
    });
  }
  return out;
}

export function scoreForecasts(fc: readonly Forecast[]): ValidationScore {
  const n = fc.length;
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  const err = fc.map((f) => f.pm25 - f.truth);
  const byOrigin = new Map<number, Forecast[]>();
  for (const f of fc) byOrigin.set(f.origin, [...(byOrigin.get(f.origin) ?? []), f]);
  let r2 = 0;
  let r2n = 0;
  for (const block of byOrigin.values()) {
    const m = mean(block.map((f) => f.truth));
    const ss = block.reduce((s, f) => s + (f.truth - m) ** 2, 0);
    if (block.length < 5 || ss <= 0) continue;
    r2 += block.length * (1 - block.reduce((s, f) => s + (f.pm25 - f.truth) ** 2, 0) / ss);
    r2n += block.length;
  }
  const inside = (b: [number, number], t: number) => (b[0] <= t && t <= b[1] ? 1 : 0);
  return {
    n,
    origins: byOrigin.size,
    MAE: mean(err.map(Math.abs)),
    RMSE: Math.sqrt(mean(err.map((e) => e * e))),
    R2: r2n ? r2 / r2n : NaN,
    bias: mean(err),
    coverage80: mean(fc.map((f) => inside(f.i80, f.truth))),
    coverage95: mean(fc.map((f) => inside(f.i95, f.truth))),
    width80: mean(fc.map((f) => f.i80[1] - f.i80[0])),
  };
}

/** The candidate grid: physical regressor sets × memory (window, forgetting) × pull toward the physics. */
export function pointCandidates(): Pm25Calibration[] {
  const featureSets: Pm25Calibration['features'][] = [
    ['lnBeta', 'lnSkyLuminance'],
    ['lnBeta'],
    ['lnBeta', 'angstrom'],
    ['lnBetaTotal'],
    ['lnBetaTotal', 'lnSkyLuminance'],
    ['lnBetaTotal', 'angstrom'],
    ['lnBetaTotal', 'lnBetaRatio'],
    ['lnBetaTotal', 'lnSkyBlueRed'],
    ['lnBetaTotal', 'angstrom', 'lnSkyLuminance'],
  ];
  const out: Pm25Calibration[] = [];
  for (const features of featureSets)
    for (const windowDays of [30, 60])
      for (const halfLifeDays of [undefined, 7, 21])
        for (const ridge of [1, 4, 16, 64])
          out.push(
            Pm25Calibration.parse({ features, windowDays, ridge, ...(halfLifeDays ? { halfLifeDays } : {}) }),
          );
  return out;
}

export function intervalCandidates(point: Pm25Calibration): Pm25Calibration[] {
  return [
    { ...point, intervals: 'prequential' },
    ...[7, 14, 28].map((forecastLagDays) => ({ ...point, intervals: 'forecast' as const, forecastLagDays })),
  ];
}

export interface SelectionResult {
  chosen: Pm25Calibration;
  /** Every candidate's validation score, point candidates first (intervals as configured), then bands. */
  point: { cal: Pm25Calibration; score: ValidationScore }[];
  intervals: { cal: Pm25Calibration; score: ValidationScore }[];
}

/**
 * Two stages: the point model with the lowest validation RMSE (µg/m³, the numerator of R²), then, for it, the
 * band method whose 80 % coverage is closest to 80 % (ties: 95 % closest to 95 %, then the narrower band).
 */
export function selectCalibration(
  frames: readonly SelectionFrame[],
  prior: Pm25Prior,
  opts: ProtocolOptions,
  candidates = pointCandidates(),
): SelectionResult {
  const point = candidates.map((cal) => ({
    cal,
    score: scoreForecasts(rollingOrigin(frames, cal, prior, opts)),
  }));
  const best = point.filter((p) => p.score.n > 0).sort((a, b) => a.score.RMSE - b.score.RMSE)[0];
  if (!best) throw new Error('rolling-origin validation: no forecasts (too few readings before the end)');
  const miss = (s: ValidationScore) => [
    Math.abs(s.coverage80 - 0.8),
    Math.abs(s.coverage95 - 0.95),
    s.width80,
  ];
  const intervals = intervalCandidates(best.cal).map((cal) => ({
    cal,
    score: scoreForecasts(rollingOrigin(frames, cal, prior, opts)),
  }));
  const chosen = [...intervals].sort((a, b) => {
    const [ma, mb] = [miss(a.score), miss(b.score)];
    return ma[0]! - mb[0]! || ma[1]! - mb[1]! || ma[2]! - mb[2]!;
  })[0]!.cal;
  return { chosen, point, intervals };
}
