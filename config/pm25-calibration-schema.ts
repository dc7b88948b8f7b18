import { z } from 'zod';

/**
 * The PM2.5 site model of a camera (`cameras[].pm25.prior` and `.calibration`, docs/pm25.md): the physical
 * prior it starts from, and how it is fitted on paired readings of a reference sensor.
 */

export const Pm25Prior = z.strictObject({
  beta0PerKm: z
    .number()
    .min(0)
    .default(0.012)
    .describe(
      "Extinction of clean air (Rayleigh at 550 nm ≈ 0.012 /km) plus the site's background, per km. Default: 0.012.",
    ),
  massExtinction: z
    .number()
    .positive()
    .default(4)
    .describe(
      'Mass extinction efficiency of PM2.5 in m²/g (dry ≈ 3-5; humid air grows it). Median of the prior. Default: 4.',
    ),
  logSd: z
    .number()
    .positive()
    .default(0.8)
    .describe(
      'Log-space standard deviation of the prior (the spread of k and of the aerosol mix). Default: 0.8.',
    ),
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
  /** Chosen per site by rolling-origin validation, `scripts/select-pm25.ts`. */
  features: z
    .array(Pm25Regressor)
    .min(1)
    .max(4)
    .default(['lnBeta', 'lnSkyLuminance'])
    .describe('Regressors of ln PM2.5, 1 to 4. Default: [lnBeta, lnSkyLuminance].'),
  halfLifeDays: z
    .number()
    .positive()
    .optional()
    .describe(
      "Exponential forgetting: a pair's weight halves every this many days, so recent weeks dominate.",
    ),
  /**
   * `prequential`: each pair against the model before it, with adaptive conformal inference. `forecast`: each
   * pair against a model fitted only on pairs older than `forecastLagDays`: the error of an estimate made
   * that long after the sensor's last reading.
   */
  intervals: z
    .enum(['prequential', 'forecast'])
    .default('prequential')
    .describe(
      'Residuals the bands are conformal on: prequential (each pair against the model before it) or forecast (against a model fitted only on pairs older than forecastLagDays). Default: prequential.',
    ),
  forecastLagDays: z
    .number()
    .positive()
    .default(14)
    .describe(
      'forecast intervals: a pair is tested against a model fitted only on pairs older than this many days. Default: 14.',
    ),
  windowDays: z
    .number()
    .positive()
    .default(45)
    .describe(
      'Rolling window of paired readings the site model is fitted on, days (it follows the seasons). Default: 45.',
    ),
  minSamples: z
    .number()
    .int()
    .min(2)
    .default(48)
    .describe(
      'Paired readings before the state is calibrated (between 1 and this: calibrating). Default: 48.',
    ),
  refitEvery: z.number().int().min(1).default(6).describe('Refit after this many new pairs. Default: 6.'),
  ridge: z
    .number()
    .min(0)
    .default(4)
    .describe('Ridge strength pulling the site model toward the physical prior. Default: 4.'),
  pairWithinMinutes: z
    .number()
    .positive()
    .default(40)
    .describe(
      'A reading pairs with the evaluated frame nearest in time within this many minutes. Default: 40.',
    ),
  aciGamma: z
    .number()
    .min(0)
    .max(0.5)
    .default(0.01)
    .describe('Adaptive conformal inference step size. Default: 0.01.'),
});
export type Pm25Calibration = z.infer<typeof Pm25Calibration>;
