import { z } from 'zod';

/**
 * Multi-object tracking of a camera (`cameras[].tracking`, docs/safety.md): ByteTrack's two score bands,
 * where high detections start and keep tracks and low ones only keep them.
 */
export const TrackingConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'Track ids in detections; off: no track ids, no rules, no events for this camera. Default: true.',
    ),
  highScore: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Detections at least this sure are matched first and keep tracks. Default: 0.5.'),
  lowScore: z
    .number()
    .min(0)
    .max(1)
    .default(0.1)
    .describe('Between lowScore and highScore: only keep existing tracks (second stage). Default: 0.1.'),
  newTrackScore: z
    .number()
    .min(0)
    .max(1)
    .default(0.6)
    .describe('A new track starts only from a detection at least this sure. Default: 0.6.'),
  matchIou: z
    .number()
    .gt(0)
    .max(1)
    .default(0.2)
    .describe('Minimum IoU with the predicted box for a match, first stage. Default: 0.2.'),
  lowMatchIou: z
    .number()
    .gt(0)
    .max(1)
    .default(0.5)
    .describe('Minimum IoU with the predicted box for a match, second stage. Default: 0.5.'),
  minHits: z
    .number()
    .int()
    .positive()
    .default(2)
    .describe(
      'Consecutive hits before a new track is reported (except on the very first frame). Default: 2.',
    ),
  lostTtlS: z
    .number()
    .positive()
    .default(2)
    .describe(
      'A lost track is forgotten once unseen this many seconds and for at least lostMinMisses processed frames. Default: 2.',
    ),
  lostMinMisses: z
    .number()
    .int()
    .positive()
    .default(3)
    .describe(
      'Processed frames a lost track must be missed before it is forgotten (a slow heartbeat keeps it alive). Default: 3.',
    ),
});
export type TrackingConfig = z.infer<typeof TrackingConfig>;
export type TrackingConfigInput = z.input<typeof TrackingConfig>;
