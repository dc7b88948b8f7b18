import type { Pm25CameraConfig, PixelRect } from '../../config/pm25-schema.js';

/** An RGB frame, 8 bits per channel, interleaved row-major (what sharp's `.raw()` gives). */
export interface RgbFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Dark statistics of one region, relative to the horizon sky A. */
export interface RegionDark {
  /** Per channel, mean of the darkest `fraction` of I_c / A_c (linear radiance). */
  q: [number, number, number];
  /** Mean of the darkest `fraction` of the min-pooled dark channel min_c(I_c / A_c). */
  dark: number;
}

/** What the feature graph (and its TypeScript reference) measures on one frame; physics is derived from it. */
export interface RawFeatures {
  /** Horizon-sky radiance A per channel (linear, 0..1). */
  sky: [number, number, number];
  targets: RegionDark[];
  near: RegionDark;
  /** Mean Sobel gradient magnitude of the near region's grey level (linear). */
  nearGradient: number;
  /** Mean grey level of the near region (linear). */
  nearGrey: number;
  /** Share of exposure-region pixels clipped at 0 or 255. */
  clipped: number;
  /** Registration region, grey (encoded values 0..1), averaged over 4×4 blocks, row-major. */
  thumb: Float32Array;
  thumbWidth: number;
  thumbHeight: number;
}

/** Side of the square min-pool window of the dark channel (He et al. use 15 px at full size; towers are thin). */
export const DARK_PATCH = 5;
/** Registration thumbnails are 4× smaller than the frame in each direction. */
export const THUMB_FACTOR = 4;
/** A pixel whose brightest channel is at or beyond these byte levels is clipped. */
export const CLIP_LOW_BYTE = 0;
export const CLIP_HIGH_BYTE = 255;

/** Number of darkest pixels averaged for a region of `n` pixels. */
export function darkCount(n: number, fraction: number): number {
  return Math.max(1, Math.min(n, Math.round(n * fraction)));
}

export function rectSize([x0, y0, x1, y1]: PixelRect): { w: number; h: number } {
  return { w: x1 - x0, h: y1 - y0 };
}

/** Registration rect trimmed to whole 4×4 blocks. */
export function thumbRect([x0, y0, x1, y1]: PixelRect): PixelRect {
  const w = Math.floor((x1 - x0) / THUMB_FACTOR) * THUMB_FACTOR;
  const h = Math.floor((y1 - y0) / THUMB_FACTOR) * THUMB_FACTOR;
  return [x0, y0, x0 + w, y0 + h];
}

/** Every region must lie inside the frame; a clear error beats a graph that fails at run time. */
export function checkRegions(cfg: Pm25CameraConfig): void {
  const { width, height } = cfg.frame;
  const rects: [string, PixelRect][] = [
    ['sky', cfg.sky],
    ['near', cfg.near.rect],
    ['registration', cfg.registration],
    ['exposure', cfg.exposure],
    ...cfg.targets.map((t): [string, PixelRect] => [`target ${t.name}`, t.rect]),
  ];
  for (const [name, [x0, y0, x1, y1]] of rects) {
    if (x1 > width || y1 > height)
      throw new Error(`pm25 ${name} region [${x0},${y0},${x1},${y1}] leaves the ${width}x${height} frame`);
  }
  const near = rectSize(cfg.near.rect);
  if (near.w < 3 || near.h < 3) throw new Error('pm25 near region must be at least 3x3 px (Sobel)');
  const reg = rectSize(thumbRect(cfg.registration));
  if (reg.w < 32 || reg.h < 32) throw new Error('pm25 registration region must be at least 32x32 px');
}
