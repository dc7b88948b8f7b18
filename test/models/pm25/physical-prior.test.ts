import { describe, expect, it } from 'vitest';
import { Pm25Prior } from '../../../config/pm25-schema.js';
import {
  BETA_FLOOR,
  Z80,
  Z95,
  particleBeta,
  priorInterval,
  priorPm25,
} from '../../../models/pm25/physical-prior.js';
import type { PhysicsFeatures } from '../../../models/pm25/physics.js';

const defaults = Pm25Prior.parse({});

/** A frame's physics with only β set to something meaningful: the prior reads nothing else. */
function physics(beta: number): PhysicsFeatures {
  return {
    airlight: [0.8, 0.85, 0.9],
    skyLuminance: 0.84,
    skyBlueRed: 1.1,
    skySaturation: 0.1,
    targets: [],
    beta,
    betaRatio: beta,
    visibilityKm: 3.912 / beta,
    angstrom: 1.3,
    sharpness: 0.2,
    targetExcess: 0,
    clipped: 0,
  };
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

describe('physical prior', () => {
  it('uses the documented defaults: β₀ = 0.012 /km, k = 4 m²/g, log-sd 0.8', () => {
    expect(defaults).toEqual({ beta0PerKm: 0.012, massExtinction: 4, logSd: 0.8 });
  });

  it('subtracts clean air from β and floors the rest at BETA_FLOOR', () => {
    expect(particleBeta(defaults, physics(0.212))).toBeCloseTo(0.2, 12);
    expect(BETA_FLOOR).toBe(5e-4);
    // Cleaner than the assumed clean air, or exactly it: the floor, never zero or negative.
    expect(particleBeta(defaults, physics(0.012))).toBe(BETA_FLOOR);
    expect(particleBeta(defaults, physics(0.005))).toBe(BETA_FLOOR);
    expect(particleBeta(defaults, physics(0.0124))).toBe(BETA_FLOOR);
    expect(particleBeta(defaults, physics(0.0126))).toBeCloseTo(6e-4, 12);
  });

  it('converts β − β₀ per km to µg/m³ as (β − β₀)·1000/k', () => {
    // 0.2 /km = 200 Mm⁻¹; over 4 m²/g that is 50 µg/m³.
    expect(priorPm25(defaults, physics(0.212))).toBeCloseTo(50, 10);
    // A larger mass extinction means fewer grams for the same light: half as much PM2.5 at k = 8.
    expect(priorPm25({ ...defaults, massExtinction: 8 }, physics(0.212))).toBeCloseTo(25, 10);
    expect(priorPm25({ ...defaults, beta0PerKm: 0.112 }, physics(0.212))).toBeCloseTo(25, 10);
    // Clean air reads the floor's value, 5e-4·1000/4.
    expect(priorPm25(defaults, physics(0.001))).toBeCloseTo(0.125, 12);
  });

  it('uses the standard normal quantiles of the central 80 % and 95 % intervals', () => {
    expect(normalCdf(Z80)).toBeCloseTo(0.9, 4);
    expect(normalCdf(Z95)).toBeCloseTo(0.975, 4);
  });

  it('centres a log-normal band of the prior’s spread on the prior estimate', () => {
    const { pm25, i80, i95 } = priorInterval(defaults, physics(0.212));
    expect(pm25).toBeCloseTo(50, 10);
    expect(i80[0]).toBeCloseTo(50 * Math.exp(-Z80 * 0.8), 10);
    expect(i80[1]).toBeCloseTo(50 * Math.exp(Z80 * 0.8), 10);
    expect(i95[0]).toBeCloseTo(50 * Math.exp(-Z95 * 0.8), 10);
    expect(i95[1]).toBeCloseTo(50 * Math.exp(Z95 * 0.8), 10);
    // Symmetric in log space: each band's geometric mean is the estimate.
    expect(Math.sqrt(i80[0] * i80[1])).toBeCloseTo(pm25, 10);
    expect(Math.sqrt(i95[0] * i95[1])).toBeCloseTo(pm25, 10);
    // Nested: the 95 % band contains the 80 % band.
    expect(i95[0]).toBeLessThan(i80[0]);
    expect(i95[1]).toBeGreaterThan(i80[1]);
  });

  it('widens the band with logSd and keeps it positive at the floor', () => {
    const narrow = priorInterval({ ...defaults, logSd: 0.2 }, physics(0.212));
    const wide = priorInterval({ ...defaults, logSd: 1.2 }, physics(0.212));
    expect(wide.i80[1] / wide.i80[0]).toBeCloseTo(Math.exp(2 * Z80 * 1.2), 8);
    expect(narrow.i80[1] / narrow.i80[0]).toBeCloseTo(Math.exp(2 * Z80 * 0.2), 8);
    const clean = priorInterval(defaults, physics(0));
    expect(clean.pm25).toBeCloseTo(0.125, 12);
    expect(clean.i95[0]).toBeGreaterThan(0);
  });
});
