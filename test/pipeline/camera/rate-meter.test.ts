import { afterEach, describe, expect, it, vi } from 'vitest';
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

afterEach(() => {
  vi.useRealTimers();
});

describe('RateMeter', () => {
  it('reads 0 with fewer than two events', () => {
    const { m, at } = meter();
    expect(m.rate()).toBe(0);
    m.mark();
    at(500);
    expect(m.rate()).toBe(0);
  });

  it('reads a steady stream at its rate whenever it is read, right after an event or just before the next', () => {
    const ten = meter();
    ten.stream(0, 20_000, 100);
    expect(ten.m.rate()).toBeCloseTo(10, 9); // the next event is due
    ten.at(19_900);
    expect(ten.m.rate()).toBeCloseTo(10, 9); // the last one just came

    // One frame a second read right after a frame: it used to read 6 events over 5 s, 1.2 fps.
    const one = meter(5000);
    one.stream(0, 30_000, 1000);
    for (const t of [29_000, 29_500, 29_999, 30_000]) {
      one.at(t);
      expect(one.m.rate()).toBeCloseTo(1, 9);
    }

    const two = meter(1000);
    two.stream(0, 3000, 500);
    expect(two.m.rate()).toBeCloseTo(2, 9);
  });

  it('measures over the span of its events for a stream younger than the window', () => {
    const { m, stream } = meter();
    stream(0, 2000, 100); // 20 events in 2 s
    expect(m.rate()).toBeCloseTo(10, 9);
  });

  it('does not read a burst as a huge rate: the span counts as at least a fifth of the window', () => {
    const { m, at } = meter(5000);
    m.mark();
    m.mark();
    m.mark();
    expect(m.rate()).toBe(2); // 2 intervals over the 1 s floor, not over 0 ms
    at(400);
    expect(m.rate()).toBe(2);
    at(2000);
    expect(m.rate()).toBeCloseTo(1, 9); // past the floor: the time since
  });

  it('reads lower as soon as a stream is overdue, and 0 once its events have left the window', () => {
    const { m, stream, at } = meter(1000);
    stream(0, 2000, 100);
    at(2000); // the next event is due now: still 10
    expect(m.rate()).toBeCloseTo(10, 9);
    at(2500); // the events of 1.5 s to 1.9 s remain: 4 intervals of 100 ms, then 600 ms without, 500 overdue
    expect(m.rate()).toBeCloseTo(4 / 0.9, 9);
    at(2800); // the event at 1.8 s is exactly windowMs old: still counted, with the one at 1.9 s
    expect(m.rate()).toBeCloseTo(1 / 0.9, 9);
    at(2801);
    expect(m.rate()).toBe(0);
    at(5000);
    expect(m.rate()).toBe(0);
    m.mark();
    at(5100);
    m.mark();
    expect(m.rate()).toBeCloseTo(1 / 0.2, 9); // only the new events: one interval, over the 200 ms floor
  });

  it('follows a stream that slows down: within a window of the change it reads the new rate', () => {
    const { m, stream } = meter(5000);
    stream(0, 10_000, 100); // 10 fps
    stream(10_000, 20_000, 500); // then 2 fps
    expect(m.rate()).toBeCloseTo(2, 9);
  });

  it('by default keeps to elapsed time: NTP stepping the wall clock back a minute changes no rate', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const m = new RateMeter();
    for (let i = 0; i < 50; i++) {
      if (i === 25) vi.setSystemTime(Date.now() - 60_000);
      m.mark();
      vi.advanceTimersByTime(200); // 5 fps
    }
    // On the wall clock the stamps before the step would stay a minute, and read as 49 fps here.
    expect(m.rate()).toBeCloseTo(5, 9);
  });
});
