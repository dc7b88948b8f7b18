import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputFrame } from '../../../models/types.js';
import { imageStatsOf, samplingStep } from '../../../pipeline/drift/image-stats.js';

/** A 64×64 model input holding a 64×48 picture centred with 8 rows of padding (value 114) above and below. */
function frame(pixel: (x: number, y: number) => [number, number, number]): InputFrame {
  const letterbox = computeLetterbox(640, 480, { width: 64, height: 64, padPosition: 'center' });
  const data = new Uint8Array(64 * 64 * 3).fill(114);
  for (let y = 0; y < letterbox.scaledHeight; y++) {
    for (let x = 0; x < letterbox.scaledWidth; x++) {
      const i = ((y + letterbox.padY) * 64 + x + letterbox.padX) * 3;
      data.set(pixel(x, y), i);
    }
  }
  return { data, letterbox };
}

describe('image statistics of a letterboxed frame', () => {
  it('a flat grey picture: its brightness, no contrast, no edges, no cast; padding is not read', () => {
    const f = frame(() => [200, 200, 200]);
    expect(f.letterbox).toMatchObject({ scaledHeight: 48, padY: 8 });
    const s = imageStatsOf(f, 'rgb', 4)!;
    expect(s).toMatchObject({
      brightness: 200,
      contrast: 0,
      sharpness: 0,
      castRB: 0,
      castG: 0,
      saturated: 0,
      dark: 0,
    });
    // columns 1, 5, …, 61 and rows 1, 5, …, 45 of the picture
    expect(s.samples).toBe(16 * 12);
  });

  it('a black picture is all dark; a white one all saturated', () => {
    expect(imageStatsOf(frame(() => [0, 0, 0]))).toMatchObject({ brightness: 0, dark: 1, saturated: 0 });
    expect(imageStatsOf(frame(() => [255, 255, 255]))).toMatchObject({
      brightness: 255,
      dark: 0,
      saturated: 1,
    });
  });

  it('contrast is the standard deviation of luma; sharpness the mean |Laplacian|', () => {
    // vertical stripes two pixels wide: luma 0 or 100, and every sampled pixel (odd column) has one
    // horizontal neighbour unlike itself → |4v − v − other − v − v| = 100
    const s = imageStatsOf(
      frame((x) => (Math.floor(x / 2) % 2 ? [100, 100, 100] : [0, 0, 0])),
      'rgb',
      1,
    )!;
    expect(s.brightness).toBeCloseTo(50, 0);
    expect(s.contrast).toBeCloseTo(50, 0);
    expect(s.sharpness).toBeCloseTo(100, 0);
  });

  it('colour cast from the channel means, with the pixel order of the model', () => {
    const warm = imageStatsOf(
      frame(() => [200, 100, 50]),
      'rgb',
    )!;
    expect(warm.castRB).toBeCloseTo((200 - 50) / 350, 12);
    expect(warm.castG).toBeCloseTo((100 - 125) / 350, 12);
    // the same bytes read as BGR are a cold picture
    expect(
      imageStatsOf(
        frame(() => [200, 100, 50]),
        'bgr',
      )!.castRB,
    ).toBeCloseTo(-(150 / 350), 12);
  });

  it('a buffer handed to an inference worker (detached, length 0) gives no statistics', () => {
    const f = frame(() => [1, 2, 3]);
    expect(imageStatsOf({ data: new Uint8Array(0), letterbox: f.letterbox })).toBeNull();
  });

  it('samplingStep keeps the pixels read per frame near imageSamples, never below imageStep', () => {
    const cfg = { imageStep: 4, imageSamples: 5000 };
    expect(samplingStep({ scaledWidth: 320, scaledHeight: 240 }, cfg)).toBe(4); // 4800 pixels
    expect(samplingStep({ scaledWidth: 640, scaledHeight: 480 }, cfg)).toBe(8); // 4800 pixels
    expect(samplingStep({ scaledWidth: 1280, scaledHeight: 720 }, cfg)).toBe(14); // about 4700
    expect(samplingStep({ scaledWidth: 100, scaledHeight: 100 }, cfg)).toBe(4);
  });
});
