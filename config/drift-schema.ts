import { z } from 'zod';

/**
 * Drift accounting (docs/drift.md): what the models see is kept as fixed-bin histograms per window and
 * compared with a reference profile of the same camera, model and config revision.
 */
export const DriftConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Drift statistics on, with the section present. Default: true.'),
  windowMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(15)
    .describe(
      'Length of a comparison window in minutes (at most 1440); windows are aligned to multiples of it (UTC), so devices agree. Default: 15.',
    ),
  minFrames: z
    .number()
    .int()
    .positive()
    .default(30)
    .describe(
      'A window with fewer frames than this says "too few samples" and leaves the state as it was. Default: 30.',
    ),
  minSamples: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe(
      'A statistic with fewer samples than this in the window or the reference is not scored. Default: 20.',
    ),
  psi: z
    .strictObject({
      warn: z
        .number()
        .positive()
        .default(0.1)
        .describe('PSI at or above which the camera warns. Default: 0.1.'),
      alarm: z
        .number()
        .positive()
        .default(0.25)
        .describe('PSI at or above which the camera alarms; above warn. Default: 0.25.'),
    })
    .default({ warn: 0.1, alarm: 0.25 })
    .refine((p) => p.alarm > p.warn, 'psi.alarm must be above psi.warn')
    .describe(
      'PSI thresholds at or above which a (significant) driving statistic makes the camera warn / alarm.',
    ),
  pValue: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.01)
    .describe(
      'A PSI counts only when its test (KS for ordered bins, chi-square otherwise) has p below this. Default: 0.01.',
    ),
  hysteresis: z
    .strictObject({
      clearRatio: z
        .number()
        .gt(0)
        .max(1)
        .default(0.8)
        .describe(
          'To step down, the score must fall below threshold × clearRatio for clearWindows windows. Default: 0.8.',
        ),
      clearWindows: z
        .number()
        .int()
        .positive()
        .default(2)
        .describe(
          'Scored windows in a row below threshold × clearRatio before the state steps down. Default: 2.',
        ),
      raiseWindows: z
        .number()
        .int()
        .positive()
        .default(1)
        .describe('Scored windows in a row at or above a threshold before the state steps up. Default: 1.'),
    })
    .default({ clearRatio: 0.8, clearWindows: 2, raiseWindows: 1 })
    .describe('How many windows in a row it takes the state to step up or down.'),
  autoBaselineHours: z
    .number()
    .min(0)
    .default(2)
    .describe(
      'Without a reference, build one from the first hours after a model or camera change; 0: never. Default: 2.',
    ),
  retainDays: z
    .number()
    .positive()
    .default(14)
    .describe('Days closed windows are kept, so a baseline can be built from any past range. Default: 14.'),
  maxLabels: z
    .number()
    .int()
    .positive()
    .max(256)
    .default(16)
    .describe(
      'Per-label statistics for at most this many labels per window; later labels count as other. Default: 16.',
    ),
  /**
   * The others are scored and reported, and named under `moved` when they pass the same test: detections
   * follow what is in the scene (who walks where, how near), not only how well the model sees it.
   */
  driveWith: z
    .array(z.string())
    .default(['image.*'])
    .describe(
      'Statistics whose PSI may drive the state (exact names, or prefixes ending in *), e.g. add det.*. Default: [image.*].',
    ),
  imageStep: z
    .number()
    .int()
    .positive()
    .max(32)
    .default(4)
    .describe(
      'Image statistics read every n-th pixel in each direction (or sparser, see imageSamples). Default: 4.',
    ),
  imageSamples: z
    .number()
    .int()
    .min(100)
    .default(5000)
    .describe(
      'Image statistics read sparser than imageStep so that at most about this many pixels are read per frame: a fixed cost whatever the input size. Default: 5000.',
    ),
  imageEvery: z
    .number()
    .int()
    .positive()
    .max(1000)
    .default(1)
    .describe(
      'Image statistics of every n-th frame only (detections are counted on every frame): for big inputs on fast GPUs. Default: 1.',
    ),
});
export type DriftConfig = z.infer<typeof DriftConfig>;
export type DriftConfigInput = z.input<typeof DriftConfig>;
