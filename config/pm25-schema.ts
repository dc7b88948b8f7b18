import { z } from 'zod';
import { Pm25Calibration, Pm25Prior } from './pm25-calibration-schema.js';

export * from './pm25-calibration-schema.js';

/** A pixel rectangle [x0, y0, x1, y1) in the frame size given by `frame`. */
export const PixelRect = z
  .tuple([
    z.number().int().min(0),
    z.number().int().min(0),
    z.number().int().positive(),
    z.number().int().positive(),
  ])
  .refine(([x0, y0, x1, y1]) => x1 > x0 && y1 > y0, 'expected [x0, y0, x1, y1] with x1 > x0 and y1 > y0');
export type PixelRect = z.infer<typeof PixelRect>;

/** A far object whose contrast against the horizon sky measures extinction over `distanceKm`. */
export const Pm25Target = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .describe('Names the target: letters, digits, _ and -, up to 32 characters.'),
  rect: PixelRect.describe('The far object, [x0, y0, x1, y1] in frame pixels.'),
  distanceKm: z.number().positive().describe('Distance to the target, km.'),
  darkFraction: z
    .number()
    .gt(0)
    .max(1)
    .default(0.1)
    .describe(
      "Share of the region's darkest pixels averaged for the dark channel (the region may hold sky between towers). Default: 0.1.",
    ),
  /** 1 is the plain dark-channel prior; a measured clear-day value removes the target's own reflectance. */
  intrinsicTransmission: z
    .number()
    .gt(0)
    .max(1)
    .default(1)
    .describe(
      'Transmission the dark channel reads on this target in perfectly clean air (1 - its intrinsic dark channel). Default: 1.',
    ),
});
export type Pm25Target = z.infer<typeof Pm25Target>;

export const Pm25Gates = z.strictObject({
  minSunElevationDeg: z
    .number()
    .default(5)
    .describe(
      'Below this solar elevation (degrees) the frame is night (needs latitude/longitude). Default: 5.',
    ),
  minSkyLuminance: z
    .number()
    .min(0)
    .default(0.04)
    .describe(
      'Linear horizon-sky luminance below which the frame is too dark, with or without a location. Default: 0.04.',
    ),
  maxClippedFraction: z
    .number()
    .min(0)
    .max(1)
    .default(0.03)
    .describe('Share of clipped pixels (either end) above which exposure is unusable. Default: 0.03.'),
  minSharpnessRatio: z
    .number()
    .min(0)
    .max(1)
    .default(0.6)
    .describe(
      "Near-region sharpness below this share of the site's running baseline: blur, dirt or droplets. Default: 0.6.",
    ),
  sharpnessWarmup: z
    .number()
    .int()
    .min(1)
    .default(5)
    .describe('Frames of good light before the sharpness baseline is trusted. Default: 5.'),
  maxShiftPx: z
    .number()
    .positive()
    .default(12)
    .describe(
      "Image shift (px) against the reference frame up to which the regions' margins absorb it. Default: 12.",
    ),
  /** Beyond it the camera was re-aimed and the regions must be set again. */
  followShiftPx: z
    .number()
    .min(0)
    .default(32)
    .describe(
      'A larger shift up to this (px) is followed: the frame is moved back onto the reference view and measured again. At or below maxShiftPx: off. Default: 32.',
    ),
  minRegistrationPeak: z
    .number()
    .min(0)
    .max(1)
    .default(0.04)
    .describe(
      'Phase-correlation peak below which the frame does not match the reference view. Default: 0.04.',
    ),
  occlusionMargin: z
    .number()
    .min(0)
    .default(0.08)
    .describe(
      'Target darker side lost: dark channel above the sky by this much means something bright in front. Default: 0.08.',
    ),
  fogMaxAngstrom: z
    .number()
    .min(0)
    .default(0.3)
    .describe(
      'Extinction this grey (|Ångström exponent| below this) with visibility under fogMaxVisibilityKm: fog or rain, not particles. Default: 0.3.',
    ),
  fogMaxVisibilityKm: z
    .number()
    .positive()
    .default(2)
    .describe('Visibility (km) below which grey extinction is taken as fog or rain. Default: 2.'),
  fogMinHumidity: z
    .number()
    .min(0)
    .max(100)
    .default(93)
    .describe(
      'Relative humidity (%) at or above which grey extinction is taken as fog or rain. Default: 93.',
    ),
});
export type Pm25Gates = z.infer<typeof Pm25Gates>;

/** Per-camera PM2.5 estimation (proposed as `cameras[].pm25`). Regions refer to a `frame`-sized image. */
export const Pm25CameraConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'false: as if the section were absent (no side stream, no Home Assistant PM2.5 sensor). Default: true.',
    ),
  frame: z
    .strictObject({
      width: z.number().int().positive().describe('Width in px of the image the regions were drawn on.'),
      height: z.number().int().positive().describe('Height in px of the image the regions were drawn on.'),
    })
    .describe('Size the regions were drawn on; frames of another size are resized to it.'),
  latitude: z.number().min(-90).max(90).optional().describe('Degrees, for the night gate (solar elevation).'),
  longitude: z
    .number()
    .min(-180)
    .max(180)
    .optional()
    .describe('Degrees, for the night gate (solar elevation).'),
  timezone: z
    .string()
    .default('UTC')
    .describe('IANA zone of timestamps written without an offset (file names, CSV). Default: UTC.'),
  gamma: z
    .number()
    .min(1)
    .max(3)
    .default(2.2)
    .describe('Camera encoding gamma undone before the physics (2.2 ≈ sRGB), 1 to 3. Default: 2.2.'),
  sky: PixelRect.describe('Sky just above the horizon: the airlight A. [x0, y0, x1, y1] in frame pixels.'),
  targets: z
    .array(Pm25Target)
    .min(1)
    .max(4)
    .describe('Far objects whose contrast against the sky measures extinction, 1 to 4.'),
  near: z
    .strictObject({
      rect: PixelRect.describe('The near region, [x0, y0, x1, y1] in frame pixels.'),
      distanceKm: z.number().positive().describe('Distance to the near region, km.'),
    })
    .describe('Near textured region: sharpness (blur, dirt) and the near end of the contrast ratio.'),
  registration: PixelRect.describe(
    'Region compared with the reference frame to detect a moved camera (sized in multiples of 4).',
  ),
  exposure: PixelRect.describe(
    'Region whose clipping is checked (leave out overlays, logos and text ribbons).',
  ),
  gates: Pm25Gates.prefault({}).describe(
    'Quality gates: the thresholds that make a frame not estimable (night, too dark, clipped, blurred, moved, occluded, fog).',
  ),
  prior: Pm25Prior.prefault({}).describe(
    'The physical prior the site model starts from and is pulled toward.',
  ),
  referenceCsv: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A CSV that a sensor's logger on this box appends to, followed as the reference topic is: a time column (datetime/time/ts; without an offset, in `timezone`), a pm25 column, optionally rh/humidity. Relative to the config file.",
    ),
  calibration: Pm25Calibration.prefault({}).describe(
    'The site model, fitted on readings of a reference sensor paired with frames.',
  ),
  windowMinutes: z
    .number()
    .positive()
    .default(15)
    .describe(
      'Published estimate: median of the frames that passed the gates in this window, minutes. Default: 15.',
    ),
  sampleEveryS: z
    .number()
    .min(1)
    .default(20)
    .describe(
      'Seconds between evaluated frames (the air changes slowly; each frame costs tens of ms of CPU). Default: 20.',
    ),
});
export type Pm25CameraConfig = z.infer<typeof Pm25CameraConfig>;
export type Pm25CameraConfigInput = z.input<typeof Pm25CameraConfig>;

/** A camera's PM2.5 settings when it estimates PM2.5: `enabled: false` is as if the section were absent. */
export const activePm25 = (camera: { pm25?: Pm25CameraConfig | undefined }): Pm25CameraConfig | undefined =>
  camera.pm25?.enabled ? camera.pm25 : undefined;
