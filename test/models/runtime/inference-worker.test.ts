import { afterEach, describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../../models/runtime/float16.js';
import type { InferResponse, WorkerReady } from '../../../models/runtime/worker-protocol.js';
import { modelFile, scoreIsMaxModel, workerInit } from '../../support/inference-worker.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { tinyDetector } from '../../support/tiny-detector.js';
import { frame, start, stopWorkers } from './inference-worker-fixture.js';

// Models that cannot load, and a worker pool closed: inference-worker-load.test.ts.
afterEach(stopWorkers);

const ok = (r: InferResponse) => {
  if (!r.ok) throw new Error(`worker answered an error: ${r.error}`);
  return r;
};
const box = { x1: 1, y1: 2, x2: 5, y2: 6, classId: 3 };

describe('inference worker: a real session in a real worker thread', () => {
  it('starts on the first provider that loads, reporting why TensorRT and CUDA were refused', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8), providers: ['tensorrt', 'cuda', 'cpu'] });
    const ready = await w.ready;
    expect(ready).toMatchObject({
      type: 'ready',
      provider: 'cpu',
      inputName: 'images',
      outputName: 'output0',
    });
    const refused = (ready as Extract<WorkerReady, { type: 'ready' }>).refused;
    expect(refused.map((r) => r.provider)).toEqual(['tensorrt', 'cuda']);
    expect(refused[0]!.reason).toBe(
      'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library',
    );
    expect(refused[1]!.reason).toBe(
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    );
  });

  it('builds the tensor from the frame’s bytes at the family’s scale and returns the decoded boxes', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const px = frame(8, 51);
    px[100] = 204; // the brightest byte sets the score: 204 / 255
    const res = ok(
      await w.send({ id: 7, pixels: px.buffer, byteOffset: 0, byteLength: px.length }, [px.buffer]),
    );
    expect(res.id).toBe(7);
    expect(res.candidates).toEqual([{ ...box, score: Math.fround(204 / 255) }]);
    for (const ms of [res.preMs, res.inferenceMs, res.postMs]) expect(ms).toBeGreaterThanOrEqual(0);
    // the bytes come back, intact
    expect(new Uint8Array(res.pixels as ArrayBuffer)[100]).toBe(204);
    expect(res.pixels.byteLength).toBe(8 * 8 * 3);
  });

  it('applies the thresholds in the worker: below the confidence there is no box', async () => {
    const w = start({
      modelPath: scoreIsMaxModel(8),
      thresholds: { confidence: 0.5, iou: 0.45, maxDetections: 10 },
    });
    await w.ready;
    const low = frame(8, 102); // 0.4
    expect(
      ok(await w.send({ id: 1, pixels: low.buffer, byteOffset: 0, byteLength: low.length })).candidates,
    ).toEqual([]);
    const high = frame(8, 153); // 0.6
    expect(
      ok(await w.send({ id: 2, pixels: high.buffer, byteOffset: 0, byteLength: high.length })).candidates,
    ).toHaveLength(1);
  });

  it('YOLOX scale (0–255 values) reaches the model unscaled', async () => {
    const w = start({
      modelPath: scoreIsMaxModel(8),
      input: { width: 8, height: 8, pixelOrder: 'bgr', padPosition: 'top-left', scale: 1, padValue: 114 },
      thresholds: { confidence: 100, iou: 0.45, maxDetections: 10 },
    });
    await w.ready;
    const px = frame(8, 150);
    expect(
      ok(await w.send({ id: 1, pixels: px.buffer, byteOffset: 0, byteLength: px.length })).candidates,
    ).toEqual([{ ...box, score: 150 }]);
  });

  it('fp16 models: the input goes in as half bit patterns and the fp16 output is widened', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8, 'float16'), inputType: 'float16' });
    expect((await w.ready).type).toBe('ready');
    const px = frame(8, 204);
    const res = ok(await w.send({ id: 1, pixels: px.buffer, byteOffset: 0, byteLength: px.length }));
    // 204/255 as the nearest half, through the model's float32 arithmetic, back to half, widened exactly
    expect(res.candidates).toEqual([{ ...box, score: halfToFloat(floatToHalf(204 / 255)) }]);
    expect(res.candidates[0]!.score).not.toBe(Math.fround(204 / 255));
  });

  it('a float32 worker refuses an fp16 model clearly (per request, it keeps running)', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8, 'float16') });
    await w.ready;
    const px = frame(8, 1);
    const res = await w.send({ id: 4, pixels: px.buffer, byteOffset: 0, byteLength: px.length });
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.error).toMatch(/type|float16|tensor\(float/i);
  });

  it('reads shared memory in place at its offset and hands the same memory back', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const sab = new SharedArrayBuffer(1000 + 192);
    const view = new Uint8Array(sab);
    view.fill(255, 0, 1000); // bytes before the frame must not be read
    view.fill(51, 1000);
    const res = ok(await w.send({ id: 1, pixels: sab, byteOffset: 1000, byteLength: 192 }));
    expect(res.candidates[0]!.score).toBe(Math.fround(51 / 255));
    expect(res.pixels).toBeInstanceOf(SharedArrayBuffer);
    new Uint8Array(res.pixels).fill(9, 1000);
    expect(view[1000]).toBe(9); // same memory, not a copy
  });

  it('keeps the letterbox padding of the last fill when the picture rows are the same', async () => {
    const side = 32;
    const w = start({
      modelPath: scoreIsMaxModel(side),
      input: { ...workerInit({ modelPath: '' }).input, width: side, height: side },
    });
    await w.ready;
    const rows: [number, number] = [12, 20];
    const send = async (id: number, px: Uint8Array, r?: [number, number]) =>
      ok(
        await w.send({
          id,
          pixels: px.buffer,
          byteOffset: 0,
          byteLength: px.length,
          ...(r ? { rows: r } : {}),
        }),
      ).candidates[0]?.score;
    const picture = frame(side, 102);
    expect(await send(1, picture, rows)).toBe(Math.fround(102 / 255)); // first fill: every row
    // same rows again: rows 0..3 (more than 4 rows from the picture) are taken as padding and not read
    const brightPad = frame(side, 102);
    brightPad.fill(255, 0, 4 * side * 3);
    expect(await send(2, brightPad, rows)).toBe(Math.fround(102 / 255));
    // … but rows within 4 of the picture are converted again
    const brightEdge = frame(side, 102);
    brightEdge.fill(204, 8 * side * 3, 9 * side * 3);
    expect(await send(3, brightEdge, rows)).toBe(Math.fround(204 / 255));
    // other rows, or none given: a full fill
    expect(await send(4, brightPad, [11, 21])).toBe(1);
    expect(await send(5, picture)).toBe(Math.fround(102 / 255));
    expect(await send(6, brightPad)).toBe(1);
  });

  it('a frame of the wrong size is refused with its id, the bytes are returned, and the worker carries on', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const short = frame(8, 1).subarray(0, 100);
    const res = await w.send({ id: 11, pixels: short.buffer, byteOffset: 0, byteLength: 100 }, [
      short.buffer,
    ]);
    expect(res).toMatchObject({ id: 11, ok: false, error: 'frame has 100 bytes, expected 8×8×3 = 192' });
    expect(res.pixels.byteLength).toBe(192); // the whole buffer came back
    const good = frame(8, 255);
    expect(
      ok(await w.send({ id: 12, pixels: good.buffer, byteOffset: 0, byteLength: 192 })).candidates,
    ).toHaveLength(1);
  });

  // One request at a time per worker, as the pool dispatches (the worker fills one tensor buffer per run).
  it('converts every channel of every pixel (one bright byte in any channel is seen)', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    for (const [i, at] of [0, 1, 2, 3 * 37 + 2, 191].entries()) {
      const px = frame(8, 0);
      px[at] = 255;
      const res = ok(await w.send({ id: i, pixels: px.buffer, byteOffset: 0, byteLength: px.length }));
      expect(
        res.candidates.map((c) => c.score),
        `byte ${at}`,
      ).toEqual([1]);
    }
  });

  it('a frame one byte too long is refused as well', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const px = new Uint8Array(193).fill(255);
    const res = await w.send({ id: 3, pixels: px.buffer, byteOffset: 0, byteLength: 193 });
    expect(res).toMatchObject({ id: 3, ok: false, error: 'frame has 193 bytes, expected 8×8×3 = 192' });
  });

  it('end-to-end graphs keep their own selection: no second NMS over overlapping boxes', async () => {
    // two rows on the same box: a greedy NMS would keep only the first
    const w = start({
      family: 'end2end',
      modelPath: modelFile(
        tinyDetector({
          size: [8, 8],
          output: [1, 2, 6],
          values: Float32Array.from([1, 2, 5, 6, 0.9, 3, 1, 2, 5, 6, 0.8, 3]),
        }),
      ),
    });
    await w.ready;
    const px = frame(8, 0);
    const res = ok(await w.send({ id: 1, pixels: px.buffer, byteOffset: 0, byteLength: px.length }));
    expect(res.candidates.map((c) => c.score)).toEqual([Math.fround(0.9), Math.fround(0.8)]);
  });

  it('answers each request with its own id and its own frame’s result', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const fills = [51, 102, 153, 204, 255];
    const res: InferResponse[] = [];
    for (const [i, v] of fills.entries()) {
      const px = frame(8, v);
      res.push(
        await w.send({ id: 100 + i, pixels: px.buffer, byteOffset: 0, byteLength: px.length }, [px.buffer]),
      );
    }
    expect(res.map((r) => [r.id, ok(r).candidates[0]!.score])).toEqual(
      fills.map((v, i) => [100 + i, Math.fround(v / 255)]),
    );
    expect(w.responses.map((r) => r.id)).toEqual([100, 101, 102, 103, 104]);
  });

  it('requests sent before the reply wait their turn: each is answered on its own frame, in order', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8) });
    await w.ready;
    const fills = [51, 102, 153, 204, 255, 0, 40];
    const res = await Promise.all(
      fills.map((v, i) => {
        const px = frame(8, v);
        return w.send({ id: 200 + i, pixels: px.buffer, byteOffset: 0, byteLength: px.length }, [px.buffer]);
      }),
    );
    // A 0 frame scores 0: below the confidence, no box.
    expect(res.map((r) => [r.id, ok(r).candidates[0]?.score ?? 0])).toEqual(
      fills.map((v, i) => [200 + i, Math.fround(v / 255)]),
    );
    expect(w.responses.map((r) => r.id)).toEqual(fills.map((_, i) => 200 + i));
    expect(res.map((r) => new Uint8Array(r.pixels as ArrayBuffer)[0])).toEqual(fills);
  });
});

describe.skipIf(!hasShared)('inference worker on a real model (yolo11n-320, int8)', () => {
  it('runs a grey frame end to end', async () => {
    const w = start({
      modelPath: sharedPath('models', 'yolo11n-coco-int8-320.onnx'),
      family: 'yolov8',
      input: {
        width: 320,
        height: 320,
        pixelOrder: 'rgb',
        padPosition: 'center',
        scale: 1 / 255,
        padValue: 114,
      },
      thresholds: { confidence: 0.25, iou: 0.45, maxDetections: 5 },
    });
    expect(await w.ready).toMatchObject({
      type: 'ready',
      provider: 'cpu',
      inputName: 'images',
      outputName: 'output0',
    });
    const px = frame(320, 114);
    const res = ok(await w.send({ id: 1, pixels: px.buffer, byteOffset: 0, byteLength: px.length }));
    expect(res.candidates.length).toBeLessThanOrEqual(5);
    expect(res.inferenceMs).toBeGreaterThan(0);
  });
});
