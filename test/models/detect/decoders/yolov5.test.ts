import { describe, expect, it } from 'vitest';
import { decoders } from '../../../../models/detect/decoders/registry.js';
import { yolov5Rows } from '../../../../models/detect/decoders/yolov5.js';
import type { InputSpec } from '../../../../models/types.js';
import { familyInput } from '../../../../models/detect/families.js';

const spec: InputSpec = { width: 64, height: 64, ...familyInput.yolov8 };
const t = { confidence: 0.25, iou: 0.45, maxDetections: 300 };

describe('yolov5 decoder (1×N×(5+nc), three anchors per cell)', () => {
  const rows = yolov5Rows(64, 64, [8, 16, 32]); // 3·(64 + 16 + 4) = 252
  it('counts three anchors per cell over strides 8, 16, 32 (and 8–64 for P6 models)', () => {
    expect(rows).toBe(252);
    expect(yolov5Rows(640, 640, [8, 16, 32])).toBe(25200);
    expect(yolov5Rows(640, 384, [8, 16, 32])).toBe(15120);
    expect(yolov5Rows(1280, 1280, [8, 16, 32, 64])).toBe(102000);
  });

  it('decodes pixel boxes with score = objectness × best class, dropping rows under the threshold', () => {
    const nc = 3;
    const out = new Float32Array(rows * (5 + nc));
    out.set([30, 40, 10, 20, 0.9, 0.1, 0.8, 0.3], 7 * (5 + nc)); // kept: 0.9·0.8 = 0.72, class 1
    out.set([10, 10, 4, 4, 0.2, 0.99, 0, 0], 9 * (5 + nc)); // objectness below the floor
    out.set([50, 50, 4, 4, 0.5, 0.4, 0, 0], 11 * (5 + nc)); // 0.5·0.4 = 0.2 < 0.25
    const c = decoders.yolov5.decode(out, [1, rows, 5 + nc], spec, t);
    expect(c).toEqual([{ x1: 25, y1: 30, x2: 35, y2: 50, score: expect.closeTo(0.72, 5), classId: 1 }]);
  });

  it('honours a per-class threshold below the global one', () => {
    const nc = 2;
    const out = new Float32Array(rows * (5 + nc));
    out.set([30, 40, 10, 20, 0.5, 0, 0.4], 0); // 0.2: under 0.25 globally, over class 1's 0.1
    const c = decoders.yolov5.decode(out, [1, rows, 5 + nc], spec, { ...t, perClass: [undefined, 0.1] });
    expect(c.map((x) => x.classId)).toEqual([1]);
  });

  it('refuses a YOLOX head (one row per cell) and other layouts, saying what it found', () => {
    const big = { ...spec, width: 640, height: 640 };
    expect(decoders.yolov5.refuse([1, 25200, 85], big)).toBeNull();
    expect(decoders.yolov5.refuse([1, null, 85], big)).toBeNull();
    expect(decoders.yolov5.refuse([1, 8400, 85], big)).toMatch(
      /expected 25200 or 25500 rows \(3 anchors per cell\) for a 640×640 input, got 8400/,
    );
    expect(decoders.yolov5.refuse([1, 84, 8400], big)).toMatch(/got 84$/);
    expect(decoders.yolov5.refuse([1, 300, 5], big)).toMatch(/expected 1×N×\(5\+nc\)/);
  });
});
