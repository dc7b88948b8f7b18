import { z } from 'zod';

/**
 * Schemas of every payload Vigil publishes. Subscribers (and our own tests) parse with these; the
 * contract is at-least-once, so consumers dedupe by `id` where a payload has one.
 */

const EpochMs = z.number().int().nonnegative();

/** `<base>/<site>/<device>/status`, retained; also the last will (`offline`). */
export const StatusPayload = z.strictObject({
  state: z.enum(['online', 'offline']),
  /** Epoch ms; in the last will it is the time the connection was opened, not the time it was lost. */
  ts: EpochMs,
  version: z.string(),
  /**
   * A random id the box keeps in its data dir, the same across restarts and config changes: a box that
   * moved to another site or device knows its own status under the old root (old-roots-service.ts).
   * Optional: a retained status published by an earlier agent has none.
   */
  box: z.string().min(1).optional(),
});
export type StatusPayload = z.infer<typeof StatusPayload>;

export const cameraStateNames = ['connecting', 'streaming', 'stalled', 'failed', 'stopped'] as const;

/** `…/cameras/<camera>/state`, retained: the latest state of one camera. */
export const CameraStatePayload = z.strictObject({
  camera: z.string(),
  state: z.enum(cameraStateNames),
  /** Why, in words a person can act on (never a credential). */
  reason: z.string().optional(),
  /** Epoch ms when this state began. */
  since: EpochMs,
  ts: EpochMs,
});
export type CameraStatePayload = z.infer<typeof CameraStatePayload>;

export const Box = z.strictObject({ x1: z.number(), y1: z.number(), x2: z.number(), y2: z.number() });

export const Detection = z.strictObject({
  label: z.string(),
  classId: z.number().int().nonnegative(),
  score: z.number().min(0).max(1),
  /** Pixels in the source frame. */
  box: Box,
  /** The camera's track this detection belongs to (stable across frames); absent until a track is reported. */
  trackId: z.number().int().positive().optional(),
});
export type Detection = z.infer<typeof Detection>;

/** `…/cameras/<camera>/detections`: one processed frame. */
export const DetectionsPayload = z.strictObject({
  /** Unique per message: the dedupe key for at-least-once delivery. */
  id: z.string().min(1),
  camera: z.string(),
  /** Capture time, epoch ms. */
  ts: EpochMs,
  /** Presentation time in the source, seconds. */
  pts: z.number(),
  /** Per-camera sequence number, rising by one across restarts: a gap means messages were dropped. */
  seq: z.number().int().nonnegative(),
  model: z.string(),
  provider: z.string(),
  inferenceMs: z.number().nonnegative(),
  frame: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
  detections: z.array(Detection),
});
export type DetectionsPayload = z.infer<typeof DetectionsPayload>;
