import type { BinSpec } from './histogram.js';

/**
 * The catalogue of statistics and their bins (docs/drift.md). Changing a spec makes old histograms
 * unmergeable with new ones, so bump `binsVersion` when one changes.
 */
export const binsVersion = 1;

const linear = (lo: number, hi: number, bins: number): BinSpec => ({
  kind: 'linear',
  lo,
  hi,
  bins,
  soft: true,
});
const log = (lo: number, hi: number, bins: number): BinSpec => ({ kind: 'log', lo, hi, bins, soft: true });

/** Small counts one by one, then wider: detections of a label per frame. */
const perFrameBins: BinSpec = {
  kind: 'edges',
  lower: [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50],
};
/** Shares of pixels (blown out, crushed): soft bins 2 % wide, so a scene's few dark clothes do not jump bins. */
const shareBins = linear(0, 0.5, 25);

export const imageStatSpecs = {
  'image.brightness': linear(0, 256, 32),
  'image.contrast': linear(0, 128, 32),
  'image.sharpness': log(0.5, 128, 32),
  'image.castRB': linear(-0.3, 0.3, 30),
  'image.castG': linear(-0.3, 0.3, 30),
  'image.saturated': shareBins,
  'image.dark': shareBins,
} as const satisfies Record<string, BinSpec>;
export type ImageStatName = keyof typeof imageStatSpecs;

/** Per-label detection statistics; names are `det.<kind>[<label>]`. */
export const labelStatSpecs = {
  score: linear(0, 1, 20),
  /** Box area as a share of the frame. */
  area: log(1e-4, 1, 24),
  /** Box width / height. */
  aspect: log(0.1, 10, 24),
  /** Box centre on a coarse grid over the frame (row-major). */
  position: { kind: 'cells', cols: 8, rows: 6 },
  perFrame: perFrameBins,
} as const satisfies Record<string, BinSpec>;
export type LabelStatKind = keyof typeof labelStatSpecs;

export const frameStatSpecs = {
  /** Detections of any label per frame. */
  'det.perFrame': perFrameBins,
  'latency.inferenceMs': log(0.5, 2000, 36),
  /** PM2.5 estimates (µg/m³), when an estimator runs on the camera. */
  pm25: log(1, 500, 27),
} as const satisfies Record<string, BinSpec>;

/** Keyed (unordered) counts: detections by label, quality-gate outcomes. */
export const keyedStatNames = ['det.labels', 'quality.gate'] as const;
export type KeyedStatName = (typeof keyedStatNames)[number];

export const labelStatName = (kind: LabelStatKind, label: string) => `det.${kind}[${label}]`;

/**
 * Per-frame counts are stored without their zero bin (a label absent from a frame leaves no trace); the
 * zeros are the window's frames minus the histogram's total, filled in when compared or shown.
 */
export function isPerFrameCount(name: string): boolean {
  return name === 'det.perFrame' || name.startsWith('det.perFrame[');
}

/** Whether a statistic name matches a pattern: exact, or a prefix ending in `*`. */
export function matchesPattern(name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}
