import { centreBox, floorOf, objectnessScore } from '../candidate.js';
import type { Candidate } from '../candidate.js';
import type { Decoder } from './decoder.js';
import { fmt } from './yolov8.js';

const strides = [8, 16, 32];

/** Anchor count of a YOLOX head for an input size: one per grid cell at strides 8, 16 and 32. */
export function yoloxAnchors(width: number, height: number): number {
  return strides.reduce((sum, s) => sum + Math.floor(width / s) * Math.floor(height / s), 0);
}

/**
 * Megvii YOLOX: `1 × N × (5 + nc)`, per anchor x, y, w, h, objectness, class scores; score = obj × cls.
 * The raw head (the usual ONNX export) holds grid offsets and log sizes: xy = (p + grid)·s, wh = e^p·s.
 * An export with the decode inside (`decode_in_inference`) holds pixels already; we tell them apart by
 * the box sizes, which are logarithms (small) in a raw head.
 */
export const yoloxDecoder: Decoder = {
  family: 'yolox',
  refuse(dims, input) {
    if (dims.length !== 3 || (dims[0] !== 1 && dims[0] !== null))
      return `expected 1×N×(5+nc), got ${fmt(dims)}`;
    const [, n, c] = dims;
    if (c == null || c < 6) return `expected 1×N×(5+nc) with a fixed 5+nc, got ${fmt(dims)}`;
    const anchors = yoloxAnchors(input.width, input.height);
    // N may be symbolic (a dynamic-size export): decode() checks it against the input on every run.
    if (n != null && n !== anchors)
      return `expected ${anchors} anchors for a ${input.width}×${input.height} input, got ${n}`;
    return null;
  },
  classCount: (dims) => (dims[2] ?? 5) - 5,
  decode(out, dims, input, t) {
    const n = dims[1]!;
    const stride = dims[2]!;
    const anchors = yoloxAnchors(input.width, input.height);
    if (n !== anchors)
      throw new Error(
        `YOLOX output has ${n} anchors, a ${input.width}×${input.height} input gives ${anchors}`,
      );
    const classes = stride - 5;
    const floor = floorOf(t);
    const raw = isRawHead(out, n, stride);
    const result: Candidate[] = [];
    const hit = { score: 0, classId: 0 };
    let i = 0;
    for (const s of strides) {
      const gw = Math.floor(input.width / s);
      const gh = Math.floor(input.height / s);
      for (let gy = 0; gy < gh; gy++) {
        for (let gx = 0; gx < gw; gx++, i++) {
          const o = i * stride;
          if (!objectnessScore(out, o, classes, floor, hit)) continue;
          const cx = raw ? (out[o]! + gx) * s : out[o]!;
          const cy = raw ? (out[o + 1]! + gy) * s : out[o + 1]!;
          const w = raw ? Math.exp(out[o + 2]!) * s : out[o + 2]!;
          const h = raw ? Math.exp(out[o + 3]!) * s : out[o + 3]!;
          result.push(centreBox(cx, cy, w, h, hit.score, hit.classId));
        }
      }
    }
    return result;
  },
};

/** Raw heads carry log-sizes: their median |w| is a few units, decoded heads carry pixels. */
function isRawHead(out: Float32Array, n: number, stride: number): boolean {
  const step = Math.max(1, Math.floor(n / 64));
  const ws: number[] = [];
  for (let i = 0; i < n; i += step) ws.push(Math.abs(out[i * stride + 2]!));
  ws.sort((a, b) => a - b);
  return (ws[ws.length >> 1] ?? 0) < 6;
}
