import { describe, expect, it } from 'vitest';
import { Pm25Prior, Pm25Regressor } from '../../../config/pm25-schema.js';
import { BETA_FLOOR, priorPm25 } from '../../../models/pm25/physical-prior.js';
import type { PhysicsFeatures } from '../../../models/pm25/physics.js';
import { REGRESSORS, regressorPrior, regressorValues } from '../../../models/pm25/regressors.js';

const defaults = Pm25Prior.parse({}); // β₀ = 0.012 /km, k = 4 m²/g

function physics(overrides: Partial<PhysicsFeatures> = {}): PhysicsFeatures {
  return {
    airlight: [0.8, 0.85, 0.9],
    skyLuminance: 0.6,
    skyBlueRed: 1.25,
    skySaturation: 0.1,
    targets: [],
    beta: 0.212,
    betaRatio: 0.3,
    visibilityKm: 3.912 / 0.212,
    angstrom: 1.3,
    sharpness: 0.2,
    targetExcess: 0,
    clipped: 0,
    ...overrides,
  };
}
const value = (name: Pm25Regressor, p: PhysicsFeatures, prior = defaults) => REGRESSORS[name].value(prior, p);

describe('site-model regressors', () => {
  it('defines every regressor the config schema accepts', () => {
    expect(Object.keys(REGRESSORS).sort()).toEqual([...Pm25Regressor.options].sort());
  });

  it('pulls log extinction toward slope 1 (PM2.5 ∝ β) and every other regressor toward 0', () => {
    expect(REGRESSORS.lnBeta.prior).toBe(1);
    expect(REGRESSORS.lnBetaTotal.prior).toBe(1);
    expect(REGRESSORS.lnBetaRatio.prior).toBe(0);
    expect(REGRESSORS.angstrom.prior).toBe(0);
    expect(REGRESSORS.lnSkyLuminance.prior).toBe(0);
    expect(REGRESSORS.lnSkyBlueRed.prior).toBe(0);
  });

  it('lnBeta is ln(β − β₀), floored at BETA_FLOOR', () => {
    expect(value('lnBeta', physics({ beta: 0.212 }))).toBeCloseTo(Math.log(0.2), 12);
    expect(value('lnBeta', physics({ beta: 0.012 }))).toBeCloseTo(Math.log(BETA_FLOOR), 12);
    expect(value('lnBeta', physics({ beta: 0.001 }))).toBeCloseTo(Math.log(BETA_FLOOR), 12);
  });

  it('lnBetaTotal is ln β without β₀, floored at max(BETA_FLOOR, β₀/10)', () => {
    expect(value('lnBetaTotal', physics({ beta: 0.212 }))).toBeCloseTo(Math.log(0.212), 12);
    // Clean air keeps its own value instead of dropping to the floor as lnBeta does.
    expect(value('lnBetaTotal', physics({ beta: 0.012 }))).toBeCloseTo(Math.log(0.012), 12);
    expect(value('lnBetaTotal', physics({ beta: 0.0005 }))).toBeCloseTo(Math.log(0.0012), 12);
    // With a tiny β₀ the fixed floor wins.
    const tiny = { ...defaults, beta0PerKm: 0.001 };
    expect(value('lnBetaTotal', physics({ beta: 1e-5 }), tiny)).toBeCloseTo(Math.log(BETA_FLOOR), 12);
    // No usable target (β NaN): the floor, not NaN, so a fit never sees a NaN.
    expect(value('lnBetaTotal', physics({ beta: NaN }))).toBeCloseTo(Math.log(0.0012), 12);
  });

  it('lnBetaRatio is ln of the contrast-ratio β with the same floor as lnBetaTotal', () => {
    expect(value('lnBetaRatio', physics({ betaRatio: 0.3 }))).toBeCloseTo(Math.log(0.3), 12);
    expect(value('lnBetaRatio', physics({ betaRatio: -0.05 }))).toBeCloseTo(Math.log(0.0012), 12);
    expect(value('lnBetaRatio', physics({ betaRatio: NaN }))).toBeCloseTo(Math.log(0.0012), 12);
    // It reads betaRatio, not beta.
    expect(value('lnBetaRatio', physics({ beta: 5, betaRatio: 0.3 }))).toBeCloseTo(Math.log(0.3), 12);
  });

  it('angstrom is clamped to [−1, 5], and a missing one reads as a typical 1.5', () => {
    expect(value('angstrom', physics({ angstrom: 1.3 }))).toBe(1.3);
    expect(value('angstrom', physics({ angstrom: -1 }))).toBe(-1);
    expect(value('angstrom', physics({ angstrom: -3 }))).toBe(-1);
    expect(value('angstrom', physics({ angstrom: 5 }))).toBe(5);
    expect(value('angstrom', physics({ angstrom: 12 }))).toBe(5);
    expect(value('angstrom', physics({ angstrom: NaN }))).toBe(1.5);
    expect(value('angstrom', physics({ angstrom: Infinity }))).toBe(1.5);
  });

  it('the sky regressors are logs floored at 1e-3', () => {
    expect(value('lnSkyLuminance', physics({ skyLuminance: 0.6 }))).toBeCloseTo(Math.log(0.6), 12);
    expect(value('lnSkyLuminance', physics({ skyLuminance: 0 }))).toBeCloseTo(Math.log(1e-3), 12);
    expect(value('lnSkyLuminance', physics({ skyLuminance: NaN }))).toBeCloseTo(Math.log(1e-3), 12);
    expect(value('lnSkyBlueRed', physics({ skyBlueRed: 1.25 }))).toBeCloseTo(Math.log(1.25), 12);
    expect(value('lnSkyBlueRed', physics({ skyBlueRed: 1e-4 }))).toBeCloseTo(Math.log(1e-3), 12);
    expect(value('lnSkyBlueRed', physics({ skyBlueRed: -Infinity }))).toBeCloseTo(Math.log(1e-3), 12);
  });

  it('regressorValues returns the values in the order the names are given', () => {
    const p = physics();
    expect(regressorValues(defaults, p, ['lnSkyLuminance', 'lnBeta', 'angstrom'])).toEqual([
      Math.log(0.6),
      Math.log(0.212 - 0.012),
      1.3,
    ]);
    expect(regressorValues(defaults, p, ['angstrom', 'lnSkyLuminance'])).toEqual([1.3, Math.log(0.6)]);
  });

  it('regressorPrior is the physical prior itself: intercept ln(1000/k), slopes in name order', () => {
    const target = regressorPrior(defaults, ['lnSkyLuminance', 'lnBeta', 'lnBetaRatio']);
    expect(target.intercept).toBeCloseTo(Math.log(250), 12);
    expect(target.slopes).toEqual([0, 1, 0]);
    expect(regressorPrior({ ...defaults, massExtinction: 8 }, ['lnBeta']).intercept).toBeCloseTo(
      Math.log(125),
      12,
    );
  });

  it('a site model at the prior coefficients predicts exactly the prior’s PM2.5', () => {
    const names = ['lnBeta', 'lnSkyLuminance', 'angstrom'] as const;
    const prior = { ...defaults, massExtinction: 3.2, beta0PerKm: 0.02 };
    for (const beta of [0.001, 0.05, 0.3, 1.7]) {
      const p = physics({ beta });
      const x = regressorValues(prior, p, names);
      const { intercept, slopes } = regressorPrior(prior, names);
      const lnPm = intercept + slopes.reduce((s, b, j) => s + b * x[j]!, 0);
      expect(Math.exp(lnPm)).toBeCloseTo(priorPm25(prior, p), 10);
    }
  });
});
