import { describe, expect, it } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { referenceFeatures } from '../../../models/pm25/reference-features.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

/** Graph (float32) and reference (float64) agree to 1e-4, as docs/pm25.md promises. */
function near(got: number, want: number, what?: string): void {
  expect(Math.abs(got - want), what).toBeLessThan(1e-4);
}

describe.skipIf(!hasShared)('PM2.5 feature extractor on onnxruntime (real Milan frame)', () => {
  it('maps every graph output to its field, per target, against the TypeScript reference', async () => {
    const base = milanConfig();
    // Three targets of different sizes and shares, so a swapped index or output shows.
    const cfg: Pm25CameraConfig = {
      ...base,
      targets: [
        ...base.targets,
        {
          name: 'roofs',
          rect: [600, 300, 700, 340],
          distanceKm: 0.8,
          darkFraction: 0.3,
          intrinsicTransmission: 1,
        },
      ],
    };
    const fx = await FeatureExtractor.create(cfg, ['cpu']);
    try {
      const frame = await milanFrame('20250218-1000.jpg', cfg);
      const got = await fx.run(frame);
      const want = referenceFeatures(cfg, frame);
      got.sky.forEach((v, i) => near(v, want.sky[i]!));
      expect(got.targets).toHaveLength(3);
      got.targets.forEach((t, i) => {
        t.q.forEach((v, c) => near(v, want.targets[i]!.q[c]!, `target ${i} q${c}`));
        near(t.dark, want.targets[i]!.dark, `target ${i} dark`);
      });
      // the three targets really differ, so the comparison above can tell them apart
      expect(new Set(got.targets.map((t) => t.dark.toFixed(3))).size).toBe(3);
      got.near.q.forEach((v, c) => near(v, want.near.q[c]!));
      near(got.near.dark, want.near.dark);
      near(got.nearGradient, want.nearGradient);
      near(got.nearGrey, want.nearGrey);
      expect(got.nearGradient).not.toBeCloseTo(got.nearGrey, 2);
      expect(got.clipped).toBeCloseTo(want.clipped, 6);
      expect(got.thumbWidth).toBe(240);
      expect(got.thumbHeight).toBe(64);
      expect(got.thumb).toBeInstanceOf(Float32Array);
      expect(got.thumb.length).toBe(240 * 64);
      let maxDiff = 0;
      want.thumb.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got.thumb[i]!))));
      expect(maxDiff).toBeLessThan(1e-5);
      // The same frame twice gives the same numbers (no state between runs).
      const again = await fx.run(frame);
      expect(again.targets).toEqual(got.targets);
    } finally {
      await fx.close();
    }
  });

  it('sizes the thumbnail from the registration region trimmed to whole 4×4 blocks', async () => {
    const cfg = milanConfig({ registration: [0, 140, 958, 395] }); // 958×255 → 956×252 → 239×63
    const fx = await FeatureExtractor.create(cfg);
    try {
      const frame = await milanFrame('20250218-1000.jpg', cfg);
      const got = await fx.run(frame);
      expect([got.thumbWidth, got.thumbHeight]).toEqual([239, 63]);
      expect(got.thumb.length).toBe(239 * 63);
      expect(Array.from(got.thumb.subarray(0, 239))).toEqual(
        Array.from(referenceFeatures(cfg, frame).thumb.subarray(0, 239), (v) => expect.closeTo(v, 5)),
      );
    } finally {
      await fx.close();
    }
  });

  it('refuses a frame of another size with a clear error', async () => {
    const cfg = milanConfig();
    const fx = await FeatureExtractor.create(cfg);
    try {
      const rgb = new Uint8Array(959 * 540 * 3);
      await expect(fx.run({ rgb, width: 959, height: 540 })).rejects.toThrow(
        /959x540, config expects 960x540/,
      );
      await expect(fx.run({ rgb, width: 960, height: 539 })).rejects.toThrow(/config expects 960x540/);
    } finally {
      await fx.close();
    }
  });

  it('runs with the default provider list on a box where TensorRT and CUDA do not load', async () => {
    // The model's providers (default [tensorrt, cuda, cpu]) are handed on: a provider that does not load
    // must fall through to the next, as the detector's does, not fail PM2.5 for good.
    const cfg = milanConfig();
    const fx = await FeatureExtractor.create(cfg, ['tensorrt', 'cuda', 'cpu']);
    try {
      const frame = await milanFrame('20250218-1000.jpg', cfg);
      near((await fx.run(frame)).sky[0], referenceFeatures(cfg, frame).sky[0]);
    } finally {
      await fx.close();
    }
  });

  it('refuses a config whose regions leave the frame before building a session', async () => {
    const cfg = milanConfig({ sky: [440, 120, 961, 165] });
    await expect(FeatureExtractor.create(cfg)).rejects.toThrow(/sky region/);
  });
});
