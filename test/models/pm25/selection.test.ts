import { describe, expect, it } from 'vitest';
import { Pm25Calibration, Pm25Prior } from '../../../config/pm25-schema.js';
import type { PhysicsFeatures } from '../../../models/pm25/physics.js';
import {
  DEFAULT_PROTOCOL,
  rollingOrigin,
  scoreForecasts,
  selectCalibration,
  type SelectionFrame,
} from '../../../models/pm25/selection.js';

/** Deterministic uniform draws (mulberry32). */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The physics fields the regressors read; the rest are neutral. */
function physics(beta: number, betaRatio: number): PhysicsFeatures {
  return {
    airlight: [0.7, 0.7, 0.7],
    skyLuminance: 0.7,
    skyBlueRed: 1.4,
    skySaturation: 0.3,
    targets: [],
    beta,
    betaRatio,
    visibilityKm: 3.912 / beta,
    angstrom: 1.5,
    sharpness: 2,
    targetExcess: -0.5,
    clipped: 0,
  };
}

const DAY = 86_400_000;
const prior = Pm25Prior.parse({});

/**
 * 80 days of 6 daytime frames a day. PM2.5 follows the near/far contrast ratio's β (not the dark-channel β,
 * which is noise here), times a level that falls by half over the period (the season).
 */
function synthetic(seed: number, days = 80): SelectionFrame[] {
  const u = uniforms(seed);
  const frames: SelectionFrame[] = [];
  for (let d = 0; d < days; d++)
    for (let h = 0; h < 6; h++) {
      const betaRatio = 0.01 + 0.15 * u();
      const level = Math.exp(-Math.log(2) * (d / days));
      const noise = Math.exp(0.25 * (u() + u() + u() - 1.5));
      frames.push({
        ts: d * DAY + (9 + h) * 3_600_000,
        physics: physics(0.005 + 0.2 * u(), betaRatio),
        pm25: 400 * betaRatio * level * noise,
      });
    }
  return frames;
}

describe('rolling-origin selection of the site model (calibration period only)', () => {
  const frames = synthetic(11);
  const opts = { ...DEFAULT_PROTOCOL, end: 70 * DAY };

  it('never reads a frame or label at or after the end of the calibration period', () => {
    // Poison after the end: if any of it leaked in, forecasts or fits would change.
    const poisoned = frames.map((f) => (f.ts >= opts.end ? { ...f, pm25: 1e6 } : f));
    const cal = Pm25Calibration.parse({ features: ['lnBetaRatio'] });
    const clean = rollingOrigin(frames, cal, prior, opts);
    expect(clean.length).toBeGreaterThan(50);
    expect(Math.max(...clean.map((f) => f.ts))).toBeLessThan(opts.end);
    expect(rollingOrigin(poisoned, cal, prior, opts)).toEqual(clean);
  });

  it('picks the regressor that carries the signal, and scores forecasts out of period', () => {
    const candidates = [
      Pm25Calibration.parse({ features: ['lnBetaTotal'], ridge: 1 }),
      Pm25Calibration.parse({ features: ['lnBetaRatio'], ridge: 1 }),
    ];
    const result = selectCalibration(frames, prior, opts, candidates);
    expect(result.chosen.features).toEqual(['lnBetaRatio']);
    const [noise, signal] = result.point.map((p) => p.score);
    expect(signal!.RMSE).toBeLessThan(noise!.RMSE);
    expect(signal!.R2).toBeGreaterThan(0.3);
    expect(signal!.origins).toBeGreaterThanOrEqual(5);
  });

  it('forgetting follows the falling level, and forecast residuals give bands that cover weeks ahead', () => {
    const base = { features: ['lnBetaRatio'] as const, ridge: 1, windowDays: 60 };
    const flat = scoreForecasts(rollingOrigin(frames, Pm25Calibration.parse(base), prior, opts));
    const forget = scoreForecasts(
      rollingOrigin(frames, Pm25Calibration.parse({ ...base, halfLifeDays: 7 }), prior, opts),
    );
    // The level falls, so a model that remembers everything over-estimates the weeks after each origin.
    expect(flat.bias).toBeGreaterThan(0);
    expect(Math.abs(forget.bias)).toBeLessThan(flat.bias);

    const pre = scoreForecasts(
      rollingOrigin(frames, Pm25Calibration.parse({ ...base, intervals: 'prequential' }), prior, opts),
    );
    const fc = scoreForecasts(
      rollingOrigin(
        frames,
        Pm25Calibration.parse({ ...base, intervals: 'forecast', forecastLagDays: 14 }),
        prior,
        opts,
      ),
    );
    // One-step residuals miss the drift of the weeks ahead; lagged-forecast residuals include it.
    expect(fc.coverage80).toBeGreaterThan(pre.coverage80);
    expect(fc.width80).toBeGreaterThan(pre.width80);
  });
});
