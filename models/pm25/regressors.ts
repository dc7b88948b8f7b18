import type { Pm25Prior, Pm25Regressor } from '../../config/pm25-schema.js';
import type { PhysicsFeatures } from './physics.js';
import { BETA_FLOOR, particleBeta } from './physical-prior.js';

/**
 * The site model's regressors, all physical, by name (the config picks a set; `scripts/select-pm25.ts` picks it
 * by rolling-origin validation inside the calibration period). `prior` is the slope the ridge pulls toward:
 * 1 for log extinction (PM2.5 ∝ β), 0 for the rest (no effect unless the data show one).
 */
export interface Regressor {
  value(prior: Pm25Prior, p: PhysicsFeatures): number;
  prior: number;
}

const ln = (v: number, floor: number) => Math.log(Number.isFinite(v) ? Math.max(v, floor) : floor);
const clamp = (v: number, lo: number, hi: number, fallback: number) =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;

export const REGRESSORS = {
  /** ln(β − β₀): particle extinction above clean air (the prior's own signal). */
  lnBeta: { value: (prior, p) => Math.log(particleBeta(prior, p)), prior: 1 },
  /**
   * ln β with a softer floor (a tenth of β₀), without subtracting β₀: on a camera whose contrast is not
   * radiometric, β₀ is not known, and subtracting it makes clean days jump to the floor.
   */
  lnBetaTotal: { value: (prior, p) => ln(p.beta, Math.max(BETA_FLOOR, prior.beta0PerKm / 10)), prior: 1 },
  /** ln β from the near/far contrast ratio: independent of the dark-channel prior. */
  lnBetaRatio: {
    value: (prior, p) => ln(p.betaRatio, Math.max(BETA_FLOOR, prior.beta0PerKm / 10)),
    prior: 0,
  },
  /** Ångström-like exponent: fine particles (high) against coarse dust and droplets (near 0). */
  angstrom: { value: (_prior, p) => clamp(p.angstrom, -1, 5, 1.5), prior: 0 },
  /** ln horizon-sky luminance: sun angle, forward scattering, exposure the contrast is read in. */
  lnSkyLuminance: { value: (_prior, p) => ln(p.skyLuminance, 1e-3), prior: 0 },
  /** ln sky blue/red: a whiter sky is a hazier one, read without any target. */
  lnSkyBlueRed: { value: (_prior, p) => ln(p.skyBlueRed, 1e-3), prior: 0 },
} satisfies Record<Pm25Regressor, Regressor>;

export function regressorValues(
  prior: Pm25Prior,
  p: PhysicsFeatures,
  names: readonly Pm25Regressor[],
): number[] {
  return names.map((n) => REGRESSORS[n].value(prior, p));
}

/** Where the ridge pulls the site model with little data: the prior's own coefficients. */
export function regressorPrior(prior: Pm25Prior, names: readonly Pm25Regressor[]) {
  return { intercept: Math.log(1000 / prior.massExtinction), slopes: names.map((n) => REGRESSORS[n].prior) };
}
