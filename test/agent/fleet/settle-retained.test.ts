import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settleRetained } from '../../../agent/fleet/settle-retained.js';

describe('settleRetained', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs the wait with retained messages arriving at the given offsets (ms after the start). */
  async function settledAfter(minMs: number, arrivals: number[], deadlineMs = 60_000): Promise<number> {
    const t0 = Date.now();
    const last = () => {
      const seen = arrivals.filter((a) => t0 + a <= Date.now());
      return seen.length ? t0 + Math.max(...seen) : 0;
    };
    let doneAt = -1;
    void settleRetained(minMs, last, t0 + deadlineMs).then(() => (doneAt = Date.now() - t0));
    while (doneAt < 0) await vi.advanceTimersByTimeAsync(10);
    return doneAt;
  }

  it('waits the minimum when nothing retained arrives, or when the burst ended long before', async () => {
    expect(await settledAfter(1000, [])).toBe(1000);
    expect(await settledAfter(1000, [20, 40, 300])).toBe(1000);
  });

  it('goes on while retained states keep coming, until 500 ms pass without one', async () => {
    // A large fleet: states still arriving at 0.9, 1.2 and 1.6 s.
    expect(await settledAfter(1000, [100, 900, 1200, 1600])).toBe(2100);
  });

  it('never waits more than 10 s, nor past the push deadline', async () => {
    const trickle = Array.from({ length: 100 }, (_, i) => i * 200);
    expect(await settledAfter(1000, trickle)).toBe(10_000);
    expect(await settledAfter(1000, trickle, 3000)).toBe(3000);
    expect(await settledAfter(1000, [], 400)).toBe(400);
  });
});
