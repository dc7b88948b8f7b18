import { describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { referenceFeatures } from '../../../models/pm25/reference-features.js';
import type { RawFeatures } from '../../../models/pm25/raw-features.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

function flatten(f: RawFeatures): number[] {
  return [
    ...f.sky,
    ...f.targets.flatMap((t) => [...t.q, t.dark]),
    ...f.near.q,
    f.near.dark,
    f.nearGradient,
    f.nearGrey,
    f.clipped,
  ];
}

describe.skipIf(!hasShared)('PM2.5 feature graph (onnxruntime) against the TypeScript reference', () => {
  // A hazy winter morning, a clear spring noon, a night: three different regimes of the same view.
  for (const gamma of [1, 2.2]) {
    it(`matches on real Milan frames (gamma ${gamma})`, async () => {
      const cfg = milanConfig({ gamma });
      const fx = await FeatureExtractor.create(cfg);
      try {
        for (const file of ['20250206-1000.jpg', '20250312-1200.jpg', '20250129-2000.jpg']) {
          const frame = await milanFrame(file, cfg);
          const graph = await fx.run(frame);
          const ref = referenceFeatures(cfg, frame);
          const a = flatten(graph);
          const b = flatten(ref);
          expect(a).toHaveLength(b.length);
          a.forEach((v, i) => expect(v, `${file} value ${i}`).toBeCloseTo(b[i]!, 4));
          expect(graph.thumb.length).toBe(ref.thumb.length);
          let maxDiff = 0;
          ref.thumb.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - graph.thumb[i]!))));
          expect(maxDiff).toBeLessThan(1e-5);
          // Sanity of the physics inputs themselves: sky is brighter than the towers' dark pixels by day.
          if (file !== '20250129-2000.jpg') expect(ref.targets[0]!.dark).toBeLessThan(1);
        }
      } finally {
        await fx.close();
      }
    });
  }
});
