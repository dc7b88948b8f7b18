/** Events per second over a sliding window, cheap enough to call per frame. */
export class RateMeter {
  private readonly stamps: number[] = [];
  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  mark(): void {
    const t = this.now();
    this.stamps.push(t);
    this.trim(t);
  }

  rate(): number {
    const t = this.now();
    this.trim(t);
    if (this.stamps.length < 2) return 0;
    const span = Math.max(t - this.stamps[0]!, 1);
    return (this.stamps.length / Math.max(span, this.windowMs / 5)) * 1000;
  }

  private trim(t: number): void {
    while (this.stamps.length && t - this.stamps[0]! > this.windowMs) this.stamps.shift();
  }
}
