import { describe, expect, it } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import { KOSCHMIEDER, MIN_TRANSMISSION, derivePhysics } from '../../../models/pm25/physics.js';
import type { RawFeatures, RegionDark } from '../../../models/pm25/raw-features.js';
import { milanConfig } from './helpers.js';

// Milan example: targets skyline (8 km) and town (1.5 km), near block at 0.35 km.
const cfg = milanConfig();
const D_FAR = 8;
const D_TOWN = 1.5;
const D_NEAR = 0.35;

/** Region statistics of a target seen through air of extinction β (grey: every channel alike). */
function seen(beta: number, d: number): RegionDark {
  const t = Math.exp(-beta * d);
  return { q: [1 - t, 1 - t, 1 - t], dark: 1 - t };
}

function raw(overrides: Partial<RawFeatures> = {}): RawFeatures {
  return {
    sky: [0.5, 0.6, 0.8],
    targets: [seen(0.1, D_FAR), seen(0.1, D_TOWN)],
    near: seen(0.1, D_NEAR),
    nearGradient: 0.3,
    nearGrey: 0.4,
    clipped: 0.01,
    thumb: new Float32Array(0),
    thumbWidth: 0,
    thumbHeight: 0,
    ...overrides,
  };
}

describe('PM2.5 physics from the graph outputs', () => {
  it('recovers a known β from every target, and V = 3.912/β', () => {
    for (const beta of [0.02, 0.1, 0.35]) {
      const p = derivePhysics(cfg, raw({ targets: [seen(beta, D_FAR), seen(beta, D_TOWN)] }));
      expect(p.targets[0]!.transmission).toBeCloseTo(Math.exp(-beta * D_FAR), 12);
      expect(p.targets[1]!.transmission).toBeCloseTo(Math.exp(-beta * D_TOWN), 12);
      expect(p.targets[0]!.beta).toBeCloseTo(beta, 10);
      expect(p.targets[1]!.beta).toBeCloseTo(beta, 10);
      expect(p.beta).toBeCloseTo(beta, 10);
      expect(p.visibilityKm).toBeCloseTo(3.912 / beta, 8);
    }
    expect(KOSCHMIEDER).toBe(3.912);
  });

  it('β_i = −ln t_i / d_i by hand, with the target names and distances carried', () => {
    // dark 0.6 on the skyline: t = 0.4, β = −ln 0.4 / 8 = 0.114536…
    const p = derivePhysics(cfg, raw({ targets: [{ q: [0.6, 0.6, 0.6], dark: 0.6 }, seen(0.1, D_TOWN)] }));
    expect(p.targets[0]!.name).toBe('skyline');
    expect(p.targets[0]!.distanceKm).toBe(8);
    expect(p.targets[0]!.transmission).toBeCloseTo(0.4, 12);
    expect(p.targets[0]!.beta).toBeCloseTo(0.11453634, 7);
    expect(p.targets[1]!.name).toBe('town');
  });

  it('combines the targets by inverse variance, weights (t·d)²', () => {
    // skyline t = 0.3 (β₁ = −ln 0.3/8), town t = 0.7 (β₂ = −ln 0.7/1.5)
    const p = derivePhysics(
      cfg,
      raw({
        targets: [
          { q: [0.7, 0.7, 0.7], dark: 0.7 },
          { q: [0.3, 0.3, 0.3], dark: 0.3 },
        ],
      }),
    );
    const b1 = -Math.log(0.3) / 8;
    const b2 = -Math.log(0.7) / 1.5;
    const w1 = (0.3 * 8) ** 2;
    const w2 = (0.7 * 1.5) ** 2;
    expect(p.beta).toBeCloseTo((w1 * b1 + w2 * b2) / (w1 + w2), 10);
    // 0.150496 vs 0.237783: the weighted mean leans to the skyline (w1 = 5.76 against 1.1025).
    expect(p.beta).toBeCloseTo(0.16452, 5);
  });

  it('divides by the target intrinsic transmission (a clear-day measurement)', () => {
    const c: Pm25CameraConfig = {
      ...cfg,
      targets: [{ ...cfg.targets[0]!, intrinsicTransmission: 0.8 }, cfg.targets[1]!],
    };
    // true transmission 0.5 seen on a target that reads 0.8 in clean air: dark = 1 − 0.8·0.5 = 0.6
    const p = derivePhysics(c, raw({ targets: [{ q: [0.6, 0.6, 0.6], dark: 0.6 }, seen(0.1, D_TOWN)] }));
    expect(p.targets[0]!.transmission).toBeCloseTo(0.5, 12);
    expect(p.targets[0]!.beta).toBeCloseTo(Math.log(2) / 8, 12);
    // never above 1, even when a frame is clearer than the clear-day measurement
    const q = derivePhysics(c, raw({ targets: [{ q: [0.1, 0.1, 0.1], dark: 0.1 }, seen(0.1, D_TOWN)] }));
    expect(q.targets[0]!.transmission).toBe(1);
    expect(q.targets[0]!.beta).toBeCloseTo(0, 12);
  });

  it('drops targets whose transmission is lost in 8-bit noise (t < 0.02)', () => {
    expect(MIN_TRANSMISSION).toBe(0.02);
    // skyline t = 0.0199: unusable, β comes from the town alone
    const lost = derivePhysics(cfg, raw({ targets: [{ q: [1, 1, 1], dark: 0.9801 }, seen(0.2, D_TOWN)] }));
    expect(lost.targets[0]!.usable).toBe(false);
    expect(lost.targets[1]!.usable).toBe(true);
    expect(lost.beta).toBeCloseTo(0.2, 10);
    // skyline t = 0.0201: usable and weighed in
    const kept = derivePhysics(cfg, raw({ targets: [{ q: [1, 1, 1], dark: 0.9799 }, seen(0.2, D_TOWN)] }));
    expect(kept.targets[0]!.usable).toBe(true);
    const b1 = -Math.log(0.0201) / 8;
    const w1 = (0.0201 * 8) ** 2;
    const w2 = (Math.exp(-0.3) * 1.5) ** 2;
    expect(kept.beta).toBeCloseTo((w1 * b1 + w2 * 0.2) / (w1 + w2), 8);
    // every target lost: β only has a lower bound (NaN), the beyond_range case
    const none = derivePhysics(
      cfg,
      raw({
        targets: [
          { q: [1, 1, 1], dark: 0.99 },
          { q: [1, 1, 1], dark: 0.99 },
        ],
      }),
    );
    expect(none.targets.every((t) => !t.usable)).toBe(true);
    expect(none.beta).toBeNaN();
  });

  it('perfectly clear air gives β = 0 and unbounded visibility', () => {
    const p = derivePhysics(
      cfg,
      raw({
        targets: [
          { q: [0, 0, 0], dark: 0 },
          { q: [0, 0, 0], dark: 0 },
        ],
      }),
    );
    expect(p.beta).toBe(0);
    expect(p.visibilityKm).toBe(Infinity);
  });

  it('β_ratio = ln(C_near/C_far)/(d_far − d_near) from luminance contrasts', () => {
    // Grey air of β = 0.07: C = e^(−βd) on both ends, so the ratio returns β exactly.
    const p = derivePhysics(
      cfg,
      raw({ targets: [seen(0.07, D_FAR), seen(0.3, D_TOWN)], near: seen(0.07, D_NEAR) }),
    );
    expect(p.betaRatio).toBeCloseTo(0.07, 10);
    // Coloured by hand: luminance contrast 0.2126·C_r + 0.7152·C_g + 0.0722·C_b, farthest target = skyline.
    const far: RegionDark = { q: [0.5, 0.6, 0.7], dark: 0.5 };
    const near: RegionDark = { q: [0.1, 0.2, 0.4], dark: 0.1 };
    const cFar = 0.2126 * 0.5 + 0.7152 * 0.4 + 0.0722 * 0.3;
    const cNear = 0.2126 * 0.9 + 0.7152 * 0.8 + 0.0722 * 0.6;
    const q = derivePhysics(cfg, raw({ targets: [far, seen(0.3, D_TOWN)], near }));
    expect(q.betaRatio).toBeCloseTo(Math.log(cNear / cFar) / (8 - 0.35), 12);
    // The farthest target is found by distance, not by its place in the list.
    const swapped: Pm25CameraConfig = { ...cfg, targets: [cfg.targets[1]!, cfg.targets[0]!] };
    const s = derivePhysics(swapped, raw({ targets: [seen(0.3, D_TOWN), far], near }));
    expect(s.betaRatio).toBeCloseTo(q.betaRatio, 12);
  });

  it('per-channel contrast, channel extinction and the Ångström exponent', () => {
    // Particles with exponent α: β_c = β_g·(λ_c/0.55)^(−α), λ = 0.61 (red), 0.465 (blue).
    for (const alpha of [0, 1.3, 2]) {
      const bR = 0.05 * (0.61 / 0.55) ** -alpha;
      const bG = 0.05;
      const bB = 0.05 * (0.465 / 0.55) ** -alpha;
      const c = [Math.exp(-bR * D_FAR), Math.exp(-bG * D_FAR), Math.exp(-bB * D_FAR)];
      const far: RegionDark = { q: [1 - c[0]!, 1 - c[1]!, 1 - c[2]!], dark: 1 - c[0]! };
      const p = derivePhysics(cfg, raw({ targets: [far, seen(0.05, D_TOWN)] }));
      p.targets[0]!.contrast.forEach((v, i) => expect(v).toBeCloseTo(c[i]!, 12));
      expect(p.targets[0]!.channelBeta[0]).toBeCloseTo(bR, 10);
      expect(p.targets[0]!.channelBeta[1]).toBeCloseTo(bG, 10);
      expect(p.targets[0]!.channelBeta[2]).toBeCloseTo(bB, 10);
      expect(p.angstrom).toBeCloseTo(alpha, 8);
    }
    // Full red contrast (C_r = 1) means no red extinction: the exponent is undefined.
    const p = derivePhysics(cfg, raw({ targets: [{ q: [0, 0.5, 0.5], dark: 0 }, seen(0.05, D_TOWN)] }));
    expect(p.angstrom).toBeNaN();
  });

  it('sky colour, luminance, sharpness, occlusion excess and clipping', () => {
    const p = derivePhysics(
      cfg,
      raw({
        sky: [0.5, 0.6, 0.8],
        targets: [
          { q: [0.9, 0.9, 0.9], dark: 0.9 },
          { q: [1.2, 1.2, 1.2], dark: 1.15 },
        ],
        nearGradient: 0.3,
        nearGrey: 0.4,
        clipped: 0.0125,
      }),
    );
    expect(p.airlight).toEqual([0.5, 0.6, 0.8]);
    expect(p.skyLuminance).toBeCloseTo(0.2126 * 0.5 + 0.7152 * 0.6 + 0.0722 * 0.8, 12);
    expect(p.skyBlueRed).toBeCloseTo(1.6, 12);
    expect(p.skySaturation).toBeCloseTo((0.8 - 0.5) / 0.8, 12);
    expect(p.sharpness).toBeCloseTo(0.75, 12);
    // The brightest of the targets' dark channels decides: 1.15 − 1.
    expect(p.targetExcess).toBeCloseTo(0.15, 12);
    expect(p.clipped).toBe(0.0125);
    // A black sky has no saturation (no division by zero).
    expect(derivePhysics(cfg, raw({ sky: [0, 0, 0] })).skySaturation).toBe(0);
  });
});
