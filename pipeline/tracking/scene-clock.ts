/** Source-time steps beyond this (or backwards) are a restart or a loop, not elapsed time. */
const maxStepS = 10;
/** A live source's clock may drift from the box's; past this it is pulled back to the wall clock. */
const maxSkewMs = 2000;
/**
 * Capture times further than this from the monotonic clock's elapsed time are a step of the wall clock
 * (NTP), not elapsed time. Well above how much the delay between capture and processing varies.
 */
const wallStepMs = 5000;

/**
 * Scene time (epoch ms) for tracking and rules: it advances by the source's presentation time, which is
 * exact where the wall clock is not (a file read faster than real time, frames skipped by the motion gate
 * in a burst). Where pts jumps (reconnect, looped file) the wall clock's step is used instead. A realtime
 * source stays within `maxSkewMs` of the wall clock; a file read as fast as possible runs on its pts alone.
 *
 * A step of the wall clock itself (NTP years ahead after a boot without RTC, or back a minute) is not
 * elapsed time: a dwell would have lasted 56 years, or scene time stood still for the minute. The step is
 * held apart (`pendingStepMs`) and taken into scene time only by resync(), when nothing is being timed.
 */
export class SceneClock {
  private now: number | undefined;
  private lastTs = 0;
  private lastPts = 0;
  private lastMono = 0;
  /** Wall-clock steps seen and not yet taken into scene time. */
  private offset = 0;

  constructor(
    private readonly realtime = true,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** `ts`: capture time (epoch ms); `pts`: presentation time in the source (s). Returns scene time (ms). */
  advance(ts: number, pts: number): number {
    const mono = this.monotonic();
    if (this.now === undefined) {
      this.now = ts;
    } else {
      const lastWall = this.lastTs - this.offset;
      const wallStep = ts - this.lastTs - (mono - this.lastMono);
      if (Math.abs(wallStep) > wallStepMs) this.offset += wallStep;
      const wall = ts - this.offset;
      const before = this.now;
      const step = pts - this.lastPts;
      this.now += step > 0 && step <= maxStepS ? step * 1000 : Math.max(0, wall - lastWall);
      // Pulled back to the wall clock, but never backwards: durations must not go negative.
      if (this.realtime && Math.abs(this.now - wall) > maxSkewMs) this.now = Math.max(before, wall);
    }
    this.lastTs = ts;
    this.lastPts = pts;
    this.lastMono = mono;
    return this.now;
  }

  /** How far the wall clock stepped since scene time last followed it (0: none). */
  get pendingStepMs(): number {
    return this.offset;
  }

  /**
   * Takes the wall clock's steps into scene time at once, so timestamps are the wall clock's again. Only
   * when nothing is being timed (no track): a duration across it would include the step.
   */
  resync(): number {
    if (this.now !== undefined && this.offset !== 0) {
      this.now += this.offset;
      this.offset = 0;
    }
    return this.now ?? 0;
  }
}
