import { describe, expect, it } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import {
  CLIP_HIGH_BYTE,
  CLIP_LOW_BYTE,
  DARK_PATCH,
  THUMB_FACTOR,
  checkRegions,
  darkCount,
  rectSize,
  thumbRect,
} from '../../../models/pm25/raw-features.js';
import { milanConfig } from './helpers.js';

describe('PM2.5 raw-feature helpers', () => {
  it('constants: 5×5 dark patch, 4× thumbnails, clipping at byte 0 and 255', () => {
    expect(DARK_PATCH).toBe(5);
    expect(THUMB_FACTOR).toBe(4);
    expect(CLIP_LOW_BYTE).toBe(0);
    expect(CLIP_HIGH_BYTE).toBe(255);
  });

  it('darkCount: the rounded share of the pixels, at least 1 and at most all', () => {
    expect(darkCount(440 * 28, 0.1)).toBe(1232);
    expect(darkCount(100, 0.25)).toBe(25);
    expect(darkCount(10, 0.26)).toBe(3); // 2.6 rounds up
    expect(darkCount(10, 0.24)).toBe(2); // 2.4 rounds down
    expect(darkCount(10, 0.01)).toBe(1);
    expect(darkCount(10, 1)).toBe(10);
    expect(darkCount(10, 1.5)).toBe(10);
  });

  it('rectSize of a half-open rectangle', () => {
    expect(rectSize([10, 20, 15, 60])).toEqual({ w: 5, h: 40 });
    expect(rectSize([0, 198, 440, 226])).toEqual({ w: 440, h: 28 });
  });

  it('thumbRect trims to whole 4×4 blocks from the top-left corner', () => {
    expect(thumbRect([0, 140, 960, 396])).toEqual([0, 140, 960, 396]);
    expect(thumbRect([3, 5, 42, 44])).toEqual([3, 5, 39, 41]);
    expect(thumbRect([10, 10, 45, 47])).toEqual([10, 10, 42, 46]);
  });

  describe('checkRegions', () => {
    const base = milanConfig();
    const bad = (patch: Partial<Pm25CameraConfig>) => () => checkRegions({ ...base, ...patch });

    it('accepts the Milan example and regions that touch the frame edge', () => {
      expect(() => checkRegions(base)).not.toThrow();
      expect(bad({ exposure: [0, 0, 960, 540] })).not.toThrow();
    });

    it('refuses any region that leaves the frame, naming it', () => {
      expect(bad({ sky: [440, 120, 961, 165] })).toThrow(
        /sky region \[440,120,961,165\] leaves the 960x540 frame/,
      );
      expect(bad({ exposure: [0, 16, 800, 541] })).toThrow(/exposure region/);
      expect(bad({ registration: [0, 140, 964, 396] })).toThrow(/registration region/);
      expect(bad({ near: { rect: [300, 262, 690, 541], distanceKm: 0.35 } })).toThrow(/near region/);
      const target = { ...base.targets[1]!, rect: [0, 236, 961, 258] as [number, number, number, number] };
      expect(bad({ targets: [base.targets[0]!, target] })).toThrow(/target town region/);
    });

    it('needs a near region of 3×3 px for the Sobel kernel', () => {
      expect(bad({ near: { rect: [10, 10, 13, 13], distanceKm: 0.35 } })).not.toThrow();
      expect(bad({ near: { rect: [10, 10, 12, 13], distanceKm: 0.35 } })).toThrow(/at least 3x3/);
      expect(bad({ near: { rect: [10, 10, 13, 12], distanceKm: 0.35 } })).toThrow(/at least 3x3/);
    });

    it('needs 32×32 px of registration region after trimming to whole blocks', () => {
      expect(bad({ registration: [0, 0, 35, 35] })).not.toThrow();
      expect(bad({ registration: [0, 0, 31, 40] })).toThrow(/at least 32x32/);
      expect(bad({ registration: [0, 0, 40, 31] })).toThrow(/at least 32x32/);
    });
  });
});
