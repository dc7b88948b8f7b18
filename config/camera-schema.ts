import { z } from 'zod';
import { Pm25CameraConfig } from './pm25-schema.js';
import { cameraSafetyShape } from './safety-schema.js';
import { CameraDetectConfig } from './detect-schema.js';
import { redactUrl } from './redact-url.js';

const sourceSchemes = ['rtsp:', 'rtsps:', 'http:', 'https:', 'file:'] as const;

/** A camera source: rtsp://, http(s)://, file:// or a plain path, or a /dev/video* device. */
export const SourceUrl = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (value.startsWith('/dev/video')) return;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return; // a plain file path
    let scheme: string;
    try {
      scheme = new URL(value).protocol;
    } catch {
      ctx.addIssue({ code: 'custom', message: `not a valid URL: ${redactUrl(value)}` });
      return;
    }
    if (!(sourceSchemes as readonly string[]).includes(scheme)) {
      ctx.addIssue({
        code: 'custom',
        message: `unsupported source scheme "${scheme}" (expected rtsp://, rtsps://, http(s)://, file://, a path or /dev/video*)`,
      });
    }
  });

const Seconds = z.number().positive();

export const CameraConfig = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'camera ids use letters, digits, _ and - (MQTT topic safe)')
    .describe('Unique per box; part of the camera topics. Letters, digits, _ and -, up to 64 characters.'),
  name: z.string().optional().describe('Shown on the status page.'),
  source: SourceUrl.describe(
    'rtsp:// or rtsps:// (TCP), http(s):// (a live stream, e.g. MJPEG), file:// or a path (relative to the config file), or /dev/videoN (v4l2).',
  ),
  fps: z
    .number()
    .positive()
    .max(120)
    .optional()
    .describe(
      "At most this many frames per second handed to inference (≤ 120); the source's own rate when omitted.",
    ),
  model: z.string().min(1).describe('The model this camera runs: a key of models.'),
  enabled: z.boolean().default(true).describe('false: the camera is not started. Default: true.'),
  loop: z
    .boolean()
    .default(false)
    .describe(
      'File sources: start again at the end (the published pts wraps with the file). Default: false.',
    ),
  realtime: z
    .boolean()
    .default(true)
    .describe(
      "File sources: read at the file's own frame rate (true) or as fast as inference takes them (false, benchmarks). Default: true.",
    ),
  hwaccel: z
    .enum(['none', 'jetson', 'cuda', 'vaapi'])
    .default('none')
    .describe('ffmpeg hardware decode preset. Default: none.'),
  stallTimeoutS: Seconds.default(10).describe(
    'Watchdog: restart the camera when no frame arrived for this many seconds. Default: 10.',
  ),
  connectTimeoutS: Seconds.default(20).describe(
    "Seconds for each step of a (re)connect: the probe, then the first frame; also ffmpeg's socket timeout for rtsp and http. Default: 20.",
  ),
  failAfterAttempts: z
    .number()
    .int()
    .positive()
    .default(5)
    .describe(
      'Failed starts in a row after which the camera is reported failed (it keeps retrying, backoff capped at 30 s). Default: 5.',
    ),
  pm25: Pm25CameraConfig.optional().describe(
    "PM2.5 visual estimate from this camera's fixed view. Regions are [x0, y0, x1, y1] pixel rectangles on a frame-sized image.",
  ),
  detect: CameraDetectConfig.optional().describe(
    "Detection policy of this camera: ignore masks and tiled inference, applied to each frame's detections.",
  ),
  /** Tracking, zones and rules, proximity, motion gating and `priority` (config/safety-schema.ts). */
  ...cameraSafetyShape,
});
export type CameraConfig = z.infer<typeof CameraConfig>;
