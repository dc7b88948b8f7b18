import { centreBox, floorOf, objectnessScore } from '../candidate.js';
import type { Candidate } from '../candidate.js';
import type { Decoder } from './decoder.js';
import { fmt } from './yolov8.js';

/** Anchor rows of a YOLOv5 head: three anchors per grid cell, strides 8–32 (P5) or 8–64 (P6 models). */
export function yolov5Rows(width: number, height: number, strides: readonly number[]): number {
  return 3 * strides.reduce((sum, s) => sum + Math.ceil(width / s) * Math.ceil(height / s), 0);
}

const p5 = [8, 16, 32] as const;
const p6 = [8, 16, 32, 64] as const;

/**
 * Ultralytics YOLOv5 export (`export.py --include onnx`): `1 × N × (5 + nc)`, per row cx, cy, w, h in input
 * pixels (decoded inside the graph), objectness, then sigmoid'ed class scores; score = obj × cls.
 * YOLOX has the same row layout with one row per cell; three anchors per cell tell YOLOv5 apart.
 */
export const yolov5Decoder: Decoder = {
  family: 'yolov5',
  refuse(dims, input) {
    if (dims.length !== 3 || (dims[0] !== 1 && dims[0] !== null))
      return `expected 1×N×(5+nc), got ${fmt(dims)}`;
    const [, n, c] = dims;
    if (c == null || c < 6) return `expected 1×N×(5+nc) with a fixed 5+nc, got ${fmt(dims)}`;
    const rows = [p5, p6].map((s) => yolov5Rows(input.width, input.height, s));
    if (n != null && !rows.includes(n))
      return `expected ${rows.join(' or ')} rows (3 anchors per cell) for a ${input.width}×${input.height} input, got ${n}`;
    return null;
  },
  classCount: (dims) => (dims[2] ?? 5) - 5,
  decode(out, dims, _input, t) {
    const n = dims[1]!;
    const stride = dims[2]!;
    const classes = stride - 5;
    const floor = floorOf(t);
    const result: Candidate[] = [];
    const hit = { score: 0, classId: 0 };
    for (let i = 0, o = 0; i < n; i++, o += stride) {
      if (!objectnessScore(out, o, classes, floor, hit)) continue;
      result.push(centreBox(out[o]!, out[o + 1]!, out[o + 2]!, out[o + 3]!, hit.score, hit.classId));
    }
    return result;
  },
};
