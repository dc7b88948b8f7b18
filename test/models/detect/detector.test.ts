import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import { Detector } from '../../../models/detect/detector.js';
import { imageToInputFrame } from '../../../models/detect/image-input.js';
import type { Box, Detection } from '../../../models/types.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const model = (file: string, over: Record<string, unknown> = {}) =>
  ModelConfig.parse({ path: sharedPath('models', file), workers: 1, ...over });

function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/** The reference run in ../shared/README.md (yolov8n-coco-int8-640 on bus.jpg, conf 0.25, IoU 0.45). */
function referenceFromReadme(): { label: string; score: number; box: Box }[] {
  const text = readFileSync(sharedPath('README.md'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('person 0.90 ['))!;
  return [...line.matchAll(/(\w+) ([\d.]+) \[(\d+),(\d+),(\d+),(\d+)\]/g)].map((m) => ({
    label: m[1]!,
    score: Number(m[2]),
    box: { x1: Number(m[3]), y1: Number(m[4]), x2: Number(m[5]), y2: Number(m[6]) },
  }));
}

async function detectImage(detector: Detector, image: string): Promise<Detection[]> {
  const frame = await imageToInputFrame(sharedPath('media', image), detector.info.input);
  return (await detector.detect(frame)).detections;
}

describe.skipIf(!hasShared)('Detector on the real models', () => {
  const open: Detector[] = [];
  const load = async (file: string, over: Record<string, unknown> = {}) => {
    const d = await Detector.load(file, model(file, over));
    open.push(d);
    return d;
  };
  afterAll(async () => {
    await Promise.all(open.map((d) => d.close()));
  });

  it('yolov8n-640 on bus.jpg reproduces the reference run', async () => {
    const reference = referenceFromReadme();
    expect(reference).toHaveLength(5);
    const found = await detectImage(await load('yolov8n-coco-int8-640.onnx'), 'bus.jpg');
    for (const ref of reference) {
      const match = found.find((d) => d.label === ref.label && iou(d.box, ref.box) >= 0.9);
      expect(match, `${ref.label} ${ref.score}`).toBeDefined();
      expect(Math.abs(match!.score - ref.score)).toBeLessThanOrEqual(0.03);
    }
    const extra = found.filter(
      (d) => d.score > 0.3 && !reference.some((r) => r.label === d.label && iou(d.box, r.box) >= 0.9),
    );
    expect(extra).toEqual([]);
  });

  it.each(['yolo11n-coco-int8-320.onnx', 'yolox-nano-coco-416.onnx'])(
    '%s finds the four people and the bus',
    async (file) => {
      const found = await detectImage(await load(file), 'bus.jpg');
      const reference = referenceFromReadme().filter((r) => r.score > 0.5);
      for (const ref of reference)
        expect(found.some((d) => d.label === ref.label && iou(d.box, ref.box) > 0.7)).toBe(true);
      expect(found.filter((d) => d.label === 'person' && d.score > 0.5).length).toBeGreaterThanOrEqual(3);
      expect(found.filter((d) => d.label === 'person').length).toBeGreaterThanOrEqual(4);
    },
  );

  it('reads family, input and class names from the file, and says which provider runs and why others were refused', async () => {
    const v8 = await load('yolov8n-coco-int8-640.onnx');
    expect(v8.info).toMatchObject({
      family: 'yolov8',
      input: { width: 640, height: 640, pixelOrder: 'rgb', padPosition: 'center' },
    });
    expect(v8.info.classNames.slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
    expect(v8.info.provider).toBe('cpu');
    expect(v8.info.refused.map((r) => r.provider)).toEqual(['tensorrt', 'cuda']);
    for (const r of v8.info.refused) expect(r.reason.length).toBeGreaterThan(10);
    const x = await load('yolox-nano-coco-416.onnx');
    expect(x.info).toMatchObject({
      family: 'yolox',
      input: { width: 416, height: 416, pixelOrder: 'bgr', padPosition: 'top-left' },
    });
    expect(x.info.classNames).toHaveLength(80);
  });

  it('maps classes to site labels, applies per-class thresholds and drops unmapped classes on request', async () => {
    const d = await load('yolov8n-coco-int8-640.onnx', {
      labels: { person: 'worker', bus: 'vehicle' },
      onlyMapped: true,
      classes: { person: { confidence: 0.5 } },
    });
    const found = await detectImage(d, 'bus.jpg');
    expect(new Set(found.map((f) => f.label))).toEqual(new Set(['worker', 'vehicle']));
    expect(found.filter((f) => f.label === 'worker')).toHaveLength(3); // the 0.41 person is below 0.5
  });

  it('refuses labels and classes keys that name no class of the model, with the class meant', async () => {
    const cfg = model('yolov8n-coco-int8-640.onnx', {
      labels: { Person: 'person', trucks: 'forklift' },
      onlyMapped: true,
      classes: { persons: { minArea: 400 } },
    });
    await expect(Detector.load('yard', cfg)).rejects.toThrow(
      /^model "yard": labels\.Person \(did you mean "person"\?\), labels\.trucks \(did you mean "truck"\?\), classes\.persons \(did you mean "person"\?\) name no class of this model \(its classes: person, bicycle, .* \(80 in all\)\)$/,
    );
  });

  it('gives the frame back usable after detection (the pixels went to a worker and came back)', async () => {
    const d = await load('yolo11n-coco-int8-320.onnx');
    const frame = await imageToInputFrame(sharedPath('media', 'zidane.jpg'), d.info.input);
    const copy = frame.data.slice();
    await d.detect(frame);
    expect(frame.data).toEqual(copy);
  });

  it("a worker that keeps the letterbox padding of its last fill gives exactly the full fill's detections", async () => {
    // Two different 16:9 pictures share the same letterbox rows: after the first, the worker converts only the
    // picture rows of the second. A fresh worker converts everything; the detections must be identical.
    const file = 'yolov8n-coco-int8-640.onnx';
    const other = await sharp(sharedPath('media', 'bus.jpg'))
      .resize(1280, 720, { fit: 'fill' })
      .jpeg()
      .toBuffer();
    const kept = await load(file);
    const first = await imageToInputFrame(other, kept.info.input);
    expect(first.letterbox.padY).toBeGreaterThan(0);
    await kept.detect(first);
    const partial = (
      await kept.detect(await imageToInputFrame(sharedPath('media', 'zidane.jpg'), kept.info.input))
    ).detections;
    const fresh = await detectImage(await load(file), 'zidane.jpg');
    expect(fresh.length).toBeGreaterThan(0);
    expect(partial).toEqual(fresh);
  });

  it('survives a worker crash: the request in flight fails, the pool replaces the worker', async () => {
    const d = await load('yolo11n-coco-int8-320.onnx');
    const frame = await imageToInputFrame(sharedPath('media', 'bus.jpg'), d.info.input);
    const inFlight = d.detect({ ...frame, data: frame.data.slice() });
    // the worker dies as it would on a native crash
    const slots = (d as unknown as { pool: { slots: { worker: { terminate(): Promise<number> } }[] } }).pool
      .slots;
    await slots[0]!.worker.terminate();
    await expect(inFlight).rejects.toThrow(/inference worker crashed/);
    const again = await d.detect(frame);
    expect(again.detections.length).toBeGreaterThan(3);
  });
});

describe('Detector refuses what it cannot run, clearly', () => {
  it('a missing file', async () => {
    await expect(Detector.load('m', ModelConfig.parse({ path: '/nonexistent/m.onnx' }))).rejects.toThrow(
      'model "m": file not found: /nonexistent/m.onnx',
    );
  });

  it.skipIf(!hasShared)('a truncated file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-'));
    const file = path.join(dir, 'cut.onnx');
    const bytes = readFileSync(sharedPath('models', 'yolo11n-coco-int8-320.onnx'));
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    await expect(Detector.load('cut', ModelConfig.parse({ path: file }))).rejects.toThrow(
      /model "cut": .*not a valid ONNX file/,
    );
  });

  it('a file that is not a model', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-'));
    const file = path.join(dir, 'notes.onnx');
    writeFileSync(file, 'these are not weights\n');
    await expect(Detector.load('notes', ModelConfig.parse({ path: file }))).rejects.toThrow(
      /model "notes": .*not a valid ONNX file/,
    );
  });

  it.skipIf(!hasShared)('a family that does not fit the outputs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-'));
    const file = path.join(dir, 'v8.onnx');
    copyFileSync(sharedPath('models', 'yolo11n-coco-int8-320.onnx'), file);
    await expect(Detector.load('v8', ModelConfig.parse({ path: file, family: 'yolox' }))).rejects.toThrow(
      /output output0 does not fit family yolox/,
    );
  });
});
