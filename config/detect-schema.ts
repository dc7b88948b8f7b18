import { z } from 'zod';
import { Polygon } from './safety-schema.js';

/**
 * A region of one camera's view where detections are dropped (a poster of a person, a parked forklift
 * on a screen, the road outside the fence). Coordinates are source pixels, like zones.
 */
export const IgnoreMask = z.strictObject({
  polygon: Polygon,
  /** Site labels dropped inside (after the model's label map); every label when omitted. */
  labels: z.array(z.string().min(1)).min(1).optional(),
  /** Which point of a box decides: its centre, or its foot (bottom centre, where a person stands). */
  point: z.enum(['center', 'foot']).default('center'),
});
export type IgnoreMask = z.infer<typeof IgnoreMask>;

/** Tiled inference for a camera (docs/models.md): overlapping tiles at source resolution, merged across seams. */
export const TilesConfig = z.strictObject({
  /** Tiles across and down. */
  grid: z.tuple([z.number().int().min(1).max(16), z.number().int().min(1).max(16)]),
  /** Fraction of a tile shared with its neighbour. */
  overlap: z.number().min(0).max(0.9).default(0.2),
  /** Also run the whole frame (large objects no tile holds whole). */
  fullFrame: z.boolean().default(true),
  /** IoU above which two boxes of a label from different passes are one object. */
  iou: z.number().min(0).max(1).default(0.45),
});
export type TilesConfig = z.infer<typeof TilesConfig>;

/** Per-camera detection policy (docs/models.md), applied to each frame's detections after decoding. */
export const CameraDetectConfig = z.strictObject({
  ignore: z.array(IgnoreMask).default([]),
  /** Tiled inference; every frame then costs one inference per tile (plus one for the full frame). */
  tiles: TilesConfig.optional(),
});
export type CameraDetectConfig = z.infer<typeof CameraDetectConfig>;

/** onnxruntime session options for one model (its providers, threads and TensorRT options sit beside). */
export const ModelSessionConfig = z.strictObject({
  /** Graph optimisation level; `all` unless a model misbehaves under a fusion. */
  graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  /** Threads between independent nodes (1: the workers already run frames in parallel). */
  interOpThreads: z.number().int().positive().max(64).default(1),
});
export type ModelSessionConfig = z.infer<typeof ModelSessionConfig>;
