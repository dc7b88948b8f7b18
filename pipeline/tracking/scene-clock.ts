/** Source-time steps beyond this (or backwards) are a restart or a loop, not elapsed time. */
const maxStepS = 10;
/** A live source's clock may drift from the box's; past this it is pulled back to the wall clock. */
const maxSkewMs = 2000;

/**
 * Scene time (epoch ms) for tracking and rules: it advances by the source's presentation time, which is
 * exact where the wall clock is not (a file read faster than real time, frames skipped by the motion gate
 * in a burst). Where pts jumps (reconnect, looped file) the wall clock's step is used instead. A realtime
 * source stays within `maxSkewMs` of the wall clock; a file read as fast as possible runs on its pts alone.
 */
export class SceneClock {
  private now: number | undefined;
  private lastTs = 0;
  private lastPts = 0;

  constructor(private readonly realtime = true) {}

  /** `ts`: capture time (epoch ms); `pts`: presentation time in the source (s). Returns scene time (ms). */
  advance(ts: number, pts: number): number {
    if (this.now === undefined) {
      this.now = ts;
    } else {
      const before = this.now;
      const step = pts - this.lastPts;
      this.now += step > 0 && step <= maxStepS ? step * 1000 : Math.max(0, ts - this.lastTs);
      // Pulled back to the wall clock, but never backwards: durations must not go negative.
      if (this.realtime && Math.abs(this.now - ts) > maxSkewMs) this.now = Math.max(before, ts);
    }
    this.lastTs = ts;
    this.lastPts = pts;
    return this.now;
  }
}
