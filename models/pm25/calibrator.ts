import type { Pm25Calibration, Pm25Prior } from '../../config/pm25-schema.js';
import {
  conformalQuantile,
  initialConformal,
  updateConformal,
  type ConformalState,
} from './adaptive-conformal.js';
import { Z80, Z95, priorCoefficients } from './physical-prior.js';
import { ridgeToward } from './ridge.js';

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
  pairs: CalibrationPair[];
  /** Prequential |log residual| of each pair, scored before the pair joined the fit, with its time. */
  scores: { ts: number; score: number }[];
  conformal: ConformalState[];
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
/** Pairs needed before a site model is fitted at all (it has three coefficients). */
const MIN_FIT = 4;

/**
 * Per-site model ln PM2.5 = a + b·x, fitted by ridge regression toward the physical prior on a rolling window
 * of paired readings (so it follows the seasons), with adaptive conformal bands on its log residuals.
 */
export class Calibrator {
  private snap: CalibratorSnapshot;

  constructor(
    private readonly cfg: Pm25Calibration,
    private readonly prior: Pm25Prior,
    snapshot?: CalibratorSnapshot,
  ) {
    this.snap = snapshot ?? {
      pairs: [],
      scores: [],
      conformal: [initialConformal(0.2), initialConformal(0.05)],
      model: null,
      sinceRefit: 0,
      lastRefit: null,
      totalPairs: 0,
    };
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

  /** Adds a paired reading: score it against the current model, slide the window, refit when due. */
  add(pair: CalibrationPair): void {
    const s = this.snap;
    if (s.model) {
      const score = Math.abs(pair.y - this.predictLog(pair.x));
      const past = s.scores.map((e) => e.score);
      for (const c of s.conformal) updateConformal(c, past, score, this.cfg.aciGamma);
      s.scores.push({ ts: pair.ts, score });
    }
    s.pairs.push(pair);
    s.totalPairs++;
    s.sinceRefit++;
    const horizon = pair.ts - this.cfg.windowDays * 86_400_000;
    s.pairs = s.pairs.filter((p) => p.ts >= horizon);
    s.scores = s.scores.filter((e) => e.ts >= horizon);
    const due = s.model === null ? s.pairs.length >= MIN_FIT : s.sinceRefit >= this.cfg.refitEvery;
    if (due) this.refit(pair.ts);
  }

  private refit(now: number): void {
    const target = priorCoefficients(this.prior);
    const pairs = this.snap.pairs;
    this.snap.model = ridgeToward(
      pairs.map((p) => p.x),
      pairs.map((p) => p.y),
      target,
      this.cfg.ridge,
    );
    this.snap.sinceRefit = 0;
    this.snap.lastRefit = now;
  }

  private predictLog(x: number[]): number {
    const m = this.snap.model!;
    return m.slopes.reduce((acc, b, i) => acc + b * x[i]!, m.intercept);
  }

  /** Site-model estimate with conformal bands; undefined when uncalibrated (the caller reports the prior). */
  estimate(x: number[], priorLogSd: number): Interval | undefined {
    if (!this.snap.model) return undefined;
    const centre = this.predictLog(x);
    const scores = this.snap.scores.map((e) => e.score);
    const half = (c: ConformalState, z: number) =>
      scores.length >= MIN_SCORES ? conformalQuantile(scores, c.alphaT) : z * priorLogSd;
    const band = (h: number): [number, number] => [Math.exp(centre - h), Math.exp(centre + h)];
    return {
      pm25: Math.exp(centre),
      i80: band(half(this.snap.conformal[0]!, Z80)),
      i95: band(half(this.snap.conformal[1]!, Z95)),
    };
  }
}
