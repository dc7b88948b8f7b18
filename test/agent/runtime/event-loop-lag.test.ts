import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopLag } from '../../../agent/runtime/event-loop-lag.js';

/** Holds the main thread, as a synchronous inference on it would. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * Lets due timers run. libuv runs timers in order of expiry, so the histogram's 10 ms timer, due before
 * this one, has fired by the time it resolves: no assertion here depends on how long anything took.
 */
const turn = (ms: number) => new Promise((r) => setTimeout(r, ms));

const lags: EventLoopLag[] = [];
const started = () => {
  const lag = new EventLoopLag().start();
  lags.push(lag);
  return lag;
};

afterEach(() => {
  for (const l of lags.splice(0)) l.stop();
});

describe('EventLoopLag', () => {
  it('reads a blocked loop as at least the time it was blocked, less the timer resolution', async () => {
    const lag = started();
    await turn(20); // the timer has fired once: the next interval is measured from it
    block(200);
    await turn(20);
    const r = lag.read();
    // The interval that spans the block is >= 200 ms; 10 ms resolution is subtracted. A lower bound only.
    expect(r.max).toBeGreaterThanOrEqual(189);
    // A few dozen samples at most in this window, fewer than 100: the 99th percentile is the largest.
    expect(r.p99).toBeGreaterThanOrEqual(189);
    expect(r.p50).toBeLessThanOrEqual(r.p99);
    expect(r.p99).toBeLessThanOrEqual(r.max);
  });

  it('read(true) starts a new window; a plain read keeps it', async () => {
    const lag = started();
    await turn(20);
    block(100);
    await turn(20);
    const first = lag.read();
    expect(first.max).toBeGreaterThan(0);
    expect(lag.read()).toEqual(first);
    expect(lag.read(true)).toEqual(first);
    // Nothing recorded since the reset: every figure is 0, never the negative of the resolution.
    expect(lag.read()).toEqual({ p50: 0, p99: 0, max: 0 });
  });

  it('records nothing once stopped', async () => {
    const lag = started();
    await turn(20);
    lag.read(true);
    lag.stop();
    block(100);
    await turn(20);
    expect(lag.read()).toEqual({ p50: 0, p99: 0, max: 0 });
  });
});
