import { describe, expect, it } from 'vitest';
import { SceneClock } from '../../../pipeline/tracking/scene-clock.js';

const t0 = 1_700_000_000_000;

/** Feeds (ts, pts) pairs and returns the scene times. */
function run(clock: SceneClock, frames: [ts: number, pts: number][]): number[] {
  return frames.map(([ts, pts]) => clock.advance(ts, pts));
}

describe('SceneClock', () => {
  it('starts at the first capture time, whatever the first pts', () => {
    expect(new SceneClock().advance(t0, 37.5)).toBe(t0);
    expect(new SceneClock(false).advance(t0, 0)).toBe(t0);
  });

  it('advances by pts, not by the wall clock, for a file read faster than real time', () => {
    // 10 fps pts, frames arriving 5 ms apart
    const frames = Array.from({ length: 50 }, (_, f): [number, number] => [t0 + f * 5, f / 10]);
    const times = run(new SceneClock(false), frames);
    times.forEach((t, f) => expect(t).toBeCloseTo(t0 + f * 100, 6));
  });

  it('uses the wall-clock step where pts jumps backwards (a looped file)', () => {
    const times = run(new SceneClock(false), [
      [t0, 79.4],
      [t0 + 40, 79.5],
      [t0 + 70, 0], // the loop: pts back to 0, 30 ms of wall time
      [t0 + 80, 0.1],
    ]);
    expect(times[1]).toBeCloseTo(t0 + 100, 6);
    expect(times[2]).toBeCloseTo(t0 + 130, 6);
    expect(times[3]).toBeCloseTo(t0 + 230, 6);
  });

  it('uses the wall-clock step where pts jumps forward by more than 10 s (a reconnect)', () => {
    const times = run(new SceneClock(false), [
      [t0, 5],
      [t0 + 500, 5 + 10], // exactly 10 s is still elapsed time
      [t0 + 1000, 5 + 10 + 10.001], // beyond: the wall clock's 500 ms
    ]);
    expect(times[1]).toBeCloseTo(t0 + 10_000, 6);
    expect(times[2]).toBeCloseTo(t0 + 10_500, 6);
  });

  it('never goes backwards when the wall clock does', () => {
    // The monotonic clock held still: 5 s back is the most still taken for elapsed time, not a step.
    const times = run(new SceneClock(false, () => 0), [
      [t0, 1],
      [t0 - 5000, 0.5], // pts and wall clock both backwards
    ]);
    expect(times[1]).toBe(t0);
  });

  it('a realtime source stays on pts while within 2 s of the wall clock', () => {
    // pts runs 10 % fast: after 15 frames of 100 ms wall time the skew is 150 ms
    const frames = Array.from({ length: 16 }, (_, f): [number, number] => [t0 + f * 100, f * 0.11]);
    const times = run(new SceneClock(true), frames);
    expect(times[15]).toBeCloseTo(t0 + 15 * 110, 6);
  });

  it('a realtime source whose pts falls behind is pulled forward to the wall clock', () => {
    const clock = new SceneClock(true);
    clock.advance(t0, 0);
    clock.advance(t0 + 2000, 0.1); // 1.9 s behind: kept
    expect(clock.advance(t0 + 2100, 0.15)).toBeCloseTo(t0 + 150, 6);
    // 2.049 s behind the wall clock after this step: pulled to it
    expect(clock.advance(t0 + 2200, 0.15 + 0.001)).toBe(t0 + 2200);
  });

  it('a realtime source whose pts runs ahead is held, not moved back', () => {
    const clock = new SceneClock(true);
    clock.advance(t0, 0);
    const before = clock.advance(t0 + 100, 1.9); // 1.8 s ahead: kept
    expect(before).toBeCloseTo(t0 + 1900, 6);
    // 3.7 s ahead of the wall clock: too far, but pulling back would make durations negative
    expect(clock.advance(t0 + 200, 3.9)).toBe(before);
  });

  it('a file read as fast as possible is not pulled to the wall clock', () => {
    const frames = Array.from({ length: 100 }, (_, f): [number, number] => [t0 + f, f / 10]);
    const times = run(new SceneClock(false), frames);
    expect(times[99]).toBeCloseTo(t0 + 9900, 6);
  });

  describe('across a step of the wall clock (NTP), told apart by the monotonic clock', () => {
    const year = 365 * 86_400_000;
    /** A live 5 fps camera; the wall clock steps by `stepMs` before frame `at`. */
    function live(stepMs: number, at: number, frames = 20) {
      let mono = 0;
      const clock = new SceneClock(true, () => mono);
      const times = Array.from({ length: frames }, (_, f) => {
        mono = f * 200;
        return clock.advance(t0 + f * 200 + (f >= at ? stepMs : 0), f * 0.2);
      });
      return { clock, times };
    }

    it('a step ahead of 56 years is no elapsed time: a dwell measured across it stays 200 ms a frame', () => {
      const { clock, times } = live(56 * year, 10);
      times.forEach((t, f) => expect(t).toBeCloseTo(t0 + f * 200, 6));
      expect(clock.pendingStepMs).toBe(56 * year);
      // Nothing timed any more: scene time takes the step, and is the wall clock's again.
      expect(clock.resync()).toBeCloseTo(t0 + 19 * 200 + 56 * year, 6);
      expect(clock.advance(t0 + 20 * 200 + 56 * year, 20 * 0.2)).toBeCloseTo(t0 + 20 * 200 + 56 * year, 6);
      expect(clock.pendingStepMs).toBe(0);
    });

    it('a step back of a minute does not stop scene time for that minute', () => {
      const { clock, times } = live(-60_000, 10);
      times.forEach((t, f) => expect(t).toBeCloseTo(t0 + f * 200, 6));
      expect(clock.pendingStepMs).toBe(-60_000);
    });
  });
});
