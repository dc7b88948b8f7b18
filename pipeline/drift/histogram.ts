import { z } from 'zod';

/**
 * How a statistic is binned. Fixed bins, so histograms of any two windows, devices or references with the
 * same spec add bin by bin. Values outside the range fall into the first or last bin.
 * - linear / log: `bins` equal bins over [lo, hi] (log: equal in ln v); `soft` splits each value between
 *   the two nearest bin centres, so a small shift moves a little mass instead of jumping a bin edge.
 * - edges: bin i holds [lower[i], lower[i+1]), the last one everything from its lower bound up.
 * - cells: unordered categories 0..cells-1 (a position grid); no CDF, so no KS.
 */
export const BinSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('linear'),
    lo: z.number(),
    hi: z.number(),
    bins: z.number().int().min(2),
    soft: z.boolean(),
  }),
  z.strictObject({
    kind: z.literal('log'),
    lo: z.number().positive(),
    hi: z.number().positive(),
    bins: z.number().int().min(2),
    soft: z.boolean(),
  }),
  z.strictObject({ kind: z.literal('edges'), lower: z.array(z.number()).min(2) }),
  z.strictObject({
    kind: z.literal('cells'),
    cols: z.number().int().positive(),
    rows: z.number().int().positive(),
  }),
]);
export type BinSpec = z.infer<typeof BinSpec>;

export const HistogramJson = z.strictObject({ spec: BinSpec, counts: z.array(z.number().nonnegative()) });
export type HistogramJson = z.infer<typeof HistogramJson>;

/** Soft weights are multiples of 1/16: sums stay exact in binary floating point, so merging is associative. */
const softSteps = 16;

export function binCount(spec: BinSpec): number {
  switch (spec.kind) {
    case 'linear':
    case 'log':
      return spec.bins;
    case 'edges':
      return spec.lower.length;
    case 'cells':
      return spec.cols * spec.rows;
  }
}

/** Whether bins have an order (a CDF exists): true for all but position cells. */
export function isOrdered(spec: BinSpec): boolean {
  return spec.kind !== 'cells';
}

export function sameSpec(a: BinSpec, b: BinSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Histogram {
  readonly counts: Float64Array;
  /** Bin position scale for linear/log specs, precomputed so add() is a few flops. */
  private readonly x0: number;
  private readonly k: number;

  constructor(
    readonly spec: BinSpec,
    counts?: ArrayLike<number>,
  ) {
    const bins = binCount(spec);
    if (counts && counts.length !== bins)
      throw new Error(`histogram has ${counts.length} counts, its spec ${bins}`);
    this.counts = counts ? Float64Array.from(counts) : new Float64Array(bins);
    if (spec.kind === 'linear') {
      this.x0 = spec.lo;
      this.k = spec.bins / (spec.hi - spec.lo);
    } else if (spec.kind === 'log') {
      this.x0 = Math.log(spec.lo);
      this.k = spec.bins / (Math.log(spec.hi) - Math.log(spec.lo));
    } else {
      this.x0 = 0;
      this.k = 1;
    }
  }

  /** Total count (soft-binned values count once, split between two bins). */
  get n(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }

  /** Adds one observation; NaN is ignored. */
  add(value: number): void {
    if (Number.isNaN(value)) return;
    const spec = this.spec;
    if (spec.kind === 'edges') {
      this.counts[edgeBin(spec.lower, value)]! += 1;
      return;
    }
    if (spec.kind === 'cells') {
      this.addToBin(Math.min(this.counts.length - 1, Math.max(0, Math.floor(value))));
      return;
    }
    const v = spec.kind === 'log' ? (value > 0 ? Math.log(value) : -Infinity) : value;
    const x = (v - this.x0) * this.k;
    const last = this.counts.length - 1;
    if (!spec.soft) {
      this.counts[x <= 0 ? 0 : x >= last ? last : Math.floor(x)]! += 1;
      return;
    }
    const c = x - 0.5; // position relative to the bin centres
    if (c <= 0) this.counts[0]! += 1;
    else if (c >= last) this.counts[last]! += 1;
    else {
      const i = Math.floor(c);
      const w = Math.round((c - i) * softSteps) / softSteps;
      this.counts[i]! += 1 - w;
      this.counts[i + 1]! += w;
    }
  }

  addToBin(bin: number, weight = 1): void {
    if (bin < 0 || bin >= this.counts.length)
      throw new Error(`bin ${bin} outside 0..${this.counts.length - 1}`);
    this.counts[bin]! += weight;
  }

  /** Adds another histogram of the same spec into this one. */
  mergeFrom(other: Histogram): this {
    if (!sameSpec(this.spec, other.spec)) throw new Error('cannot merge histograms with different bins');
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    return this;
  }

  clone(): Histogram {
    return new Histogram(this.spec, this.counts);
  }

  static merge(a: Histogram, b: Histogram): Histogram {
    return a.clone().mergeFrom(b);
  }

  toJSON(): HistogramJson {
    return { spec: this.spec, counts: Array.from(this.counts) };
  }

  static fromJSON(json: HistogramJson): Histogram {
    return new Histogram(json.spec, json.counts);
  }
}

/** Index of the bin [lower[i], lower[i+1]) holding v (binary search; below the first bound: bin 0). */
function edgeBin(lower: readonly number[], v: number): number {
  let lo = 0;
  let hi = lower.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (v >= lower[mid]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Counts by key (labels, quality-gate outcomes): unordered, merged key by key. */
export type KeyedCounts = Record<string, number>;

export function mergeKeyed(a: KeyedCounts, b: KeyedCounts): KeyedCounts {
  const out: KeyedCounts = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Two keyed count maps as aligned count vectors over the union of their keys (sorted, for stable output). */
export function alignKeyed(a: KeyedCounts, b: KeyedCounts): { keys: string[]; a: number[]; b: number[] } {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return { keys, a: keys.map((k) => a[k] ?? 0), b: keys.map((k) => b[k] ?? 0) };
}
