import { z } from 'zod';
import { Polygon } from './safety-schema.js';

/**
 * A region of one camera's view where detections are dropped (a poster of a person, a parked forklift
 * on a screen, the road outside the fence). Coordinates are source pixels, like zones.
 */
export const IgnoreMask = z.strictObject({
  polygon: Polygon.describe('The region, [x, y] points in source pixels, at least three.'),
  labels: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("Site labels dropped inside (after the model's label map); every label when omitted."),
  point: z
    .enum(['center', 'foot'])
    .default('center')
    .describe(
      'Which point of a box decides: its centre, or its foot (bottom centre, where a person stands). Default: center.',
    ),
});
export type IgnoreMask = z.infer<typeof IgnoreMask>;

/** Tiled inference for a camera (docs/models.md): overlapping tiles at source resolution, merged across seams. */
export const TilesConfig = z.strictObject({
  grid: z
    .tuple([z.number().int().min(1).max(16), z.number().int().min(1).max(16)])
    .describe('Tiles across and down: [cols, rows], each 1 to 16.'),
  overlap: z
    .number()
    .min(0)
    .max(0.9)
    .default(0.2)
    .describe('Fraction of a tile shared with its neighbour. Default: 0.2.'),
  fullFrame: z
    .boolean()
    .default(true)
    .describe('Also run the whole frame (large objects no tile holds whole). Default: true.'),
  iou: z
    .number()
    .min(0)
    .max(1)
    .default(0.45)
    .describe('IoU above which two boxes of a label from different passes are one object. Default: 0.45.'),
});
export type TilesConfig = z.infer<typeof TilesConfig>;

/** Per-camera detection policy (docs/models.md), applied to each frame's detections after decoding. */
export const CameraDetectConfig = z.strictObject({
  ignore: z
    .array(IgnoreMask)
    .default([])
    .describe('Ignore masks: detections covered by one are dropped. Default: none.'),
  tiles: TilesConfig.optional().describe(
    'Tiled inference; every frame then costs one inference per tile (plus one for the full frame).',
  ),
});
export type CameraDetectConfig = z.infer<typeof CameraDetectConfig>;

/** onnxruntime session options for one model (its providers, threads and TensorRT options sit beside). */
export const ModelSessionConfig = z.strictObject({
  graphOptimization: z
    .enum(['disabled', 'basic', 'extended', 'all'])
    .default('all')
    .describe(
      'onnxruntime graph optimisation level; all unless a model misbehaves under a fusion. Default: all.',
    ),
  interOpThreads: z
    .number()
    .int()
    .positive()
    .max(64)
    .default(1)
    .describe(
      'onnxruntime threads between independent nodes (1: the workers already run frames in parallel). Default: 1.',
    ),
});
export type ModelSessionConfig = z.infer<typeof ModelSessionConfig>;
