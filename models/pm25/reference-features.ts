import type { Pm25CameraConfig, PixelRect } from '../../config/pm25-schema.js';
import {
  CLIP_HIGH_BYTE,
  CLIP_LOW_BYTE,
  DARK_PATCH,
  THUMB_FACTOR,
  darkCount,
  thumbRect,
  type RawFeatures,
  type RegionDark,
  type RgbFrame,
} from './raw-features.js';

/**
 * Plain TypeScript twin of the ONNX feature graph: loops over pixels, slow and obvious. It exists to check the
 * graph on real frames (tests) and is never on the hot path.
 */
export function referenceFeatures(cfg: Pm25CameraConfig, frame: RgbFrame): RawFeatures {
  if (frame.width !== cfg.frame.width || frame.height !== cfg.frame.height) {
    throw new Error(
      `frame is ${frame.width}x${frame.height}, config expects ${cfg.frame.width}x${cfg.frame.height}`,
    );
  }
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.pow(v / 255, cfg.gamma);
  const linear = (x: number, y: number, c: number) => lut[frame.rgb[(y * frame.width + x) * 3 + c]!]!;

  const sky: [number, number, number] = [0, 0, 0];
  const [sx0, sy0, sx1, sy1] = cfg.sky;
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let y = sy0; y < sy1; y++) for (let x = sx0; x < sx1; x++) sum += linear(x, y, c);
    sky[c] = sum / ((sx1 - sx0) * (sy1 - sy0));
  }

  const regionDark = (rect: PixelRect, fraction: number): RegionDark => {
    const [x0, y0, x1, y1] = rect;
    const w = x1 - x0;
    const h = y1 - y0;
    const n = w * h;
    const k = darkCount(n, fraction);
    const perChannel = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const minC = new Float64Array(n);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = Infinity;
        for (let c = 0; c < 3; c++) {
          const v = linear(x0 + x, y0 + y, c) / sky[c]!;
          perChannel[c]![y * w + x] = v;
          m = Math.min(m, v);
        }
        minC[y * w + x] = m;
      }
    }
    const pooled = new Float64Array(n);
    const r = (DARK_PATCH - 1) / 2;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = Infinity;
        for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
          for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++)
            m = Math.min(m, minC[yy * w + xx]!);
        }
        pooled[y * w + x] = m;
      }
    }
    const lowMean = (values: Float64Array) => {
      const sorted = Float64Array.from(values).sort();
      let s = 0;
      for (let i = 0; i < k; i++) s += sorted[i]!;
      return s / k;
    };
    return {
      q: [lowMean(perChannel[0]!), lowMean(perChannel[1]!), lowMean(perChannel[2]!)],
      dark: lowMean(pooled),
    };
  };

  const targets = cfg.targets.map((t) => regionDark(t.rect, t.darkFraction));
  const near = regionDark(cfg.near.rect, 0.1);

  const [nx0, ny0, nx1, ny1] = cfg.near.rect;
  const grey = (x: number, y: number) => (linear(x, y, 0) + linear(x, y, 1) + linear(x, y, 2)) / 3;
  let greySum = 0;
  for (let y = ny0; y < ny1; y++) for (let x = nx0; x < nx1; x++) greySum += grey(x, y);
  let gradSum = 0;
  for (let y = ny0 + 1; y < ny1 - 1; y++) {
    for (let x = nx0 + 1; x < nx1 - 1; x++) {
      const gx =
        grey(x + 1, y - 1) +
        2 * grey(x + 1, y) +
        grey(x + 1, y + 1) -
        grey(x - 1, y - 1) -
        2 * grey(x - 1, y) -
        grey(x - 1, y + 1);
      const gy =
        grey(x - 1, y + 1) +
        2 * grey(x, y + 1) +
        grey(x + 1, y + 1) -
        grey(x - 1, y - 1) -
        2 * grey(x, y - 1) -
        grey(x + 1, y - 1);
      gradSum += Math.sqrt(gx * gx + gy * gy);
    }
  }

  const [ex0, ey0, ex1, ey1] = cfg.exposure;
  let clipped = 0;
  for (let y = ey0; y < ey1; y++) {
    for (let x = ex0; x < ex1; x++) {
      const i = (y * frame.width + x) * 3;
      const m = Math.max(frame.rgb[i]!, frame.rgb[i + 1]!, frame.rgb[i + 2]!);
      if (m <= CLIP_LOW_BYTE || m >= CLIP_HIGH_BYTE) clipped++;
    }
  }

  const [tx0, ty0, tx1, ty1] = thumbRect(cfg.registration);
  const thumbWidth = (tx1 - tx0) / THUMB_FACTOR;
  const thumbHeight = (ty1 - ty0) / THUMB_FACTOR;
  const thumb = new Float32Array(thumbWidth * thumbHeight);
  for (let by = 0; by < thumbHeight; by++) {
    for (let bx = 0; bx < thumbWidth; bx++) {
      let s = 0;
      for (let y = 0; y < THUMB_FACTOR; y++) {
        for (let x = 0; x < THUMB_FACTOR; x++) {
          const i = ((ty0 + by * THUMB_FACTOR + y) * frame.width + tx0 + bx * THUMB_FACTOR + x) * 3;
          s += (frame.rgb[i]! + frame.rgb[i + 1]! + frame.rgb[i + 2]!) / (3 * 255);
        }
      }
      thumb[by * thumbWidth + bx] = s / (THUMB_FACTOR * THUMB_FACTOR);
    }
  }

  return {
    sky,
    targets,
    near,
    nearGradient: gradSum / ((nx1 - nx0 - 2) * (ny1 - ny0 - 2)),
    nearGrey: greySum / ((nx1 - nx0) * (ny1 - ny0)),
    clipped: clipped / ((ex1 - ex0) * (ey1 - ey0)),
    thumb,
    thumbWidth,
    thumbHeight,
  };
}
