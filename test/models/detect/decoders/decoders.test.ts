import { describe, expect, it } from 'vitest';
import { decoders } from '../../../../models/detect/decoders/registry.js';
import { yoloxAnchors } from '../../../../models/detect/decoders/yolox.js';
import type { InputSpec } from '../../../../models/types.js';
import { familyInput } from '../../../../models/detect/families.js';

const spec: InputSpec = { width: 64, height: 64, ...familyInput.yolov8 };
const t = { confidence: 0.25, iou: 0.45, maxDetections: 300 };

describe('yolov8 decoder (1×(4+nc)×N)', () => {
  it('decodes cx,cy,w,h and the best class of each anchor above the threshold', () => {
    const nc = 3;
    const n = 4;
    const out = new Float32Array((4 + nc) * n);
    const set = (row: number, i: number, v: number) => (out[row * n + i] = v);
    // anchor 2: a 10×20 box at (30, 40), class 1 at 0.8
    [30, 40, 10, 20].forEach((v, row) => set(row, 2, v));
    set(4 + 1, 2, 0.8);
    set(4 + 2, 2, 0.3);
    set(4 + 0, 0, 0.1); // below threshold
    const c = decoders.yolov8.decode(out, [1, 4 + nc, n], spec, t);
    expect(c).toEqual([{ x1: 25, y1: 30, x2: 35, y2: 50, score: expect.closeTo(0.8, 5), classId: 1 }]);
  });

  it("refuses YOLOX's layout and odd shapes, saying what it found", () => {
    expect(decoders.yolov8.refuse([1, 84, 8400], spec)).toBeNull();
    expect(decoders.yolov8.refuse([1, 3549, 85], spec)).toMatch(
      /expected 1×\(4\+nc\)×N with 4\+nc < N, got 1×3549×85/,
    );
    expect(decoders.yolov8.refuse([1, 84], spec)).toMatch(/got 1×84/);
  });
});

describe('yolox decoder (1×N×(5+nc))', () => {
  const anchors = yoloxAnchors(64, 64); // 8·8 + 4·4 + 2·2 = 84
  it('counts anchors over strides 8, 16, 32', () => expect(anchors).toBe(84));

  it('decodes a raw head: xy = (p + grid)·s, wh = e^p·s, score = obj·cls', () => {
    const nc = 2;
    const out = new Float32Array(anchors * (5 + nc)).fill(0);
    for (let i = 0; i < anchors; i++) out[i * (5 + nc) + 2] = out[i * (5 + nc) + 3] = Math.log(1); // raw log-sizes
    // anchor of stride 16 at grid (1, 2): index 64 + 2·4 + 1 = 73
    const o = 73 * (5 + nc);
    out.set([0.5, 0.25, Math.log(2), Math.log(3), 0.9, 0.1, 0.8], o);
    const c = decoders.yolox.decode(
      out,
      [1, anchors, 5 + nc],
      { ...spec, pixelOrder: 'bgr', padPosition: 'top-left', scale: 1 },
      t,
    );
    expect(c).toHaveLength(1);
    const b = c[0]!;
    // centre ((0.5 + 1)·16, (0.25 + 2)·16) = (24, 36); size (2·16, 3·16) = (32, 48)
    expect([b.x1, b.y1, b.x2, b.y2].map((v) => Math.round(v * 1000) / 1000)).toEqual([8, 12, 40, 60]);
    expect(b.classId).toBe(1);
    expect(b.score).toBeCloseTo(0.72, 5);
  });

  it("refuses Ultralytics' layout and a wrong anchor count", () => {
    const big = { ...spec, width: 640, height: 640 }; // 8400 anchors
    expect(decoders.yolox.refuse([1, 8400, 85], big)).toBeNull();
    expect(decoders.yolox.refuse([1, 84, 8400], big)).toMatch(
      /expected 8400 anchors for a 640×640 input, got 84/,
    );
    expect(decoders.yolox.refuse([1, 100, 85], spec)).toMatch(
      /expected 84 anchors for a 64×64 input, got 100/,
    );
  });
});
