import { describe, expect, it } from 'vitest';
import type { Pm25CameraConfig, PixelRect } from '../../../config/pm25-schema.js';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { derivePhysics } from '../../../models/pm25/physics.js';
import type { RgbFrame } from '../../../models/pm25/raw-features.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

/**
 * Renders haze onto a clear frame with the imaging model I = J·t + A(1 − t), t = e^(−βd), in linear radiance
 * (the config's gamma undone and redone), then 8-bit quantised like a camera. The sky rectangle is taken as
 * infinitely far (I = A); the far target sits at its configured distance.
 */
function renderHaze(clear: RgbFrame, cfg: Pm25CameraConfig, airlight: number[], beta: number): RgbFrame {
  const rgb = Uint8Array.from(clear.rgb);
  const paint = ([x0, y0, x1, y1]: PixelRect, t: number) => {
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * clear.width + x) * 3 + c;
          const j = (clear.rgb[i]! / 255) ** cfg.gamma;
          const v = j * t + airlight[c]! * (1 - t);
          rgb[i] = Math.round(255 * v ** (1 / cfg.gamma));
        }
      }
    }
  };
  paint(cfg.sky, 0);
  paint(cfg.targets[0]!.rect, Math.exp(-beta * cfg.targets[0]!.distanceKm));
  return { ...clear, rgb };
}

describe.skipIf(!hasShared)('PM2.5 extinction from synthetic haze of known β', () => {
  it('recovers β within 5 % over β·d from 0.05 to 3', async () => {
    // sRGB-style gamma so the linearisation is part of what is checked.
    const base = milanConfig({ gamma: 2.2 });
    const clearFile = '20250312-1200.jpg'; // the clearest labelled noon before April (PM2.5 7 µg/m³)
    const probe = await FeatureExtractor.create(base);
    const clear = await milanFrame(clearFile, base);
    const clearRaw = await probe.run(clear);
    await probe.close();
    // The clear frame's own dark channel on the target is its intrinsic transmission (reflectance, residual haze).
    const skyline = { ...base.targets[0]!, intrinsicTransmission: 1 - clearRaw.targets[0]!.dark };
    const cfg: Pm25CameraConfig = { ...base, targets: [skyline] };
    const fx = await FeatureExtractor.create(cfg);
    try {
      const d = skyline.distanceKm;
      const results: { bd: number; rel: number }[] = [];
      for (const bd of [0.05, 0.1, 0.3, 0.6, 1, 1.5, 2, 2.5, 3]) {
        const beta = bd / d;
        const hazy = renderHaze(clear, cfg, clearRaw.sky, beta);
        const physics = derivePhysics(cfg, await fx.run(hazy));
        const rel = Math.abs(physics.targets[0]!.beta - beta) / beta;
        results.push({ bd, rel });
        expect(physics.visibilityKm).toBeCloseTo(3.912 / physics.beta, 6);
      }
      for (const r of results)
        expect(r.rel, `β·d = ${r.bd}: relative error ${r.rel.toFixed(4)}`).toBeLessThan(0.05);
    } finally {
      await fx.close();
    }
  });
});
