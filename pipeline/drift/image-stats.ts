import type { InputFrame, InputSpec } from '../../models/types.js';

/** What a frame looks like, in numbers that move when a lens gets dirty, the light changes or the view does. */
export interface ImageStats {
  /** Mean luma, 0..255. */
  brightness: number;
  /** Standard deviation of luma. */
  contrast: number;
  /** Mean absolute 4-neighbour Laplacian of luma at full resolution: falls when the image blurs. */
  sharpness: number;
  /** (mean R − mean B) / (mean R + G + B): a warm (+) or cold (−) cast, independent of exposure. */
  castRB: number;
  /** (mean G − (mean R + mean B)/2) / (mean R + G + B): a green (+) or magenta (−) cast. */
  castG: number;
  /** Share of sampled pixels with a channel at 250 or above (blown out). */
  saturated: number;
  /** Share of sampled pixels with every channel at 10 or below (crushed to black). */
  dark: number;
  /** Pixels sampled. */
  samples: number;
}

/**
 * Image statistics of a letterboxed model-input frame, reading every `step`-th pixel in each direction
 * inside the scaled picture only (the padding would dilute everything). Null for a buffer that is gone
 * (transferred to an inference worker) or a picture too small to sample.
 */
export function imageStatsOf(
  frame: InputFrame,
  pixelOrder: InputSpec['pixelOrder'] = 'rgb',
  step = 4,
): ImageStats | null {
  const { data, letterbox: lb } = frame;
  const w = lb.inputWidth;
  if (data.length !== w * lb.inputHeight * 3 || lb.scaledWidth < 3 || lb.scaledHeight < 3) return null;
  const [ro, bo] = pixelOrder === 'rgb' ? [0, 2] : [2, 0];
  const row = w * 3;
  // Fixed-point Rec. 601 luma; weights sum to 256.
  const luma = (i: number) => (77 * data[i + ro]! + 150 * data[i + 1]! + 29 * data[i + bo]!) >> 8;
  let n = 0;
  let sumR = 0;
  let sumG = 0;
  let sumB = 0;
  let sumY = 0;
  let sumYY = 0;
  let sumLap = 0;
  let saturated = 0;
  let dark = 0;
  // One pixel in from the picture's edges so the Laplacian's neighbours are picture, not padding.
  const x0 = lb.padX + 1;
  const x1 = lb.padX + lb.scaledWidth - 1;
  const y1 = lb.padY + lb.scaledHeight - 1;
  for (let y = lb.padY + 1; y < y1; y += step) {
    for (let x = x0; x < x1; x += step) {
      const i = y * row + x * 3;
      const r = data[i + ro]!;
      const g = data[i + 1]!;
      const b = data[i + bo]!;
      const yv = (77 * r + 150 * g + 29 * b) >> 8;
      sumR += r;
      sumG += g;
      sumB += b;
      sumY += yv;
      sumYY += yv * yv;
      const lap = 4 * yv - luma(i - 3) - luma(i + 3) - luma(i - row) - luma(i + row);
      sumLap += lap < 0 ? -lap : lap;
      if (r >= 250 || g >= 250 || b >= 250) saturated++;
      else if (r <= 10 && g <= 10 && b <= 10) dark++;
      n++;
    }
  }
  if (n === 0) return null;
  const mean = sumY / n;
  const rgb = sumR + sumG + sumB;
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(0, sumYY / n - mean * mean)),
    sharpness: sumLap / n,
    castRB: rgb > 0 ? (sumR - sumB) / rgb : 0,
    castG: rgb > 0 ? (sumG - (sumR + sumB) / 2) / rgb : 0,
    saturated: saturated / n,
    dark: dark / n,
    samples: n,
  };
}
