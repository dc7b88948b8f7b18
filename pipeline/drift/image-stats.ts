import type { InputFrame, InputSpec, Letterbox } from '../../models/types.js';

/** What a frame looks like, in numbers that move when a lens gets dirty, the light changes or the view does. */
export interface ImageStats {
  /** Mean luma, 0..255. */
  brightness: number;
  /** Standard deviation of luma. */
  contrast: number;
  /** Mean absolute 4-neighbour Laplacian of the green channel at full resolution: falls when the image blurs. */
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
  // Channels are read as stored (c0, g, c2); only the luma weights and the final sums depend on the order.
  const rgb = pixelOrder === 'rgb';
  const w0 = rgb ? 77 : 29;
  const w2 = rgb ? 29 : 77;
  const row = w * 3;
  let n = 0;
  let sum0 = 0;
  let sumG = 0;
  let sum2 = 0;
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
    for (let i = y * row + x0 * 3, end = y * row + x1 * 3; i < end; i += step * 3) {
      const c0 = data[i]!;
      const g = data[i + 1]!;
      const c2 = data[i + 2]!;
      // Fixed-point Rec. 601 luma; the weights sum to 256.
      const yv = (w0 * c0 + 150 * g + w2 * c2) >> 8;
      sum0 += c0;
      sumG += g;
      sum2 += c2;
      sumY += yv;
      sumYY += yv * yv;
      // Green alone carries most of the luma and costs a quarter of the reads.
      const lap = 4 * g - data[i - 2]! - data[i + 4]! - data[i + 1 - row]! - data[i + 1 + row]!;
      sumLap += lap < 0 ? -lap : lap;
      const max = c0 > g ? (c0 > c2 ? c0 : c2) : g > c2 ? g : c2;
      if (max >= 250) saturated++;
      else if (max <= 10) dark++;
      n++;
    }
  }
  if (n === 0) return null;
  const mean = sumY / n;
  const [sumR, sumB] = rgb ? [sum0, sum2] : [sum2, sum0];
  const total = sumR + sumG + sumB;
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(0, sumYY / n - mean * mean)),
    sharpness: sumLap / n,
    castRB: total > 0 ? (sumR - sumB) / total : 0,
    castG: total > 0 ? (sumG - (sumR + sumB) / 2) / total : 0,
    saturated: saturated / n,
    dark: dark / n,
    samples: n,
  };
}

/**
 * The pixel step for a picture: `imageStep`, raised so that no more than about `imageSamples` pixels are
 * read, which keeps the cost per frame fixed whatever the model's input size.
 */
export function samplingStep(
  lb: Pick<Letterbox, 'scaledWidth' | 'scaledHeight'>,
  cfg: { imageStep: number; imageSamples: number },
): number {
  return Math.max(
    cfg.imageStep,
    Math.round(Math.sqrt((lb.scaledWidth * lb.scaledHeight) / cfg.imageSamples)),
  );
}
