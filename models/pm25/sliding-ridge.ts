import { solveLinear } from './ridge.js';

interface Pair {
  ts: number;
  x: readonly number[];
  y: number;
}

/**
 * The weighted sums ridgeToward needs, kept over a window that slides forward in time: a pair joins and
 * leaves in O(p²) instead of refitting on the whole window. With forgetting, weights are relative to the
 * newest pair added (as ridgeToward's are to the fit time): adding a newer pair first ages every sum.
 * Rolling-origin forecast residuals refit once per pair, so a window of n pairs cost O(n²) before (6,481
 * pairs, one refit: 1.7 s of the agent's main thread).
 */
export class SlidingRidgeSums {
  private sw = 0;
  private sy = 0;
  private readonly sx: number[];
  private readonly sxy: number[];
  private readonly sxx: number[][];
  private newest: number | undefined;

  constructor(
    private readonly p: number,
    /** Half-life of the forgetting, ms; undefined: every pair weighs 1. */
    private readonly halfLifeMs: number | undefined,
  ) {
    this.sx = new Array<number>(p).fill(0);
    this.sxy = new Array<number>(p).fill(0);
    this.sxx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  }

  /** Adds a pair no older than the newest one added. */
  add(pair: Pair): void {
    if (this.halfLifeMs !== undefined && this.newest !== undefined && pair.ts > this.newest)
      this.scale(2 ** (-(pair.ts - this.newest) / this.halfLifeMs));
    this.newest = Math.max(this.newest ?? pair.ts, pair.ts);
    this.accumulate(pair, this.weightOf(pair.ts));
  }

  /** Takes out a pair added before. */
  remove(pair: Pair): void {
    this.accumulate(pair, -this.weightOf(pair.ts));
  }

  /** ridgeToward on the pairs in the window, from the sums (the same centred normal equations). */
  solve(
    target: { intercept: number; slopes: number[] },
    lambda: number,
  ): { intercept: number; slopes: number[] } {
    const { p, sw } = this;
    if (sw <= 0) return { intercept: target.intercept, slopes: [...target.slopes] };
    const mx = this.sx.map((s) => s / sw);
    const my = this.sy / sw;
    const a = Array.from({ length: p }, (_, i) =>
      Array.from({ length: p }, (_, j) => (i === j ? lambda : 0) + this.sxx[i]![j]! - sw * mx[i]! * mx[j]!),
    );
    const rhs = target.slopes.map((b, i) => lambda * b + this.sxy[i]! - sw * mx[i]! * my);
    const slopes = solveLinear(a, rhs);
    return { intercept: my - slopes.reduce((s, b, j) => s + b * mx[j]!, 0), slopes };
  }

  private weightOf(ts: number): number {
    return this.halfLifeMs === undefined ? 1 : 2 ** (-(this.newest! - ts) / this.halfLifeMs);
  }

  private accumulate(pair: Pair, w: number): void {
    this.sw += w;
    this.sy += w * pair.y;
    for (let i = 0; i < this.p; i++) {
      const xi = pair.x[i]!;
      this.sx[i]! += w * xi;
      this.sxy[i]! += w * xi * pair.y;
      for (let j = 0; j < this.p; j++) this.sxx[i]![j]! += w * xi * pair.x[j]!;
    }
  }

  private scale(f: number): void {
    this.sw *= f;
    this.sy *= f;
    for (let i = 0; i < this.p; i++) {
      this.sx[i]! *= f;
      this.sxy[i]! *= f;
      for (let j = 0; j < this.p; j++) this.sxx[i]![j]! *= f;
    }
  }
}
