import { describe, expect, it } from 'vitest';
import { kolmogorovQ, ks, ksPValue } from '../../../pipeline/drift/ks.js';

describe('two-sample KS on binned data', () => {
  it('D is the largest gap of the CDFs at the bin edges; p from the effective sample size', () => {
    // CDFs: window 0.1, 0.3, 1.0; reference 0.4, 0.8, 1.0 → gaps 0.3, 0.5, 0
    const r = ks([1, 2, 7], [4, 4, 2])!;
    expect(r.d).toBeCloseTo(0.5, 12);
    expect(r.ne).toBeCloseTo(5, 12); // 10·10/(10+10)
    const lambda = (Math.sqrt(5) + 0.12 + 0.11 / Math.sqrt(5)) * 0.5;
    const q = 2 * (Math.exp(-2 * lambda ** 2) - Math.exp(-8 * lambda ** 2) + Math.exp(-18 * lambda ** 2));
    expect(r.p).toBeCloseTo(q, 6);
  });

  it('unequal sample sizes: ne = n·m/(n+m)', () => {
    const r = ks([0, 30], [10, 90])!;
    expect(r.d).toBeCloseTo(0.1, 12);
    expect(r.ne).toBeCloseTo((30 * 100) / 130, 12);
    expect(r.p).toBeCloseTo(ksPValue(0.1, (30 * 100) / 130), 12);
  });

  it('identical shares: D = 0, p = 1; disjoint: D = 1', () => {
    expect(ks([2, 4, 6], [1, 2, 3])).toMatchObject({ d: 0, p: 1 });
    expect(ks([5, 0], [0, 5])!.d).toBe(1);
    expect(ks([0, 0], [1, 1])).toBeNull();
  });

  it('the Kolmogorov distribution matches the tabulated critical values', () => {
    // K(λ) critical values: 1.2238 (α = 0.10), 1.3581 (0.05), 1.6276 (0.01); Q(0.8) = 1 − 0.4559
    expect(kolmogorovQ(1.2238)).toBeCloseTo(0.1, 4);
    expect(kolmogorovQ(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovQ(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovQ(0.8)).toBeCloseTo(0.5441, 4);
    // both series agree where they meet
    expect(kolmogorovQ(1.18 - 1e-12)).toBeCloseTo(kolmogorovQ(1.18), 10);
    expect(kolmogorovQ(0)).toBe(1);
  });
});
