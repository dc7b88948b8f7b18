import { z } from 'zod';

/**
 * Drift accounting (docs/drift.md): what the models see is kept as fixed-bin histograms per window and
 * compared with a reference profile of the same camera, model and config revision.
 */
export const DriftConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Length of a comparison window; windows are aligned to multiples of it (UTC), so devices agree. */
  windowMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
  /** A window with fewer frames than this says "too few samples" and leaves the state as it was. */
  minFrames: z.number().int().positive().default(30),
  /** A statistic with fewer samples than this in the window or the reference is not scored. */
  minSamples: z.number().int().positive().default(20),
  /** PSI at or above which a (significant) statistic makes the camera warn / alarm. */
  psi: z
    .strictObject({ warn: z.number().positive().default(0.1), alarm: z.number().positive().default(0.25) })
    .default({ warn: 0.1, alarm: 0.25 })
    .refine((p) => p.alarm > p.warn, 'psi.alarm must be above psi.warn'),
  /** A PSI counts only when its test (KS for ordered bins, chi-square otherwise) has p below this. */
  pValue: z.number().gt(0).lt(1).default(0.01),
  hysteresis: z
    .strictObject({
      /** To step down, the score must fall below threshold × clearRatio… */
      clearRatio: z.number().gt(0).max(1).default(0.8),
      /** …in this many scored windows in a row. */
      clearWindows: z.number().int().positive().default(2),
      /** Scored windows in a row at or above a threshold before the state steps up. */
      raiseWindows: z.number().int().positive().default(1),
    })
    .default({ clearRatio: 0.8, clearWindows: 2, raiseWindows: 1 }),
  /** Without a reference, build one from the first hours after a model or camera change; 0: never. */
  autoBaselineHours: z.number().min(0).default(2),
  /** Closed windows are kept this long, so a baseline can be built from any past range. */
  retainDays: z.number().positive().default(14),
  /** Per-label statistics for at most this many labels per window; later labels count as `other`. */
  maxLabels: z.number().int().positive().max(256).default(16),
  /**
   * Statistics whose PSI may drive the state (exact names, or prefixes ending in `*`). The others are
   * scored and reported, and named under `moved` when they pass the same test: detections follow what
   * is in the scene (who walks where, how near), not only how well the model sees it.
   */
  driveWith: z.array(z.string()).default(['image.*']),
  /** Image statistics read every n-th pixel in each direction… */
  imageStep: z.number().int().positive().max(32).default(4),
  /** …or sparser, so that at most about this many pixels are read per frame: a fixed cost whatever the input size. */
  imageSamples: z.number().int().min(100).default(5000),
  /** Image statistics of every n-th frame only (detections are counted on every frame): for big inputs on fast GPUs. */
  imageEvery: z.number().int().positive().max(1000).default(1),
});
export type DriftConfig = z.infer<typeof DriftConfig>;
export type DriftConfigInput = z.input<typeof DriftConfig>;
