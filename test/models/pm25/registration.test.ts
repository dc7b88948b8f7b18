import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RawFeatures, RgbFrame } from '../../../models/pm25/raw-features.js';
import { referenceFeatures } from '../../../models/pm25/reference-features.js';
import { ReferenceView, phaseCorrelate } from '../../../models/pm25/registration.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame, moved } from './helpers.js';

const cfg = milanConfig();

/** The same with sharp (pad, then crop back to size), as a camera that moved would deliver it. */
async function movedBySharp(frame: RgbFrame, dx: number, dy: number): Promise<RgbFrame> {
  const { width, height } = frame;
  const raw = { raw: { width, height, channels: 3 as const } };
  const padded = await sharp(Buffer.from(frame.rgb), raw)
    .extend({
      left: Math.max(0, dx),
      top: Math.max(0, dy),
      right: Math.max(0, -dx),
      bottom: Math.max(0, -dy),
      background: '#000',
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { data } = await sharp(padded.data, {
    raw: { width: padded.info.width, height: padded.info.height, channels: 3 },
  })
    .extract({ left: Math.max(0, -dx), top: Math.max(0, -dy), width, height })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

describe.skipIf(!hasShared)('PM2.5 registration (phase correlation) on a real Milan frame', () => {
  let frame: RgbFrame;
  let ref: RawFeatures;
  beforeAll(async () => {
    frame = await milanFrame('20250218-1000.jpg', cfg);
    ref = referenceFeatures(cfg, frame);
  });

  it('the same view: no shift and a peak of 1', () => {
    const s = phaseCorrelate(ref.thumb, ref.thumb, ref.thumbWidth, ref.thumbHeight);
    expect(s).toEqual({ dx: 0, dy: 0, peak: expect.closeTo(1, 6) });
  });

  it('recovers known shifts of the frame, with their signs, in frame pixels', async () => {
    const view = new ReferenceView(ref.thumb, ref.thumbWidth, ref.thumbHeight);
    for (const [dx, dy] of [
      [8, 0],
      [0, 12],
      [-20, 4],
      [16, -8],
      [-4, -4],
      [40, 24],
    ] as const) {
      const cur = referenceFeatures(cfg, moved(frame, dx, dy));
      expect(referenceFeatures(cfg, await movedBySharp(frame, dx, dy)).thumb).toEqual(cur.thumb);
      const s = view.shiftOf(cur.thumb);
      expect([s.dx, s.dy], `shift ${dx},${dy}`).toEqual([dx, dy]);
      expect(s.peak, `shift ${dx},${dy}`).toBeGreaterThan(0.3);
      // the one-off function agrees with the prepared view
      expect(phaseCorrelate(ref.thumb, cur.thumb, ref.thumbWidth, ref.thumbHeight)).toEqual(s);
    }
  });

  it('a shift off the 4-px grid lands on the nearest block, within 4 px', async () => {
    const view = new ReferenceView(ref.thumb, ref.thumbWidth, ref.thumbHeight);
    const s = view.shiftOf(referenceFeatures(cfg, moved(frame, 14, -7)).thumb);
    expect(Math.abs(s.dx - 14)).toBeLessThanOrEqual(4);
    expect(Math.abs(s.dy + 7)).toBeLessThanOrEqual(4);
  });

  it('another day of the same view matches; an unrelated picture does not', async () => {
    const view = new ReferenceView(ref.thumb, ref.thumbWidth, ref.thumbHeight);
    const other = referenceFeatures(cfg, await milanFrame('20250303-1000.jpg', cfg));
    const same = view.shiftOf(other.thumb);
    expect(Math.hypot(same.dx, same.dy)).toBeLessThanOrEqual(4);
    expect(same.peak).toBeGreaterThan(0.1);
    // noise with a fixed seed: no view at all
    let seed = 12345;
    const noise = Float32Array.from(ref.thumb, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    });
    const none = view.shiftOf(noise);
    expect(none.peak).toBeLessThan(0.1);
    expect(none.peak).toBeLessThan(same.peak / 3);
  });

  it('a flipped view peaks away from the origin or weakly (not a false "same view")', () => {
    // Mirror the thumbnail left-right: content is not a translation of the original.
    const w = ref.thumbWidth;
    const flipped = Float32Array.from(
      ref.thumb,
      (_, i) => ref.thumb[Math.floor(i / w) * w + (w - 1 - (i % w))]!,
    );
    const s = phaseCorrelate(ref.thumb, flipped, w, ref.thumbHeight);
    expect(s.peak).toBeLessThan(0.5);
  });
});
