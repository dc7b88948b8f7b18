import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../../pipeline/camera/rate-meter.js';

/** A meter on a clock the test moves. */
function meter(windowMs?: number) {
  let now = 1_000_000;
  const m = new RateMeter(windowMs, () => now);
  return {
    m,
    at: (t: number) => (now = 1_000_000 + t),
    /** One event every `periodMs` from `from` to before `to`; the clock is left at `to`. */
    stream: (from: number, to: number, periodMs: number) => {
      for (let t = from; t < to; t += periodMs) {
        now = 1_000_000 + t;
        m.mark();
      }
      now = 1_000_000 + to;
    },
  };
}

describe('RateMeter', () => {
  it('reads 0 with fewer than two events', () => {
    const { m, at } = meter();
    expect(m.rate()).toBe(0);
    m.mark();
    at(500);
    expect(m.rate()).toBe(0);
  });

  it('reads a steady stream at its rate once it fills the window', () => {
    // Read when the next event is due: the window then holds exactly windowMs of events.
    const ten = meter();
    ten.stream(0, 20_000, 100);
    expect(ten.m.rate()).toBeCloseTo(10, 9);

    const two = meter(1000);
    two.stream(0, 3000, 500);
    expect(two.m.rate()).toBeCloseTo(2, 9);
  });

  it('measures over the span since the oldest event for a stream younger than the window', () => {
    const { m, stream } = meter();
    stream(0, 2000, 100); // 20 events in 2 s
    expect(m.rate()).toBeCloseTo(10, 9);
  });

  it('does not read a burst as a huge rate: the span counts as at least a fifth of the window', () => {
    const { m, at } = meter(5000);
    m.mark();
    m.mark();
    m.mark();
    expect(m.rate()).toBe(3); // 3 events over the 1 s floor, not over 1 ms
    at(400);
    expect(m.rate()).toBe(3);
    at(2000);
    expect(m.rate()).toBeCloseTo(1.5, 9); // past the floor: the real span
  });

  it('forgets events older than the window, reading 0 after a stall', () => {
    const { m, stream, at } = meter(1000);
    stream(0, 2000, 100);
    at(2500); // the events of 1.5 s to 2 s remain: 5 over 1 s
    expect(m.rate()).toBeCloseTo(5, 9);
    at(2800); // the event at 1.8 s is exactly windowMs old: still counted, with the one at 1.9 s
    expect(m.rate()).toBeCloseTo(2, 9);
    at(2801);
    expect(m.rate()).toBe(0);
    at(5000);
    expect(m.rate()).toBe(0);
    m.mark();
    at(5100);
    m.mark();
    expect(m.rate()).toBeCloseTo(2 / 0.2, 9); // only the new events, over the 200 ms floor
  });
});
