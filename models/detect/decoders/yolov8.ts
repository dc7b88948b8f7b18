import { centreBox, floorOf } from '../candidate.js';
import type { Candidate } from '../candidate.js';
import type { Decoder } from './decoder.js';

/**
 * Ultralytics YOLOv8 / YOLO11 detect head: `1 × (4 + nc) × N`, rows cx, cy, w, h then one score per class
 * (already sigmoid'ed, no objectness). Channel-major, so the scan walks one class row at a time.
 */
export const yolov8Decoder: Decoder = {
  family: 'yolov8',
  refuse(dims) {
    if (dims.length !== 3 || (dims[0] !== 1 && dims[0] !== null))
      return `expected 1×(4+nc)×N, got ${fmt(dims)}`;
    const [, c, n] = dims;
    // N may be symbolic (a dynamic-size export); the class count may not.
    if (c == null) return `expected 1×(4+nc)×N with a fixed 4+nc, got ${fmt(dims)}`;
    if (c < 5 || (n != null && c > n)) return `expected 1×(4+nc)×N with 4+nc < N, got ${fmt(dims)}`;
    return null;
  },
  classCount: (dims) => (dims[1] ?? 4) - 4,
  decode(out, dims, _input, t) {
    const channels = dims[1]!;
    const n = dims[2]!;
    const classes = channels - 4;
    const floor = floorOf(t);
    const best = new Float32Array(n);
    const bestClass = new Int32Array(n);
    for (let c = 0; c < classes; c++) {
      const row = out.subarray((4 + c) * n, (5 + c) * n);
      for (let i = 0; i < n; i++) {
        const s = row[i]!;
        // Nearly every score is below the floor: one compare against a constant skips the load of best[i]
        // (the scan runs about twice as fast). Anchors whose best stays below the floor are dropped anyway.
        if (s >= floor && s > best[i]!) {
          best[i] = s;
          bestClass[i] = c;
        }
      }
    }
    const result: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const score = best[i]!;
      if (score < floor) continue;
      result.push(centreBox(out[i]!, out[n + i]!, out[2 * n + i]!, out[3 * n + i]!, score, bestClass[i]!));
    }
    return result;
  },
};

export const fmt = (dims: readonly (number | null)[]) => dims.map((d) => d ?? '?').join('×');
