import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../../models/detect/candidate.js';
import { nms } from '../../../models/detect/nms.js';

const box = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({
  x1,
  y1,
  x2,
  y2,
  score,
  classId,
});
const t = { confidence: 0.25, iou: 0.45, maxDetections: 300 };

describe('nms', () => {
  it('keeps the best of overlapping boxes of one class', () => {
    // IoU of the first two: 80·100 / (100·100 + 100·100 − 80·100) = 0.667 > 0.45
    const kept = nms([box(0, 0, 100, 100, 0.6), box(20, 0, 120, 100, 0.9), box(300, 300, 400, 400, 0.5)], t);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.5]);
  });

  it('keeps overlapping boxes of different classes (class-aware)', () => {
    const kept = nms([box(0, 0, 100, 100, 0.6, 0), box(0, 0, 100, 100, 0.7, 5)], t);
    expect(kept.map((k) => k.classId)).toEqual([5, 0]);
  });

  it('keeps boxes that overlap less than the threshold', () => {
    // IoU = 40·100 / (2·10000 − 4000) = 0.25
    expect(nms([box(0, 0, 100, 100, 0.6), box(60, 0, 160, 100, 0.7)], t)).toHaveLength(2);
  });

  it('applies per-class thresholds over the global one, and the cap', () => {
    const cands = [box(0, 0, 10, 10, 0.3, 0), box(50, 50, 60, 60, 0.3, 1), box(100, 100, 110, 110, 0.9, 1)];
    expect(nms(cands, { ...t, perClass: [undefined, 0.5] }).map((k) => k.score)).toEqual([0.9, 0.3]);
    expect(nms(cands, { ...t, maxDetections: 1 })).toHaveLength(1);
  });
});
