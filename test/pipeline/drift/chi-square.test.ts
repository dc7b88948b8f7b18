import { describe, expect, it } from 'vitest';
import { chiSquare, chiSquareSurvival, lnGamma } from '../../../pipeline/drift/chi-square.js';

describe('chi-square homogeneity test (unordered bins)', () => {
  it('a 2×3 table worked by hand: χ² = 20 on 2 df, p = e^−10', () => {
    // totals per bin 40, expected 20 on each side; deviations ±10 in bins 1 and 3
    const r = chiSquare([10, 20, 30], [30, 20, 10])!;
    expect(r.statistic).toBeCloseTo(20, 12);
    expect(r.df).toBe(2);
    expect(r.p).toBeCloseTo(Math.exp(-10), 12);
  });

  it('leaves out bins empty on both sides', () => {
    expect(chiSquare([10, 0, 20, 30], [30, 0, 20, 10])).toMatchObject({ df: 2 });
    expect(chiSquare([10, 0], [5, 0])).toBeNull();
  });

  it('the survival function matches closed forms and a tabulated value', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(7, 4)).toBeCloseTo(Math.exp(-3.5) * (1 + 3.5), 12);
    expect(chiSquareSurvival(30, 4)).toBeCloseTo(Math.exp(-15) * (1 + 15), 14);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
});
