import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoxKalman } from '../../../pipeline/tracking/box-kalman.js';
import { linearAssignment } from '../../../pipeline/tracking/linear-assignment.js';

/** Best total cost over all assignments that use only allowed pairs and assign as many rows as possible. */
function bruteForce(cost: number[][], maxCost: number): { count: number; total: number } {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = { count: 0, total: 0 };
  const usedCols = new Set<number>();
  const visit = (r: number, count: number, total: number) => {
    if (r === rows) {
      if (count > best.count || (count === best.count && total < best.total - 1e-9)) best = { count, total };
      return;
    }
    visit(r + 1, count, total); // row r unassigned
    for (let c = 0; c < cols; c++) {
      if (usedCols.has(c) || cost[r]![c]! > maxCost) continue;
      usedCols.add(c);
      visit(r + 1, count + 1, total + cost[r]![c]!);
      usedCols.delete(c);
    }
  };
  visit(0, 0, 0);
  return best;
}

describe('linearAssignment', () => {
  it('finds a largest, then cheapest, assignment of allowed pairs (against brute force)', () => {
    const matrix = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).chain(([r, c]) =>
      fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: c, maxLength: c }), {
        minLength: r,
        maxLength: r,
      }),
    );
    fc.assert(
      fc.property(matrix, fc.double({ min: 0.1, max: 1, noNaN: true }), (cost, maxCost) => {
        const pairs = linearAssignment(cost, maxCost);
        // a valid matching of allowed pairs
        expect(new Set(pairs.map(([r]) => r)).size).toBe(pairs.length);
        expect(new Set(pairs.map(([, c]) => c)).size).toBe(pairs.length);
        for (const [r, c] of pairs) expect(cost[r]![c]!).toBeLessThanOrEqual(maxCost);
        const best = bruteForce(cost, maxCost);
        expect(pairs.length).toBe(best.count);
        const total = pairs.reduce((s, [r, c]) => s + cost[r]![c]!, 0);
        // Costs closer than 1e-6 are ties for a tracker (IoU distances); the solver may pick either.
        expect(total).toBeCloseTo(best.total, 6);
      }),
      { numRuns: 300 },
    );
  });

  it('returns nothing for an empty side', () => {
    expect(linearAssignment([], 1)).toEqual([]);
    expect(linearAssignment([[], []], 1)).toEqual([]);
  });
});

describe('BoxKalman', () => {
  it('learns a constant velocity and predicts the next box close to the truth', () => {
    const at = (t: number) => ({ x1: 100 + 80 * t, y1: 200 - 10 * t, x2: 140 + 80 * t, y2: 300 - 10 * t });
    const k = new BoxKalman(at(0));
    for (let i = 1; i <= 20; i++) {
      k.predict(0.1);
      k.update(at(i * 0.1));
    }
    k.predict(0.5); // half a second blind
    const p = k.box();
    const truth = at(2.5);
    expect(Math.abs(p.x1 - truth.x1)).toBeLessThan(2);
    expect(Math.abs(p.y2 - truth.y2)).toBeLessThan(2);
    expect(k.velocity().vx).toBeGreaterThan(75);
    expect(k.velocity().vx).toBeLessThan(85);
  });

  it('keeps the size of a lost track instead of extrapolating its growth', () => {
    const k = new BoxKalman({ x1: 0, y1: 0, x2: 40, y2: 100 });
    for (let i = 1; i <= 10; i++) {
      k.predict(0.1);
      k.update({ x1: 0, y1: 0, x2: 40 + 4 * i, y2: 100 + 10 * i });
    }
    const before = k.box();
    k.predict(2, true);
    const after = k.box();
    expect(after.y2 - after.y1).toBeCloseTo(before.y2 - before.y1, 6);
  });
});
