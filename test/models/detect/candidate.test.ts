import { describe, expect, it } from 'vitest';
import { centreBox, floorOf, objectnessScore, type Thresholds } from '../../../models/detect/candidate.js';

const t = (confidence: number, perClass?: (number | undefined)[]): Thresholds => ({
  confidence,
  iou: 0.45,
  maxDetections: 300,
  ...(perClass ? { perClass } : {}),
});

describe('floorOf', () => {
  it('is the global confidence when no class sets its own', () => {
    expect(floorOf(t(0.25))).toBe(0.25);
    expect(floorOf(t(0.25, []))).toBe(0.25);
  });

  it('is the lowest per-class threshold below the global one, skipping classes without one', () => {
    expect(floorOf(t(0.25, [undefined, 0.1, 0.2]))).toBe(0.1);
    expect(floorOf(t(0.25, [0.3, undefined, 0.05, 0.9]))).toBe(0.05);
    expect(floorOf(t(0.25, [0, 0.4]))).toBe(0); // a class that keeps everything
  });

  it('a stricter class does not raise it above the global confidence', () => {
    expect(floorOf(t(0.25, [0.5, 0.9]))).toBe(0.25);
  });
});

describe('objectnessScore (cx, cy, w, h, obj, cls…)', () => {
  /** Rows of 5 + 3 classes, the second one at offset 8. */
  const rows = (...r: number[][]) => Float32Array.from(r.flat());
  const hit = () => ({ score: -1, classId: -1 });

  it('scores obj × the best class and names that class', () => {
    const out = rows([0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 0.8, 0.1, 0.7, 0.4]);
    const into = hit();
    expect(objectnessScore(out, 8, 3, 0.25, into)).toBe(true);
    expect(into.classId).toBe(1);
    expect(into.score).toBeCloseTo(0.56, 6);
  });

  it('reads the row it is given, not the first one', () => {
    const out = rows([0, 0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0.5, 0, 0, 0.9]);
    const into = hit();
    expect(objectnessScore(out, 8, 3, 0.25, into)).toBe(true);
    expect(into).toEqual({ score: expect.closeTo(0.45, 6), classId: 2 });
  });

  it('looks at every class and no column past them', () => {
    const out = rows([0, 0, 0, 0, 1, 0.1, 0.2, 0.3], [0, 0, 0, 0, 1, 0.99, 0.99, 0.99]);
    const into = hit();
    objectnessScore(out, 0, 3, 0.01, into);
    expect(into).toEqual({ score: expect.closeTo(0.3, 6), classId: 2 }); // the last class
    objectnessScore(out, 0, 2, 0.01, into);
    expect(into).toEqual({ score: expect.closeTo(0.2, 6), classId: 1 }); // with 2 classes, the 3rd is not one
  });

  it('a tie goes to the lower class id', () => {
    const into = hit();
    expect(objectnessScore(rows([0, 0, 0, 0, 1, 0.5, 0.5, 0.5]), 0, 3, 0.1, into)).toBe(true);
    expect(into.classId).toBe(0);
  });

  it('drops a row below the floor, keeps one exactly at it', () => {
    const into = hit();
    expect(objectnessScore(rows([0, 0, 0, 0, 0.5, 0.5, 0, 0]), 0, 3, 0.25, into)).toBe(true); // 0.25
    expect(into.score).toBe(0.25);
    expect(objectnessScore(rows([0, 0, 0, 0, 0.5, 0.49, 0, 0]), 0, 3, 0.25, hit())).toBe(false); // 0.245
  });

  it('drops a row whose objectness alone is below the floor, however sure its class', () => {
    const into = hit();
    expect(objectnessScore(rows([0, 0, 0, 0, 0.2, 1, 1, 1]), 0, 3, 0.25, into)).toBe(false);
    // A row with no class above 0 scores 0
    const zero = hit();
    expect(objectnessScore(rows([0, 0, 0, 0, 0.9, 0, 0, 0]), 0, 3, 0, zero)).toBe(true);
    expect(zero).toEqual({ score: 0, classId: 0 });
  });
});

describe('centreBox', () => {
  it('turns a centre and a size into corners, keeping score and class', () => {
    expect(centreBox(30, 40, 10, 20, 0.8, 3)).toEqual({
      x1: 25,
      y1: 30,
      x2: 35,
      y2: 50,
      score: 0.8,
      classId: 3,
    });
    expect(centreBox(0, 0, 3, 1, 0.1, 0)).toEqual({
      x1: -1.5,
      y1: -0.5,
      x2: 1.5,
      y2: 0.5,
      score: 0.1,
      classId: 0,
    });
  });
});
