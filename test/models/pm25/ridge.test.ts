import { describe, expect, it } from 'vitest';
import { ridgeToward } from '../../../models/pm25/ridge.js';

// A small, well-conditioned design with two regressors that are not collinear.
const xs = [
  [-4.2, 0.3],
  [-3.1, -0.4],
  [-2.5, 0.9],
  [-1.8, 0.1],
  [-0.6, -1.2],
  [0.4, 0.7],
  [1.3, -0.2],
];
const truth = { intercept: 2.5, slopes: [0.7, -1.3] };
const exact = xs.map(([a, b]) => truth.intercept + truth.slopes[0]! * a! + truth.slopes[1]! * b!);
// Residuals that do not fit any line, so the fit has something to trade off.
const noisy = exact.map((y, k) => y + [0.4, -0.3, 0.2, -0.5, 0.1, 0.6, -0.2][k]!);
const prior = { intercept: -7, slopes: [1, 0] };

const closeModel = (
  got: { intercept: number; slopes: number[] },
  want: { intercept: number; slopes: number[] },
  digits: number,
) => {
  expect(got.intercept).toBeCloseTo(want.intercept, digits);
  expect(got.slopes).toHaveLength(want.slopes.length);
  got.slopes.forEach((b, j) => expect(b).toBeCloseTo(want.slopes[j]!, digits));
};

describe('ridgeToward', () => {
  it('recovers the exact coefficients of noiseless linear data when the penalty is ~0', () => {
    closeModel(ridgeToward(xs, exact, prior, 0), truth, 9);
    closeModel(ridgeToward(xs, exact, prior, 1e-9), truth, 6);
  });

  it('matches the one-regressor closed form b = (Sxy + λ·b₀)/(Sxx + λ), intercept ȳ − b·x̄', () => {
    const x = [1, 2, 4, 7];
    const y = [3, 2, 6, 9];
    const mx = 3.5;
    const my = 5;
    const sxx = x.reduce((s, v) => s + (v - mx) ** 2, 0);
    const sxy = x.reduce((s, v, k) => s + (v - mx) * (y[k]! - my), 0);
    const lambda = 5;
    const b = (sxy + lambda * 0.25) / (sxx + lambda);
    const fit = ridgeToward(
      x.map((v) => [v]),
      y,
      { intercept: 0, slopes: [0.25] },
      lambda,
    );
    expect(fit.slopes[0]).toBeCloseTo(b, 12);
    expect(fit.intercept).toBeCloseTo(my - b * mx, 12);
  });

  it('pulls the slopes to the target slopes, not to zero, under a huge penalty; the intercept stays free', () => {
    const fit = ridgeToward(xs, noisy, prior, 1e12);
    expect(fit.slopes[0]).toBeCloseTo(1, 6);
    expect(fit.slopes[1]).toBeCloseTo(0, 6);
    // The intercept is not pulled to the target's (−7): it centres the data on the target slopes.
    const mx = [0, 1].map((j) => xs.reduce((s, x) => s + x[j]!, 0) / xs.length);
    const my = noisy.reduce((s, y) => s + y, 0) / noisy.length;
    expect(fit.intercept).toBeCloseTo(my - mx[0]! * 1 - mx[1]! * 0, 6);
    expect(fit.intercept).not.toBeCloseTo(prior.intercept, 0);
  });

  it('moves the slopes monotonically from the data toward the target as the penalty grows', () => {
    const slope0 = [0, 1, 10, 100, 1e4].map((l) => ridgeToward(xs, exact, prior, l).slopes[0]!);
    // The data say 0.7, the target says 1: each stronger penalty lands closer to 1.
    expect(slope0[0]).toBeCloseTo(0.7, 9);
    for (let i = 1; i < slope0.length; i++) {
      expect(Math.abs(1 - slope0[i]!)).toBeLessThan(Math.abs(1 - slope0[i - 1]!));
    }
  });

  it('treats absent weights as all ones', () => {
    const ones = xs.map(() => 1);
    closeModel(ridgeToward(xs, noisy, prior, 3), ridgeToward(xs, noisy, prior, 3, ones), 12);
  });

  it('ignores a pair of weight zero, however far off it is', () => {
    const base = ridgeToward(
      xs,
      noisy,
      prior,
      3,
      xs.map(() => 1),
    );
    const withOutlier = ridgeToward([...xs, [10, 10]], [...noisy, 500], prior, 3, [...xs.map(() => 1), 0]);
    closeModel(withOutlier, base, 10);
  });

  it('gives a pair of weight 2 the same fit as that pair listed twice', () => {
    const weights = xs.map((_, k) => (k === 2 ? 2 : 1));
    const weighted = ridgeToward(xs, noisy, prior, 3, weights);
    const duplicated = ridgeToward([...xs, xs[2]!], [...noisy, noisy[2]!], prior, 3);
    closeModel(weighted, duplicated, 10);
    // And it differs from the unweighted fit, so the weight was not ignored.
    expect(ridgeToward(xs, noisy, prior, 3).slopes[0]).not.toBeCloseTo(weighted.slopes[0]!, 4);
  });

  it('returns a copy of the target when there are no pairs', () => {
    const fit = ridgeToward([], [], prior, 4);
    expect(fit).toEqual(prior);
    fit.slopes[0] = 99;
    expect(prior.slopes[0]).toBe(1);
  });

  it('throws a clear error on a singular design without a penalty, and solves it with one', () => {
    // The second regressor is twice the first: X'X has rank 1.
    const collinear = xs.map(([a]) => [a!, 2 * a!]);
    expect(() => ridgeToward(collinear, noisy, prior, 0)).toThrow('singular system in ridge fit');
    // A constant regressor has zero variance once centred.
    const constant = xs.map(([a]) => [a!, 3]);
    expect(() => ridgeToward(constant, noisy, prior, 0)).toThrow(/singular/);
    // The penalty makes the system definite; the constant regressor's slope stays at its target.
    const fit = ridgeToward(constant, noisy, prior, 1);
    expect(fit.slopes[1]).toBeCloseTo(prior.slopes[1]!, 12);
  });
});
