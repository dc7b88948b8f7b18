import type { Pm25Prior } from '../../config/pm25-schema.js';
import type { PhysicsFeatures } from './physics.js';

/** Extinction below this (per km) is not told apart from clean air: the log-space regressor stops here. */
export const BETA_FLOOR = 5e-4;
/** Standard normal quantiles of the central 80 % and 95 % intervals. */
export const Z80 = 1.2816;
export const Z95 = 1.96;

/** Particle extinction above clean air, floored (per km). */
export function particleBeta(prior: Pm25Prior, physics: PhysicsFeatures): number {
  return Math.max(physics.beta - prior.beta0PerKm, BETA_FLOOR);
}

/**
 * Closed-form prior: PM2.5 ≈ (β − β₀)/k. β in 1/km, k in m²/g, so β·1000/k is in µg/m³ (1/km = 1000 Mm⁻¹,
 * and Mm⁻¹ / (m²/g) = µg/m³).
 */
export function priorPm25(prior: Pm25Prior, physics: PhysicsFeatures): number {
  return (particleBeta(prior, physics) * 1000) / prior.massExtinction;
}

/** The prior's own band: log-normal with the prior's log-space spread. */
export function priorInterval(prior: Pm25Prior, physics: PhysicsFeatures) {
  const centre = Math.log(priorPm25(prior, physics));
  const band = (z: number): [number, number] => [
    Math.exp(centre - z * prior.logSd),
    Math.exp(centre + z * prior.logSd),
  ];
  return { pm25: Math.exp(centre), i80: band(Z80), i95: band(Z95) };
}
