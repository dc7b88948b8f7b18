/**
 * Events per second over a sliding window, cheap enough to call per frame. It counts intervals, not events:
 * n events in the window span n − 1 intervals, so a steady stream reads its own rate whenever it is read
 * (n events over the span since the oldest one read a 1 fps camera as 1.2 fps right after a frame). The gap
 * since the last event counts once it is longer than the stream's mean interval, so a stream that slows or
 * stops reads lower at once, and 0 when its events have left the window.
 */
export class RateMeter {
  private readonly stamps: number[] = [];
  constructor(
    private readonly windowMs = 5000,
    /** Monotonic: on the wall clock a step back kept old stamps and read a rate far too high. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  mark(): void {
    const t = this.now();
    this.stamps.push(t);
    this.trim(t);
  }

  /** Forgets every event: a camera's new run measures its own rate, not one blended with the last run's. */
  clear(): void {
    this.stamps.length = 0;
  }

  rate(): number {
    const t = this.now();
    this.trim(t);
    const n = this.stamps.length;
    if (n < 2) return 0;
    const span = this.stamps[n - 1]! - this.stamps[0]!;
    const overdue = Math.max(0, t - this.stamps[n - 1]! - span / (n - 1));
    // A burst (events close together) over at least a fifth of the window, not over a millisecond.
    return ((n - 1) / Math.max(span + overdue, this.windowMs / 5)) * 1000;
  }

  private trim(t: number): void {
    while (this.stamps.length && t - this.stamps[0]! > this.windowMs) this.stamps.shift();
  }
}
