import { describe, expect, it } from 'vitest';
import { decoders } from '../../../../models/detect/decoders/registry.js';
import { selectCandidates } from '../../../../models/detect/nms.js';
import type { InputSpec } from '../../../../models/types.js';
import { familyInput } from '../../../../models/detect/families.js';

const spec: InputSpec = { width: 640, height: 640, ...familyInput.yolov8 };
const t = { confidence: 0.25, iou: 0.45, maxDetections: 300 };

describe('end-to-end decoder (1×K×6, selection inside the graph)', () => {
  const rows = (...r: number[][]) => {
    const out = new Float32Array(300 * 6);
    r.forEach((row, i) => out.set(row, i * 6));
    return out;
  };

  it('reads x1, y1, x2, y2, score, class and drops empty and low rows', () => {
    const out = rows([10, 20, 110, 220, 0.9, 0], [300, 300, 400, 420, 0.6, 5], [1, 1, 2, 2, 0.1, 3]);
    const c = decoders.end2end.decode(out, [1, 300, 6], spec, t);
    expect(c).toEqual([
      { x1: 10, y1: 20, x2: 110, y2: 220, score: expect.closeTo(0.9, 5), classId: 0 },
      { x1: 300, y1: 300, x2: 400, y2: 420, score: expect.closeTo(0.6, 5), classId: 5 },
    ]);
  });

  it('keeps the graph’s own overlapping boxes (no second NMS), applies per-class thresholds and the cap', () => {
    const out = rows([10, 10, 100, 100, 0.9, 0], [12, 12, 100, 100, 0.8, 0], [0, 0, 50, 50, 0.5, 1]);
    const c = decoders.end2end.decode(out, [1, 300, 6], spec, t);
    expect(selectCandidates(c, t, true)).toHaveLength(3);
    expect(selectCandidates(c, t, false)).toHaveLength(2); // what NMS would have removed
    expect(selectCandidates(c, { ...t, perClass: [undefined, 0.6] }, true)).toHaveLength(2);
    expect(selectCandidates(c, { ...t, maxDetections: 1 }, true).map((x) => x.score)).toEqual([
      expect.closeTo(0.9, 5),
    ]);
    expect(decoders.end2end.nmsInside).toBe(true);
  });

  it('refuses heads of the other families, including one-class YOLOX/YOLOv5 heads that are also N×6', () => {
    expect(decoders.end2end.refuse([1, 300, 6], spec)).toBeNull();
    expect(decoders.end2end.refuse([1, null, 6], spec)).toBeNull();
    expect(decoders.end2end.refuse([1, 8400, 6], spec)).toMatch(/one-class YOLOX\/YOLOv5 head/);
    expect(decoders.end2end.refuse([1, 25200, 6], spec)).toMatch(/one-class YOLOX\/YOLOv5 head/);
    expect(decoders.end2end.refuse([1, 84, 8400], spec)).toMatch(/expected 1×K×6 .* got 1×84×8400/);
  });
});
