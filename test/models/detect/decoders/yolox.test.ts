import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candidate, Thresholds } from '../../../../models/detect/candidate.js';
import { cocoNames } from '../../../../models/detect/coco-names.js';
import { yoloxAnchors, yoloxDecoder } from '../../../../models/detect/decoders/yolox.js';
import type { Detector } from '../../../../models/detect/detector.js';
import { familyInput } from '../../../../models/detect/families.js';
import { imageToInputFrame } from '../../../../models/detect/image-input.js';
import { nms } from '../../../../models/detect/nms.js';
import { toSourceBox } from '../../../../models/letterbox.js';
import type { Box, InputSpec } from '../../../../models/types.js';
import { loadSharedDetector } from '../../../support/detectors.js';
import { hasShared, sharedPath } from '../../../support/shared.js';

const t: Thresholds = { confidence: 0.25, iou: 0.45, maxDetections: 300 };
const specOf = (width: number, height: number): InputSpec => ({ width, height, ...familyInput.yolox });
/** Intersection over union, written here: the reference for "the same place". */
function boxIou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const area = (r: Box) => (r.x2 - r.x1) * (r.y2 - r.y1);
  return (w * h) / (area(a) + area(b) - w * h);
}
const boxOf = (c: Candidate) => [c.x1, c.y1, c.x2, c.y2].map((v) => Math.round(v * 1e4) / 1e4);

describe('yoloxAnchors', () => {
  it('counts one anchor per grid cell at strides 8, 16, 32, flooring partial cells', () => {
    expect(yoloxAnchors(64, 32)).toBe(8 * 4 + 4 * 2 + 2 * 1); // 42
    expect(yoloxAnchors(416, 416)).toBe(52 * 52 + 26 * 26 + 13 * 13); // 3549
    expect(yoloxAnchors(640, 640)).toBe(8400);
    expect(yoloxAnchors(100, 100)).toBe(12 * 12 + 6 * 6 + 3 * 3); // 189, not 13² + 7² + 4²
    expect(yoloxAnchors(640, 384)).toBe(80 * 48 + 40 * 24 + 20 * 12);
  });
});

describe('yolox decoder on a hand-made 64×32 head (42 anchors, 2 classes)', () => {
  // Anchor order: stride 8 (8×4 cells, row by row), then stride 16 (4×2), then stride 32 (2×1).
  const nc = 2;
  const row = 5 + nc;
  const spec = specOf(64, 32);
  const dims = [1, 42, row];

  /** A head with every anchor empty, sizes `w` (raw: log sizes, decoded: pixels). */
  const head = (w: number) => {
    const out = new Float32Array(42 * row);
    for (let i = 0; i < 42; i++) out[i * row + 2] = out[i * row + 3] = w;
    return out;
  };

  it('raw head: xy = (p + grid)·stride, wh = e^p·stride, score = obj × best class, in anchor order', () => {
    const out = head(0);
    // stride 8, cell (gx 5, gy 2): anchor 2·8 + 5 = 21 -> centre (44, 20), size 16×32
    out.set([0.5, 0.5, Math.log(2), Math.log(4), 0.9, 0.2, 0.6], 21 * row);
    // stride 16, cell (3, 1): anchor 32 + 1·4 + 3 = 39 -> centre (48, 16), size 16×16
    out.set([0, 0, 0, 0, 0.8, 0.5, 0.1], 39 * row);
    // stride 32, cell (1, 0): anchor 40 + 1 = 41 -> centre (24, 16), size 16×32; a tie goes to class 0
    out.set([-0.25, 0.5, Math.log(0.5), 0, 1, 0.3, 0.3], 41 * row);
    // below the threshold: obj·cls = 0.18, and an objectness under it with a sure class
    out.set([0, 0, 0, 0, 0.9, 0.1, 0.2], 3 * row);
    out.set([0, 0, 0, 0, 0.2, 1, 0], 4 * row);
    const c = yoloxDecoder.decode(out, dims, spec, t);
    expect(c.map(boxOf)).toEqual([
      [36, 4, 52, 36],
      [40, 8, 56, 24],
      [16, 0, 32, 32],
    ]);
    expect(c.map((x) => x.classId)).toEqual([1, 0, 0]);
    c.forEach((x, i) => expect(x.score).toBeCloseTo([0.54, 0.4, 0.3][i]!, 6));
  });

  it('keeps what any class’s own threshold lets through (per-class filtering comes later)', () => {
    const out = head(0);
    out.set([0.5, 0.5, 0, 0, 0.9, 0.1, 0.2], 3 * row); // class 1 at 0.18: (28, 4) 8×8
    expect(yoloxDecoder.decode(out, dims, spec, t)).toEqual([]);
    const c = yoloxDecoder.decode(out, dims, spec, { ...t, perClass: [undefined, 0.15] });
    expect(c.map(boxOf)).toEqual([[24, 0, 32, 8]]);
    expect(c[0]!.classId).toBe(1);
  });

  it('a head with the decode inside (pixel sizes) is taken as it is', () => {
    const out = head(20);
    out.set([44, 20, 16, 32, 0.9, 0.2, 0.6], 21 * row);
    out.set([10, 12, 4, 6, 0.5, 0.9, 0], 41 * row);
    const c = yoloxDecoder.decode(out, dims, spec, t);
    expect(c.map(boxOf)).toEqual([
      [36, 4, 52, 36],
      [8, 9, 12, 15],
    ]);
  });

  it('tells a raw head with small (negative log) sizes from a decoded one', () => {
    const out = head(Math.log(0.25)); // boxes a quarter of their stride: log sizes below 0
    out.set([0, 0, Math.log(0.25), Math.log(0.25), 0.9, 0.9, 0], 0);
    expect(yoloxDecoder.decode(out, dims, spec, t).map(boxOf)).toEqual([[-1, -1, 1, 1]]);
  });

  it('refuses a head that does not fit the input and says why', () => {
    expect(yoloxDecoder.refuse([1, 42, 7], spec)).toBeNull();
    expect(yoloxDecoder.refuse([null, 42, 85], spec)).toBeNull();
    expect(yoloxDecoder.refuse([1, null, 85], spec)).toBeNull(); // dynamic: checked at decode
    expect(yoloxDecoder.refuse([1, 41, 7], spec)).toBe('expected 42 anchors for a 64×32 input, got 41');
    expect(yoloxDecoder.refuse([1, 42, 5], spec)).toMatch(/with a fixed 5\+nc, got 1×42×5/);
    expect(yoloxDecoder.refuse([1, 42, null], spec)).toMatch(/with a fixed 5\+nc/);
    expect(yoloxDecoder.refuse([2, 42, 7], spec)).toMatch(/expected 1×N×\(5\+nc\), got 2×42×7/);
    expect(yoloxDecoder.refuse([42, 7], spec)).toMatch(/expected 1×N×\(5\+nc\)/);
    expect(yoloxDecoder.refuse([1, 8400, 85], specOf(640, 640))).toBeNull();
    expect(yoloxDecoder.refuse([1, 84, 8400], specOf(640, 640))).not.toBeNull();
  });

  it('counts the classes after the 5 box and objectness columns', () => {
    expect(yoloxDecoder.classCount([1, 3549, 85])).toBe(80);
    expect(yoloxDecoder.classCount([1, 42, 7])).toBe(2);
  });

  it('throws when a dynamic head’s row count does not fit this input', () => {
    expect(() => yoloxDecoder.decode(new Float32Array(41 * row), [1, 41, row], spec, t)).toThrow(
      'YOLOX output has 41 anchors, a 64×32 input gives 42',
    );
  });
});

/** The real nano model, run here with onnxruntime: its raw output goes through the decoder under test. */
describe.skipIf(!hasShared)('yolox decoder on the real yolox-nano-coco-416 model', () => {
  let session: ort.InferenceSession;
  let reference: Detector;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(sharedPath('models', 'yolox-nano-coco-416.onnx'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
    });
    reference = await loadSharedDetector('v8', 'yolov8n-coco-int8-640.onnx');
  });
  afterAll(async () => {
    await session?.release();
    await reference?.close();
  });

  async function yoloxPeople(image: string): Promise<{ box: Box; score: number }[]> {
    const spec = specOf(416, 416);
    const frame = await imageToInputFrame(sharedPath('media', image), spec); // BGR, top-left, 114
    const plane = 416 * 416;
    const chw = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) chw[c * plane + i] = frame.data[i * 3 + c]!; // 0..255
    const out = (
      await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', chw, [1, 3, 416, 416]) })
    )[session.outputNames[0]!]!;
    expect(out.dims).toEqual([1, 3549, 85]);
    const dims = [...out.dims];
    expect(yoloxDecoder.refuse(dims, spec)).toBeNull();
    const kept = nms(yoloxDecoder.decode(out.data as Float32Array, dims, spec, t), t);
    return kept
      .filter((c) => cocoNames[c.classId] === 'person')
      .map((c) => ({ box: toSourceBox(c, frame.letterbox), score: c.score }));
  }

  async function v8People(image: string) {
    const frame = await imageToInputFrame(sharedPath('media', image), reference.info.input);
    return (await reference.detect(frame)).detections.filter((d) => d.label === 'person');
  }

  it.each(['bus.jpg', 'zidane.jpg'])(
    '%s: the people are where YOLOv8 finds them (IoU > 0.5 both ways)',
    async (image) => {
      const [x, v8] = await Promise.all([yoloxPeople(image), v8People(image)]);
      const sure = v8.filter((d) => d.score > 0.5);
      expect(sure.length).toBeGreaterThanOrEqual(2);
      for (const ref of sure) {
        const best = Math.max(0, ...x.map((d) => boxIou(d.box, ref.box)));
        expect(best, `YOLOv8 person ${JSON.stringify(ref.box)}`).toBeGreaterThan(0.5);
      }
      for (const d of x.filter((d) => d.score > 0.5)) {
        const best = Math.max(0, ...v8.map((r) => boxIou(d.box, r.box)));
        expect(best, `YOLOX person ${JSON.stringify(d.box)}`).toBeGreaterThan(0.5);
      }
    },
  );
});
