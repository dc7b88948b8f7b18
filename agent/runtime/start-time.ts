/**
 * When something started, on the wall clock as it reads now: `Date.now() - read()` is the uptime even after
 * NTP stepped the clock (a box booted at 1970 would otherwise report 56 years of uptime, or a negative one
 * after a step back, which the health schema refuses).
 */
export class StartTime {
  /** performance.now at construction: uptime is elapsed time, whatever the wall clock does. */
  private readonly mono = performance.now();
  private wall = Date.now();

  read(): number {
    const elapsed = performance.now() - this.mono;
    // Moved only for a step: the two clocks' sub-millisecond phases would make it flicker by 1 ms.
    if (Math.abs(Date.now() - elapsed - this.wall) >= 1000) this.wall = Math.round(Date.now() - elapsed);
    return this.wall;
  }
}
