import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../agent/mqtt/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the minimum up to the maximum', () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 10, 1000].map((a) => backoffDelay(a, 500, 30_000, mid))).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000,
    ]);
  });

  it('jitters by at most 20 % either way', () => {
    expect(backoffDelay(2, 500, 30_000, () => 0)).toBe(1600);
    expect(backoffDelay(2, 500, 30_000, () => 0.999999)).toBe(2400);
  });
});
