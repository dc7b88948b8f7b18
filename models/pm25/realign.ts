import type { RgbFrame } from './raw-features.js';

/**
 * The frame as the reference view saw it, for a view that moved by (dx, dy) px (content at p in the reference
 * is at p + (dx, dy) now, as ReferenceView.shiftOf reports it). Rows are copied whole, so this costs about one
 * frame copy. Pixels the camera no longer sees repeat the nearest edge pixel: regions kept that far from the
 * frame's edges lose nothing.
 */
export function realignFrame(frame: RgbFrame, dx: number, dy: number): RgbFrame {
  const { width, height, rgb } = frame;
  const out = new Uint8Array(rgb.length);
  const sx = Math.round(dx);
  const sy = Math.round(dy);
  // Columns of the output that read inside the current frame: x + sx in [0, width).
  const x0 = Math.min(width, Math.max(0, -sx));
  const x1 = Math.max(x0, Math.min(width, width - sx));
  for (let y = 0; y < height; y++) {
    const src = Math.min(height - 1, Math.max(0, y + sy)) * width * 3;
    const dst = y * width * 3;
    if (x1 > x0) out.set(rgb.subarray(src + (x0 + sx) * 3, src + (x1 + sx) * 3), dst + x0 * 3);
    const left = rgb.subarray(src, src + 3);
    const right = rgb.subarray(src + (width - 1) * 3, src + width * 3);
    for (let x = 0; x < x0; x++) out.set(left, dst + x * 3);
    for (let x = x1; x < width; x++) out.set(right, dst + x * 3);
  }
  return { rgb: out, width, height };
}
