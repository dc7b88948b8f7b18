import type { Pm25Calibration, Pm25Prior } from '../../config/pm25-schema.js';
import {
  conformalQuantile,
  initialConformal,
  updateConformal,
  type ConformalState,
} from './adaptive-conformal.js';
import { Z80, Z95 } from './physical-prior.js';
import { regressorPrior } from './regressors.js';
import { ridgeToward } from './ridge.js';
import { SlidingRidgeSums } from './sliding-ridge.js';

export type CalibrationState = 'uncalibrated' | 'calibrating' | 'calibrated';

/** One co-located reading paired with the regressors of the frame evaluated nearest to it. */
export interface CalibrationPair {
  ts: number;
  x: number[];
  /** ln PM2.5. */
  y: number;
}

export interface SiteModel {
  intercept: number;
  slopes: number[];
}

/** Everything the calibrator needs to resume after a restart (JSON-serialisable). */
export interface CalibratorSnapshot {
  /** The regressors the pairs' `x` hold (absent in states written before the set was configurable). */
  features?: string[];
  pairs: CalibrationPair[];
  /** Prequential |log residual| of each pair, scored before the pair joined the fit, with its time. */
  scores: { ts: number; score: number }[];
  conformal: ConformalState[];
  /** |log residual| of each pair against a model fitted only on pairs older than `forecastLagDays`. */
  forecastScores?: number[];
  model: SiteModel | null;
  sinceRefit: number;
  lastRefit: number | null;
  totalPairs: number;
}

export interface CalibrationStatus {
  state: CalibrationState;
  samples: number;
  lastRefit: string | null;
}

export interface Interval {
  pm25: number;
  i80: [number, number];
  i95: [number, number];
}

/** Scores needed before conformal bands replace the prior's log-normal spread. */
const MIN_SCORES = 10;
/** Pairs needed before a site model is fitted at all (it has up to five coefficients). */
const MIN_FIT = 4;
/** Older pairs a forecast residual's model needs before the residual counts. */
const MIN_FORECAST_FIT = 10;
const DAY_MS = 86_400_000;
/** The regressors of states written before the set was configurable. */
const LEGACY_FEATURES = ['lnBeta', 'lnSkyLuminance'];

/**
 * Per-site model ln PM2.5 = a + b·x, fitted by ridge regression toward the physical prior on a rolling window
 * of paired readings, optionally weighted by exponential forgetting (so it follows the seasons), with
 * conformal bands on its log residuals: prequential with adaptive conformal inference, or forecast residuals
 * at a lag (what an estimate weeks after the sensor's last reading gets wrong).
 */
export class Calibrator {
  private snap: CalibratorSnapshot;

  constructor(
    private readonly cfg: Pm25Calibration,
    private readonly prior: Pm25Prior,
    snapshot?: CalibratorSnapshot,
  ) {
    const fresh: CalibratorSnapshot = {
      features: [...cfg.features],
      pairs: [],
      scores: [],
      conformal: [initialConformal(0.2), initialConformal(0.05)],
      model: null,
      sinceRefit: 0,
      lastRefit: null,
      totalPairs: 0,
    };
    // Pairs and a model persisted for another regressor set are meaningless now: calibration starts over.
    const saved = (snapshot?.features ?? LEGACY_FEATURES).join();
    // In time order, as add() keeps them (a state saved before it did may not be): forecastScores needs it.
    this.snap =
      snapshot && saved === cfg.features.join()
        ? {
            ...snapshot,
            features: [...cfg.features],
            pairs: [...snapshot.pairs].sort((a, b) => a.ts - b.ts),
          }
        : fresh;
  }

  snapshot(): CalibratorSnapshot {
    return structuredClone(this.snap);
  }

  status(): CalibrationStatus {
    const n = this.snap.pairs.length;
    const state: CalibrationState =
      this.snap.model === null || n === 0
        ? 'uncalibrated'
        : n < this.cfg.minSamples
          ? 'calibrating'
          : 'calibrated';
    return {
      state,
      samples: n,
      lastRefit: this.snap.lastRefit === null ? null : new Date(this.snap.lastRefit).toISOString(),
    };
  }

  /** Whether a reading at `ts` is already paired (in the window). */
  hasPairAt(ts: number): boolean {
    return this.snap.pairs.some((p) => p.ts === ts);
  }

  /** Whether a pair less than `spacingMs` from `ts` is in the window. */
  hasPairNear(ts: number, spacingMs: number): boolean {
    return this.snap.pairs.some((p) => Math.abs(p.ts - ts) < spacingMs);
  }

  /** Adds a paired reading: score it against the current model, slide the window, refit when due. */
  add(pair: CalibrationPair): void {
    const s = this.snap;
    if (s.model) {
      const score = Math.abs(pair.y - this.predictLog(pair.x));
      const past = s.scores.map((e) => e.score);
      for (const c of s.conformal) updateConformal(c, past, score, this.cfg.aciGamma);
      s.scores.push({ ts: pair.ts, score });
    }
    // Kept in time order: a late reading (a gateway's backlog, up to the hours frames are kept) once refit
    // at its own time, so lastRefit went back and the window and forgetting were measured from the past.
    s.pairs.splice(s.pairs.findLastIndex((p) => p.ts <= pair.ts) + 1, 0, pair);
    s.totalPairs++;
    s.sinceRefit++;
    const newest = s.pairs.at(-1)!.ts;
    const horizon = newest - this.cfg.windowDays * DAY_MS;
    s.pairs = s.pairs.filter((p) => p.ts >= horizon);
    s.scores = s.scores.filter((e) => e.ts >= horizon);
    const due = s.model === null ? s.pairs.length >= MIN_FIT : s.sinceRefit >= this.cfg.refitEvery;
    if (due) this.refit(newest);
  }

  private refit(now: number): void {
    this.snap.model = this.fit(this.snap.pairs, now);
    if (this.cfg.intervals === 'forecast') this.snap.forecastScores = this.forecastScores();
    this.snap.sinceRefit = 0;
    this.snap.lastRefit = now;
  }

  /** Ridge toward the prior on `pairs`, each weighted by its age at `now` when forgetting is on. */
  private fit(pairs: readonly CalibrationPair[], now: number): SiteModel {
    const half = this.cfg.halfLifeDays;
    return ridgeToward(
      pairs.map((p) => p.x),
      pairs.map((p) => p.y),
      regressorPrior(this.prior, this.cfg.features),
      this.cfg.ridge,
      half === undefined ? undefined : pairs.map((p) => 2 ** (-(now - p.ts) / (half * DAY_MS))),
    );
  }

  /**
   * Rolling-origin residuals inside the window: each pair against the model the calibrator would have fitted
   * `forecastLagDays` before it. They include the drift of the weeks in between, which in-sample or
   * one-step residuals miss.
   */
  private forecastScores(): number[] {
    const lag = this.cfg.forecastLagDays * DAY_MS;
    const span = this.cfg.windowDays * DAY_MS;
    const half = this.cfg.halfLifeDays;
    const pairs = this.snap.pairs;
    const target = regressorPrior(this.prior, this.cfg.features);
    // The training pairs of each origin, [lo, hi) in time order: both ends only move forward.
    const sums = new SlidingRidgeSums(
      this.cfg.features.length,
      half === undefined ? undefined : half * DAY_MS,
    );
    let lo = 0;
    let hi = 0;
    let model: { lo: number; hi: number; fit: SiteModel } | undefined;
    const scores: number[] = [];
    for (const p of pairs) {
      const origin = p.ts - lag;
      while (hi < pairs.length && pairs[hi]!.ts < origin) sums.add(pairs[hi++]!);
      while (lo < hi && pairs[lo]!.ts < origin - span) sums.remove(pairs[lo++]!);
      if (hi - lo < MIN_FORECAST_FIT) continue;
      if (model?.lo !== lo || model.hi !== hi) model = { lo, hi, fit: sums.solve(target, this.cfg.ridge) };
      scores.push(Math.abs(p.y - predict(model.fit, p.x)));
    }
    return scores;
  }

  private predictLog(x: number[]): number {
    return predict(this.snap.model!, x);
  }

  /** Site-model estimate with conformal bands; undefined when uncalibrated (the caller reports the prior). */
  estimate(x: number[], priorLogSd: number): Interval | undefined {
    if (!this.snap.model) return undefined;
    const centre = this.predictLog(x);
    const forecast = this.cfg.intervals === 'forecast' ? (this.snap.forecastScores ?? []) : [];
    const prequential = this.snap.scores.map((e) => e.score);
    // Forecast bands use the target level itself: with no labels after the sensor goes, α_t cannot adapt.
    const half = (c: ConformalState, z: number) =>
      forecast.length >= MIN_SCORES
        ? conformalQuantile(forecast, c.alpha)
        : prequential.length >= MIN_SCORES
          ? conformalQuantile(prequential, c.alphaT)
          : z * priorLogSd;
    const band = (h: number): [number, number] => [Math.exp(centre - h), Math.exp(centre + h)];
    const h80 = half(this.snap.conformal[0]!, Z80);
    // Each level adapts on its own, so a run of misses can push the 80 % band past the 95 % one: the 95 %
    // band is never the narrower (nested bands are what a reader of lo95 ≤ lo80 ≤ hi80 ≤ hi95 assumes).
    const h95 = Math.max(half(this.snap.conformal[1]!, Z95), h80);
    return { pm25: Math.exp(centre), i80: band(h80), i95: band(h95) };
  }
}

function predict(m: SiteModel, x: readonly number[]): number {
  return m.slopes.reduce((acc, b, i) => acc + b * x[i]!, m.intercept);
}
