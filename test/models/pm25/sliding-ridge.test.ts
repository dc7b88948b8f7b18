import { describe, expect, it } from 'vitest';
import { ridgeToward } from '../../../models/pm25/ridge.js';
import { SlidingRidgeSums } from '../../../models/pm25/sliding-ridge.js';

const DAY = 86_400_000;
const target = { intercept: 3, slopes: [0.8, -0.2] };

/** Deterministic pseudo-random pairs a few hours apart, ln β-like regressors with a real relation to y. */
function pairs(n: number) {
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, k) => {
    const x = [-5 + rnd(), rnd() - 0.5];
    return {
      ts: k * 3 * 3_600_000 + Math.floor(rnd() * 3_600_000),
      x,
      y: 3 + 0.9 * (x[0]! + 5) + 0.3 * x[1]! + rnd() * 0.4,
    };
  });
}

// The rolling-origin forecast residuals refit once per pair on a sliding window: from running sums instead of
// from scratch. The fits must be ridgeToward's, with and without forgetting, as pairs join and leave.
describe('SlidingRidgeSums', () => {
  for (const halfLifeDays of [undefined, 7]) {
    it(`gives ridgeToward's fit on the window as it slides (half-life ${halfLifeDays ?? 'none'})`, () => {
      const all = pairs(400);
      const span = 20 * DAY;
      const sums = new SlidingRidgeSums(2, halfLifeDays === undefined ? undefined : halfLifeDays * DAY);
      let lo = 0;
      let checked = 0;
      for (let hi = 0; hi < all.length; hi++) {
        sums.add(all[hi]!);
        while (all[lo]!.ts < all[hi]!.ts - span) sums.remove(all[lo++]!);
        if (hi % 7) continue;
        const window = all.slice(lo, hi + 1);
        const now = all[hi]!.ts;
        const weights =
          halfLifeDays === undefined
            ? undefined
            : window.map((p) => 2 ** (-(now - p.ts) / (halfLifeDays * DAY)));
        const direct = ridgeToward(
          window.map((p) => p.x),
          window.map((p) => p.y),
          target,
          4,
          weights,
        );
        const slid = sums.solve(target, 4);
        expect(slid.intercept).toBeCloseTo(direct.intercept, 9);
        slid.slopes.forEach((b, j) => expect(b).toBeCloseTo(direct.slopes[j]!, 9));
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
    });
  }

  it('with no pair, is the target', () => {
    expect(new SlidingRidgeSums(2, undefined).solve(target, 4)).toEqual(target);
  });
});
