import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputFrame } from '../../../models/types.js';
import {
  tinyDetector,
  ultralyticsNames,
  viaHalf,
  type TinyDetectorSpec,
} from '../../support/tiny-detector.js';

/**
 * The whole path (file → metadata → family → worker → tensor → decode → source pixels) for the layouts and
 * precisions no real model here has, on small ONNX graphs built in the test and run by onnxruntime.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-layouts-'));
const open: Detector[] = [];
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
});

async function load(name: string, spec: TinyDetectorSpec, over: Record<string, unknown> = {}) {
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, tinyDetector(spec));
  const d = await Detector.load(
    name,
    ModelConfig.parse({ path: file, workers: 1, providers: ['cpu'], ...over }),
  );
  open.push(d);
  return d;
}

/** A black source frame of srcW×srcH, already at the model's input size, with one bright pixel. */
function frame(d: Detector, srcW: number, srcH: number, bright = 204): InputFrame {
  const { width, height } = d.info.input;
  const data = new Uint8Array(width * height * 3);
  data[3 * (width + 1)] = bright;
  return { data, letterbox: computeLetterbox(srcW, srcH, d.info.input) };
}

/** YOLOv8 layout with one class: rows cx, cy, w, h, score over n anchors; anchor `at` holds the box. */
function v8Output(n: number, at: number, box: number[]) {
  const values = new Float32Array(5 * n);
  box.forEach((v, row) => (values[row * n + at] = v));
  const gain = new Float32Array(5 * n);
  gain[4 * n + at] = 1; // score = the input's maximum
  return { output: [1, 5, n], values, gain };
}

describe('Detector on built models of every layout and precision', () => {
  it('an fp16 model: fp16 input built from the bytes, fp16 output widened, boxes mapped to the source', async () => {
    const d = await load('fp16', {
      inputType: 'float16',
      size: [32, 32],
      ...v8Output(64, 3, [16, 16, 8, 8]),
      metadata: { names: ultralyticsNames(['person']), task: 'detect' },
    });
    expect(d.info.family).toBe('yolov8');
    const { detections } = await d.detect(frame(d, 64, 64));
    // 204/255 rounded to fp16 at the input, the sum rounded to fp16 at the output
    expect(detections).toEqual([
      {
        label: 'person',
        classId: 0,
        score: viaHalf(viaHalf(204 / 255)),
        box: { x1: 24, y1: 24, x2: 40, y2: 40 },
      },
    ]);
    expect(viaHalf(204 / 255)).not.toBe(Math.fround(204 / 255)); // the check can tell fp16 from fp32
  });

  it('a YOLOv5 export with a rectangular 64×32 input: objectness × class, Ultralytics letterbox', async () => {
    const rows = 3 * (8 * 4 + 4 * 2 + 2 * 1);
    const values = new Float32Array(rows * 7);
    values.set([32, 16, 16, 8, 0.9, 0.1, 0], 5 * 7);
    const gain = new Float32Array(rows * 7);
    gain[5 * 7 + 6] = 1; // class 1 score = the input's maximum (0.8)
    const d = await load('v5', {
      size: [32, 64],
      output: [1, rows, 7],
      values,
      gain,
      metadata: { names: ultralyticsNames(['person', 'forklift']), stride: '32' },
    });
    expect(d.info).toMatchObject({
      family: 'yolov5',
      input: { width: 64, height: 32, padPosition: 'center' },
    });
    const { detections } = await d.detect(frame(d, 128, 64));
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({
      label: 'forklift',
      classId: 1,
      box: { x1: 48, y1: 24, x2: 80, y2: 40 },
    });
    expect(detections[0]!.score).toBeCloseTo(0.9 * (204 / 255), 5);
  });

  it('an end-to-end fp16 export (1×K×6): its own overlapping boxes kept, class ids named', async () => {
    const values = new Float32Array(10 * 6);
    values.set([4, 4, 20, 20, 0.9, 1, 5, 5, 20, 20, 0.7, 1, 0, 0, 8, 8, 0.1, 0], 0);
    const d = await load('e2e', {
      inputType: 'float16',
      size: [32, 32],
      output: [1, 10, 6],
      values,
      metadata: { names: ultralyticsNames(['person', 'car']) },
    });
    expect(d.info.family).toBe('end2end');
    const { detections } = await d.detect(frame(d, 32, 32, 0));
    expect(detections.map((x) => [x.label, x.box.x1])).toEqual([
      ['car', 4],
      ['car', 5],
    ]);
  });

  it('a dynamic-size export runs at the configured size and is refused without one', async () => {
    const spec: TinyDetectorSpec = { size: ['height', 'width'], ...v8Output(64, 0, [8, 8, 4, 4]) };
    await expect(load('dyn-none', spec)).rejects.toThrow(
      /model "dyn-none": the model has a dynamic input size: set inputSize/,
    );
    const d = await load('dyn', spec, { inputSize: [48, 32] });
    expect(d.info.input).toMatchObject({ width: 48, height: 32 });
    expect((await d.detect(frame(d, 48, 32))).detections).toHaveLength(1);
  });

  it('refuses segmentation and pose models, and outputs of no family, saying what it found', async () => {
    const seg = { size: [32, 32], ...v8Output(64, 0, [8, 8, 4, 4]) } as TinyDetectorSpec;
    await expect(
      load('seg', {
        ...seg,
        metadata: { task: 'segment' },
        extra: [{ name: 'output1', dims: [1, 32, 8, 8] }],
      }),
    ).rejects.toThrow('model "seg": this is a "segment" model, not a detector (Ultralytics task metadata)');
    await expect(load('seg2', { ...seg, extra: [{ name: 'protos', dims: [1, 32, 8, 8] }] })).rejects.toThrow(
      /expected one output, found 2 \(output0 1×5×64, protos 1×32×8×8\)/,
    );
    // a pose head without its task: 4 + 52 channels but one class name
    const pose = {
      size: [32, 32],
      output: [1, 56, 64],
      values: new Float32Array(56 * 64),
    } as TinyDetectorSpec;
    await expect(
      load('pose', { ...pose, metadata: { names: ultralyticsNames(['person']) } }),
    ).rejects.toThrow(
      /names 1 classes but output 1×56×64 holds 52 class scores \(a pose or segmentation head/,
    );
    const odd = { size: [32, 32], output: [1, 7, 3], values: new Float32Array(21) } as TinyDetectorSpec;
    await expect(load('odd', odd)).rejects.toThrow(/output output0 1×7×3 matches no known detector family/);
  });

  it('a configured sha256 refuses an altered file before anything loads it, and passes the right one', async () => {
    const spec = { size: [32, 32], ...v8Output(64, 0, [8, 8, 4, 4]) } as TinyDetectorSpec;
    await load('hashed', spec); // writes hashed.onnx
    const sha = createHash('sha256')
      .update(readFileSync(path.join(dir, 'hashed.onnx')))
      .digest('hex');
    await expect(load('hashed', spec, { sha256: sha })).resolves.toBeInstanceOf(Detector);
    const wrong = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await expect(load('hashed', spec, { sha256: wrong })).rejects.toThrow(
      `model "hashed": ${path.join(dir, 'hashed.onnx')} has sha256 ${sha}, expected ${wrong} (truncated or altered): not loaded`,
    );
  });

  it('per-class minimum box area (source pixels²) and session options from the config', async () => {
    const values = new Float32Array(5 * 64);
    const boxes = [
      [8, 8, 4, 4], // 4×4 input pixels: 8×8 = 64 px² in a 64×64 source
      [20, 20, 10, 10], // 20×20 = 400 px²
    ];
    boxes.forEach((b, at) => b.forEach((v, row) => (values[row * 64 + at] = v)));
    values[4 * 64] = values[4 * 64 + 1] = 0.9;
    const spec: TinyDetectorSpec = { size: [32, 32], output: [1, 5, 64], values };
    const all = await load('area', spec, { session: { graphOptimization: 'disabled', interOpThreads: 1 } });
    expect((await all.detect(frame(all, 64, 64))).detections.map((d) => d.box.x2 - d.box.x1)).toEqual([
      8, 20,
    ]);
    const big = await load('area2', spec, { classes: { class0: { minArea: 100 } } });
    expect((await big.detect(frame(big, 64, 64))).detections.map((d) => d.box.x2 - d.box.x1)).toEqual([20]);
    expect(() => ModelConfig.parse({ path: 'x', session: { graphOptimization: 'max' } })).toThrow();
  });
});
