import { z } from 'zod';

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
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  rect: PixelRect,
  distanceKm: z.number().positive(),
  /** Share of the region's darkest pixels averaged for the dark channel (the region may hold sky between towers). */
  darkFraction: z.number().gt(0).max(1).default(0.1),
  /**
   * Transmission the dark channel reads on this target in perfectly clean air (1 - its intrinsic dark channel).
   * 1 is the plain dark-channel prior; a measured clear-day value removes the target's own reflectance.
   */
  intrinsicTransmission: z.number().gt(0).max(1).default(1),
});
export type Pm25Target = z.infer<typeof Pm25Target>;

export const Pm25Gates = z.strictObject({
  /** Below this solar elevation the frame is night (needs latitude/longitude). */
  minSunElevationDeg: z.number().default(5),
  /** Linear horizon-sky luminance below which the frame is too dark, with or without a location. */
  minSkyLuminance: z.number().min(0).default(0.04),
  /** Share of clipped pixels (either end) above which exposure is unusable. */
  maxClippedFraction: z.number().min(0).max(1).default(0.03),
  /** Near-region sharpness below this share of the site's running baseline: blur, dirt or droplets. */
  minSharpnessRatio: z.number().min(0).max(1).default(0.6),
  /** Frames of good light before the sharpness baseline is trusted. */
  sharpnessWarmup: z.number().int().min(1).default(5),
  /** Image shift (px) against the reference frame up to which the regions' margins absorb it. */
  maxShiftPx: z.number().positive().default(12),
  /**
   * A larger shift up to this (px) is followed: the frame is moved back onto the reference view and measured
   * again. Beyond it the camera was re-aimed and the regions must be set again. At or below maxShiftPx: off.
   */
  followShiftPx: z.number().min(0).default(32),
  /** Phase-correlation peak below which the frame does not match the reference view. */
  minRegistrationPeak: z.number().min(0).max(1).default(0.04),
  /** Target darker side lost: dark channel above the sky by this much means something bright in front. */
  occlusionMargin: z.number().min(0).default(0.08),
  /** Extinction this grey (|Ångström exponent| below) and visibility this short: fog or rain, not particles. */
  fogMaxAngstrom: z.number().min(0).default(0.3),
  fogMaxVisibilityKm: z.number().positive().default(2),
  /** Relative humidity (%) at or above which grey extinction is taken as fog or rain. */
  fogMinHumidity: z.number().min(0).max(100).default(93),
});
export type Pm25Gates = z.infer<typeof Pm25Gates>;

export const Pm25Prior = z.strictObject({
  /** Extinction of clean air (Rayleigh at 550 nm ≈ 0.012 /km) plus the site's background, per km. */
  beta0PerKm: z.number().min(0).default(0.012),
  /** Mass extinction efficiency of PM2.5 in m²/g (dry ≈ 3-5; humid air grows it). Median of the prior. */
  massExtinction: z.number().positive().default(4),
  /** Log-space standard deviation of the prior (the spread of k and of the aerosol mix). */
  logSd: z.number().positive().default(0.8),
});
export type Pm25Prior = z.infer<typeof Pm25Prior>;

/** Physical regressors the site model may use (`models/pm25/regressors.ts` computes them). */
export const Pm25Regressor = z.enum([
  'lnBeta',
  'lnBetaTotal',
  'lnBetaRatio',
  'angstrom',
  'lnSkyLuminance',
  'lnSkyBlueRed',
]);
export type Pm25Regressor = z.infer<typeof Pm25Regressor>;

export const Pm25Calibration = z.strictObject({
  /** Regressors of ln PM2.5 (chosen per site by rolling-origin validation, `scripts/select-pm25.ts`). */
  features: z.array(Pm25Regressor).min(1).max(4).default(['lnBeta', 'lnSkyLuminance']),
  /** Exponential forgetting: a pair's weight halves every this many days, so recent weeks dominate. */
  halfLifeDays: z.number().positive().optional(),
  /**
   * Residuals the bands are conformal on: `prequential` (each pair against the model before it, with adaptive
   * conformal inference) or `forecast` (each pair against a model fitted only on pairs older than
   * `forecastLagDays`: the error of an estimate made that long after the sensor's last reading).
   */
  intervals: z.enum(['prequential', 'forecast']).default('prequential'),
  forecastLagDays: z.number().positive().default(14),
  /** Rolling window of paired readings the site model is fitted on (it follows the seasons). */
  windowDays: z.number().positive().default(45),
  /** Paired readings before the state is `calibrated` (between 1 and this: `calibrating`). */
  minSamples: z.number().int().min(2).default(48),
  /** Refit after this many new pairs. */
  refitEvery: z.number().int().min(1).default(6),
  /** Ridge strength pulling the site model toward the physical prior. */
  ridge: z.number().min(0).default(4),
  /** A reading pairs with the evaluated frame nearest in time within this many minutes. */
  pairWithinMinutes: z.number().positive().default(40),
  /** Adaptive conformal inference step size. */
  aciGamma: z.number().min(0).max(0.5).default(0.01),
});
export type Pm25Calibration = z.infer<typeof Pm25Calibration>;

/** Per-camera PM2.5 estimation (proposed as `cameras[].pm25`). Regions refer to a `frame`-sized image. */
export const Pm25CameraConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Size the regions were drawn on; frames of another size are resized to it. */
  frame: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
  latitude: z.number().min(-90).max(90).optional(),
  longitude: z.number().min(-180).max(180).optional(),
  /** IANA zone of timestamps written without an offset (file names, CSV). */
  timezone: z.string().default('UTC'),
  /** Camera encoding gamma undone before the physics (2.2 ≈ sRGB). */
  gamma: z.number().min(1).max(3).default(2.2),
  /** Sky just above the horizon: the airlight A. */
  sky: PixelRect,
  targets: z.array(Pm25Target).min(1).max(4),
  /** Near textured region: sharpness (blur, dirt) and the near end of the contrast ratio. */
  near: z.strictObject({ rect: PixelRect, distanceKm: z.number().positive() }),
  /** Region compared with the reference frame to detect a moved camera (sized in multiples of 4). */
  registration: PixelRect,
  /** Region whose clipping is checked (leave out overlays, logos and text ribbons). */
  exposure: PixelRect,
  gates: Pm25Gates.prefault({}),
  prior: Pm25Prior.prefault({}),
  calibration: Pm25Calibration.prefault({}),
  /** Published estimate: median of the frames that passed the gates in this window. */
  windowMinutes: z.number().positive().default(15),
  /** Seconds between evaluated frames (the air changes slowly; each frame costs ~25 ms of CPU). */
  sampleEveryS: z.number().min(1).default(20),
});
export type Pm25CameraConfig = z.infer<typeof Pm25CameraConfig>;
export type Pm25CameraConfigInput = z.input<typeof Pm25CameraConfig>;

/** A camera's PM2.5 settings when it estimates PM2.5: `enabled: false` is as if the section were absent. */
export const activePm25 = (camera: { pm25?: Pm25CameraConfig | undefined }): Pm25CameraConfig | undefined =>
  camera.pm25?.enabled ? camera.pm25 : undefined;
