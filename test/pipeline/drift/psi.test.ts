import { describe, expect, it } from 'vitest';
import { psi } from '../../../pipeline/drift/psi.js';

describe('PSI on small cases worked by hand', () => {
  it('shares 0.3/0.7 against 0.5/0.5', () => {
    // (0.3 − 0.5)·ln(0.3/0.5) + (0.7 − 0.5)·ln(0.7/0.5)
    expect(psi([30, 70], [50, 50])).toBeCloseTo(-0.2 * Math.log(0.6) + 0.2 * Math.log(1.4), 12);
    expect(psi([30, 70], [50, 50])).toBeCloseTo(0.16946, 5);
  });

  it('is symmetric and zero for equal shares, whatever the sample sizes', () => {
    expect(psi([1, 2, 3], [10, 20, 30])).toBeCloseTo(0, 12);
    expect(psi([30, 70], [50, 50])).toBeCloseTo(psi([50, 50], [30, 70]), 12);
  });

  it('gives an empty bin half a count of its own side, and ignores bins empty on both', () => {
    // window [0, 10]: shares 0.5/10 = 0.05 and 1; reference 0.5 and 0.5
    const expected = (0.05 - 0.5) * Math.log(0.05 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    expect(psi([0, 10], [5, 5])).toBeCloseTo(expected, 12);
    expect(psi([0, 0, 10, 0], [0, 5, 5, 0])).toBeCloseTo(expected, 12);
  });

  it('is NaN without samples on a side', () => {
    expect(psi([0, 0], [1, 1])).toBeNaN();
  });
});
