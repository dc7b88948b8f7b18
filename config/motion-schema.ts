import { z } from 'zod';
import { Polygon } from './polygon-schema.js';

/**
 * Motion gating of a camera (`cameras[].motion`, docs/safety.md): full inference rate while something moves,
 * a heartbeat rate while the scene is still.
 */
export const MotionConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe('Motion gating; off: every frame goes to inference. Default: false.'),
  width: z
    .number()
    .int()
    .min(16)
    .max(640)
    .default(160)
    .describe(
      'Width in px (16 to 640) of the grey frame the detector works on (the height follows the aspect ratio). Default: 160.',
    ),
  /**
   * Motion is a difference from the background, so a walker keeps changing pixels at its leading edge while
   * a person standing or a parked forklift fades into it, and the camera falls back to the heartbeat.
   */
  backgroundS: z
    .number()
    .gt(0)
    .max(600)
    .default(0.5)
    .describe(
      'Time constant of the running-average background, seconds; an object that stops fades into it in about twice this. Default: 0.5.',
    ),
  pixelThreshold: z
    .number()
    .int()
    .min(1)
    .max(255)
    .default(20)
    .describe(
      'Grey-level difference from the background above which a pixel counts as changed. Default: 20.',
    ),
  cellSize: z
    .number()
    .int()
    .min(2)
    .max(64)
    .default(8)
    .describe('Side of a cell in grey-frame pixels. Default: 8.'),
  cellThreshold: z
    .number()
    .gt(0)
    .max(1)
    .default(0.08)
    .describe('Share of changed pixels that makes a cell moving. Default: 0.08.'),
  minCells: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe('Moving cells needed for the frame to count as moving. Default: 1.'),
  globalChange: z
    .number()
    .gt(0)
    .max(1)
    .default(0.6)
    .describe(
      'A changed share above this is a lighting change or a camera move: infer, and relearn the background. Default: 0.6.',
    ),
  heartbeatFps: z
    .number()
    .positive()
    .max(30)
    .default(1)
    .describe(
      'Inferences per second in a still scene (objects standing still must stay tracked), at most 30. Default: 1.',
    ),
  holdS: z
    .number()
    .min(0)
    .default(1)
    .describe('Full rate continues this many seconds after the last motion. Default: 1.'),
  masks: z
    .array(Polygon)
    .default([])
    .describe(
      'Regions (polygons in source pixels) whose motion is ignored: trees, screens, a road outside the site.',
    ),
});
export type MotionConfig = z.infer<typeof MotionConfig>;
export type MotionConfigInput = z.input<typeof MotionConfig>;
