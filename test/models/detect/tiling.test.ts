import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import { Detector } from '../../../models/detect/detector.js';
import { decodeImage } from '../../../models/detect/raw-input.js';
import { mergeTileDetections } from '../../../models/detect/tile-merge.js';
import { detectTiled, tileRects } from '../../../models/detect/tiling.js';
import type { Box, Detection } from '../../../models/types.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { iou, smallPeopleScene } from '../../support/tiling-scene.js';

const W = 3840;
const H = 2160;
const grid: [number, number] = [4, 3];
const overlap = 0.2;

describe('tile rectangles', () => {
  it('cover the frame edge to edge with equal tiles sharing the overlap', () => {
    const t = tileRects(W, H, grid, overlap);
    expect(t).toHaveLength(12);
    const xs = [...new Set(t.map((r) => r.x))];
    expect(xs[0]).toBe(0);
    expect(xs.at(-1)! + t[0]!.width).toBe(W);
    expect(t.at(-1)!.y + t[0]!.height).toBe(H);
    const shared = xs[0]! + t[0]!.width - xs[1]!;
    expect(shared / t[0]!.width).toBeCloseTo(overlap, 2);
  });
});

describe('merging across tiles', () => {
  const det = (x1: number, x2: number, score: number, cut: boolean, label = 'person') => ({
    label,
    classId: 0,
    score,
    box: { x1, y1: 0, x2, y2: 100 },
    cut,
  });
  it('keeps the whole box over the piece a seam cut off, even when the piece scored higher', () => {
    const kept = mergeTileDetections([det(0, 25, 0.9, true), det(0, 50, 0.8, false)], 0.45);
    expect(kept.map((d) => d.box.x2)).toEqual([50]);
  });
  it('keeps nested boxes that no seam cut, and other labels', () => {
    const kept = mergeTileDetections(
      [det(0, 50, 0.9, false), det(10, 30, 0.8, false), det(0, 25, 0.7, true, 'dog')],
      0.45,
    );
    expect(kept).toHaveLength(3);
  });
});

describe.skipIf(!hasShared)('tiled inference on a wide scene of small people', () => {
  let detector: Detector;
  let truth: Box[];
  let scene: { data: Uint8Array; width: number; height: number };

  beforeAll(async () => {
    detector = await Detector.load(
      'v8',
      ModelConfig.parse({ path: sharedPath('models', 'yolov8n-coco-int8-640.onnx'), workers: 1 }),
    );
    const built = await smallPeopleScene(detector);
    truth = built.truth;
    scene = await decodeImage(built.png);
  });
  afterAll(() => detector?.close());

  const found = (ds: Detection[]) =>
    truth.filter((t) => ds.some((d) => d.label === 'person' && iou(d.box, t) >= 0.5)).length;

  it('finds more of the people with tiles than on the whole frame, without a duplicate across seams', async () => {
    expect(truth.length).toBeGreaterThanOrEqual(4 * 3 + 3); // 3 sure people per bus, 1+ per zidane
    for (const t of truth) expect((t.y2 - t.y1) / H).toBeGreaterThan(0.025);
    const whole = await detectTiled(detector, scene, {
      grid: [1, 1],
      overlap: 0,
      fullFrame: false,
      iou: 0.45,
    });
    const tiled = await detectTiled(detector, scene, { grid, overlap, fullFrame: true, iou: 0.45 });
    const plain = found(whole.detections);
    const withTiles = found(tiled.detections);
    console.log(
      `people found: ${plain}/${truth.length} on the whole frame, ${withTiles}/${truth.length} with ${grid.join('×')} tiles + full frame; cost ${tiled.cost.passes} passes, ${tiled.cost.wallMs.toFixed(0)} ms wall vs ${whole.cost.wallMs.toFixed(0)} ms`,
    );
    expect(withTiles).toBeGreaterThan(plain);
    expect(withTiles).toBeGreaterThanOrEqual(Math.ceil(0.75 * truth.length));
    // no person counted twice: each true person is matched by at most one box, and no two person boxes
    // lie one mostly inside the other
    const people = tiled.detections.filter((d) => d.label === 'person');
    for (const t of truth) expect(people.filter((d) => iou(d.box, t) >= 0.5).length).toBeLessThanOrEqual(1);
    for (const a of people)
      for (const b of people) {
        if (a === b) continue;
        const w = Math.max(0, Math.min(a.box.x2, b.box.x2) - Math.max(a.box.x1, b.box.x1));
        const h = Math.max(0, Math.min(a.box.y2, b.box.y2) - Math.max(a.box.y1, b.box.y1));
        const smaller = Math.min(
          (a.box.x2 - a.box.x1) * (a.box.y2 - a.box.y1),
          (b.box.x2 - b.box.x1) * (b.box.y2 - b.box.y1),
        );
        expect((w * h) / smaller, `${JSON.stringify(a.box)} vs ${JSON.stringify(b.box)}`).toBeLessThan(0.6);
      }
    expect(tiled.cost).toMatchObject({ passes: 13 });
    expect(tiled.cost.inferenceMs).toBeGreaterThan(whole.cost.inferenceMs);
  }, 60_000);
});
