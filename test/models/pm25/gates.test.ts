import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import type { RgbFrame } from '../../../models/pm25/raw-features.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

const cfg = milanConfig({ gates: { sharpnessWarmup: 2 } });
const at = (wall: string) => parseLocalTime(wall, cfg.timezone);

async function transform(frame: RgbFrame, fn: (s: sharp.Sharp) => sharp.Sharp): Promise<RgbFrame> {
  const img = sharp(Buffer.from(frame.rgb), {
    raw: { width: frame.width, height: frame.height, channels: 3 },
  });
  const { data, info } = await fn(img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

describe.skipIf(!hasShared)('PM2.5 quality gates on real frames', () => {
  it('withholds night, blur, a moved camera and clipped exposure, and passes clean day frames', async () => {
    const est = await Pm25Estimator.create(cfg);
    try {
      // Two mornings of the same hour teach the sharpness baseline (and the first sets the reference view).
      const day1 = await milanFrame('20250218-1000.jpg', cfg);
      const day2 = await milanFrame('20250303-1000.jpg', cfg);
      const a = await est.evaluate(day1, at('2025-02-18T10:00'));
      const b = await est.evaluate(day2, at('2025-03-03T10:00'));
      expect(a.flags).toEqual([]);
      expect(b.flags).toEqual([]);
      expect(b.estimable).toBe(true);
      expect(b.features.shiftPx).toBeDefined();

      // Auto-exposure makes the night sky bright: the sun's elevation, not brightness, calls it.
      const night = await est.evaluate(await milanFrame('20250129-2000.jpg', cfg), at('2025-01-29T20:00'));
      expect(night.flags).toContain('night');
      expect(night.pm25).toBeNull();

      const blurred = await est.evaluate(await transform(day2, (s) => s.blur(4)), at('2025-03-04T10:00'));
      expect(blurred.flags).toContain('blur');
      expect(blurred.estimable).toBe(false);

      const shifted = await est.evaluate(
        await transform(
          await transform(day2, (s) => s.extend({ top: 40, left: 60, background: '#000' })),
          (s) => s.extract({ left: 0, top: 0, width: 960, height: 540 }),
        ),
        at('2025-03-05T10:00'),
      );
      expect(shifted.flags).toContain('moved');
      expect(Math.abs(shifted.features.shiftPx![0] - 60)).toBeLessThanOrEqual(4);
      expect(Math.abs(shifted.features.shiftPx![1] - 40)).toBeLessThanOrEqual(4);

      const overexposed = await est.evaluate(
        await transform(day2, (s) => s.linear(3, 0)),
        at('2025-03-06T10:00'),
      );
      expect(overexposed.flags).toContain('clipped');
    } finally {
      await est.close();
    }
  });
});
