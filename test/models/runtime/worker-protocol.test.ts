import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { ProviderName } from '../../../config/schema.js';
import type { Candidate } from '../../../models/detect/candidate.js';
import type {
  InferenceWorkerInit,
  InferRequest,
  InferResponse,
  WorkerReady,
} from '../../../models/runtime/worker-protocol.js';
import type { ProviderRefusal } from '../../../models/types.js';
import {
  modelFile,
  scoreIsMaxModel,
  startWorker,
  type StartedWorker,
  workerInit,
} from '../../support/inference-worker.js';

/**
 * The messages between WorkerPool and an inference worker, checked on the wire: a real worker thread is
 * sent requests of the protocol's shape and its answers must have exactly the protocol's fields (structured
 * clone drops nothing and adds nothing, so extra or missing keys are the worker's doing).
 */
const keys = (o: object) => Object.keys(o).sort();
const workers: StartedWorker[] = [];
const start = (init: InferenceWorkerInit) => {
  const w = startWorker(init);
  workers.push(w);
  return w;
};
afterAll(async () => Promise.all(workers.map((w) => w.worker.terminate())));

describe('worker protocol types', () => {
  it('the init carries the entry, model and session settings; providers are Vigil’s names', () => {
    expectTypeOf<InferenceWorkerInit['providers']>().toEqualTypeOf<ProviderName[]>();
    expectTypeOf<InferenceWorkerInit['inputType']>().toEqualTypeOf<'float32' | 'float16'>();
    expectTypeOf<InferenceWorkerInit>().toHaveProperty('entry').toEqualTypeOf<string>();
    expectTypeOf<InferenceWorkerInit>().toHaveProperty('dataDir').toEqualTypeOf<string>();
    // the init goes through structured clone: plain data only
    const init = workerInit({ modelPath: '/m.onnx' });
    expect(structuredClone(init)).toEqual(init);
  });

  it('ready and failed are told apart by type; both carry the refusals', () => {
    expectTypeOf<WorkerReady['type']>().toEqualTypeOf<'ready' | 'failed'>();
    expectTypeOf<WorkerReady['refused']>().toEqualTypeOf<ProviderRefusal[]>();
    expectTypeOf<Extract<WorkerReady, { type: 'ready' }>['provider']>().toEqualTypeOf<ProviderName>();
    expectTypeOf<Extract<WorkerReady, { type: 'failed' }>['error']>().toEqualTypeOf<string>();
  });

  it('a request is bytes with their window and optional picture rows; a response is told apart by ok', () => {
    expectTypeOf<InferRequest['pixels']>().toEqualTypeOf<ArrayBuffer | SharedArrayBuffer>();
    expectTypeOf<InferRequest['rows']>().toEqualTypeOf<[number, number] | undefined>();
    expectTypeOf<Extract<InferResponse, { ok: true }>['candidates']>().toEqualTypeOf<Candidate[]>();
    expectTypeOf<Extract<InferResponse, { ok: false }>['error']>().toEqualTypeOf<string>();
    expectTypeOf<InferResponse['pixels']>().toEqualTypeOf<ArrayBuffer | SharedArrayBuffer>();
    expectTypeOf<InferResponse['id']>().toEqualTypeOf<number>();
  });
});

describe('worker protocol on the wire (real worker thread, real session)', () => {
  it('ready: exactly type, provider, refused, inputName, outputName', async () => {
    const w = start(workerInit({ modelPath: scoreIsMaxModel(8), providers: ['cuda', 'cpu'] }));
    const ready = await w.ready;
    expect(keys(ready)).toEqual(['inputName', 'outputName', 'provider', 'refused', 'type']);
    expect(ready).toMatchObject({
      type: 'ready',
      provider: 'cpu',
      inputName: 'images',
      outputName: 'output0',
    });
    expect(ready.refused).toHaveLength(1);
    expect(keys(ready.refused[0]!)).toEqual(['provider', 'reason']);
    expect(ready.refused[0]!.provider).toBe('cuda');
  });

  it('failed: exactly type, error, refused', async () => {
    const w = start(workerInit({ modelPath: modelFile('not onnx') }));
    const failed = await w.ready;
    expect(keys(failed)).toEqual(['error', 'refused', 'type']);
    expect(failed.type).toBe('failed');
    expect(failed.refused.map((r) => r.provider)).toEqual(['cpu']);
  });

  it('an ok response: id, ok, candidates, the three timings and the pixels; candidates are plain boxes', async () => {
    const w = start(workerInit({ modelPath: scoreIsMaxModel(8) }));
    await w.ready;
    const px = new Uint8Array(192).fill(255);
    const req: InferRequest = { id: 42, pixels: px.buffer, byteOffset: 0, byteLength: 192, rows: [0, 8] };
    const res = await w.send(req, [px.buffer]);
    expect(keys(res)).toEqual(['candidates', 'id', 'inferenceMs', 'ok', 'pixels', 'postMs', 'preMs']);
    expect(res).toMatchObject({ id: 42, ok: true });
    const candidates = (res as Extract<InferResponse, { ok: true }>).candidates;
    expect(candidates).toEqual([{ x1: 1, y1: 2, x2: 5, y2: 6, score: 1, classId: 3 }]);
    expect(keys(candidates[0]!)).toEqual(['classId', 'score', 'x1', 'x2', 'y1', 'y2']);
    for (const k of ['preMs', 'inferenceMs', 'postMs'] as const)
      expect(Number.isFinite((res as Extract<InferResponse, { ok: true }>)[k])).toBe(true);
    // a transferred request buffer is detached here and comes back whole in the response
    expect(px.buffer.byteLength).toBe(0);
    expect(res.pixels).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(res.pixels)).toEqual(new Uint8Array(192).fill(255));
  });

  it('an error response: id, ok false, error, the pixels', async () => {
    const w = start(workerInit({ modelPath: scoreIsMaxModel(8) }));
    await w.ready;
    const px = new Uint8Array(191);
    const res = await w.send({ id: 9, pixels: px.buffer, byteOffset: 0, byteLength: 191 }, [px.buffer]);
    expect(keys(res)).toEqual(['error', 'id', 'ok', 'pixels']);
    expect(res).toMatchObject({ id: 9, ok: false });
    expect(res.pixels.byteLength).toBe(191);
  });

  it('byteOffset and byteLength pick the frame out of a larger buffer', async () => {
    const w = start(workerInit({ modelPath: scoreIsMaxModel(8) }));
    await w.ready;
    const buf = new Uint8Array(64 + 192 + 64).fill(255);
    buf.fill(51, 64, 64 + 192);
    const res = await w.send({ id: 1, pixels: buf.buffer, byteOffset: 64, byteLength: 192 });
    expect((res as Extract<InferResponse, { ok: true }>).candidates[0]!.score).toBe(Math.fround(51 / 255));
  });
});
