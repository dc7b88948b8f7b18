import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../models/runtime/worker-pool.js';
import type { WorkerReady } from '../../../models/runtime/worker-protocol.js';
import { modelFile, scoreIsMaxModel, workerInit } from '../../support/inference-worker.js';
import { frame, start, stopWorkers } from './inference-worker-fixture.js';

// What a worker does when its model cannot load, and a pool of real workers once closed.
afterEach(stopWorkers);

describe('inference worker: models and providers that cannot load', () => {
  it('a corrupt model file: failed, with each provider’s reason, and the worker ends by itself', async () => {
    const w = start({ modelPath: modelFile('this is not an onnx model'), providers: ['cuda', 'cpu'] });
    const ready = await w.ready;
    expect(ready.type).toBe('failed');
    const failed = ready as Extract<WorkerReady, { type: 'failed' }>;
    expect(failed.refused.map((r) => r.provider)).toEqual(['cuda', 'cpu']);
    expect(failed.refused[1]!.reason).toMatch(/protobuf parsing failed|Load model/i);
    expect(failed.error).toBe(failed.refused.map((r) => `${r.provider}: ${r.reason}`).join('; '));
    expect(failed.refused.every((r) => !r.reason.includes('\n') && r.reason.length <= 300)).toBe(true);
    expect(await w.exited).toBe(0); // no session, no listener: the thread does not linger
  });

  it('a truncated model file fails the same way', async () => {
    const { readFileSync } = await import('node:fs');
    const whole = readFileSync(scoreIsMaxModel(8));
    const w = start({ modelPath: modelFile(whole.subarray(0, whole.length - 20)) });
    const ready = await w.ready;
    expect(ready).toMatchObject({ type: 'failed', refused: [{ provider: 'cpu' }] });
    expect((ready as { error: string }).error).toMatch(/^cpu: /);
  });

  it('a provider’s reason is its first line, at most 300 characters', async () => {
    const long = `/nonexistent/${'d'.repeat(200)}/${'m'.repeat(200)}.onnx`;
    const w = start({ modelPath: long });
    const ready = await w.ready;
    expect(ready.type).toBe('failed');
    const reason = ready.refused[0]!.reason;
    expect(reason).toHaveLength(300);
    expect(reason).not.toContain('\n');
  });

  it('a missing model file names the file', async () => {
    const w = start({ modelPath: '/nonexistent/vigil/model.onnx' });
    const ready = await w.ready;
    expect(ready.type).toBe('failed');
    expect((ready as { error: string }).error).toContain('/nonexistent/vigil/model.onnx');
  });

  it('only GPU providers on this box: failed, both reasons, in the configured order', async () => {
    const w = start({ modelPath: scoreIsMaxModel(8), providers: ['cuda', 'tensorrt'] });
    expect(await w.ready).toEqual({
      type: 'failed',
      error:
        'cuda: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library; tensorrt: OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library',
      refused: [
        {
          provider: 'cuda',
          reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
        },
        {
          provider: 'tensorrt',
          reason: 'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library',
        },
      ],
    });
  });
});

describe('inference worker behind the pool: a closed worker refuses', () => {
  it('a pool of real workers serves, then refuses once closed; a corrupt model never starts', async () => {
    const { entry: _entry, ...init } = workerInit({ modelPath: scoreIsMaxModel(8) });
    const pool = await WorkerPool.start(init, 1);
    expect(pool.provider).toBe('cpu');
    expect((await pool.run(frame(8, 255))).candidates).toHaveLength(1);
    await pool.close();
    await expect(pool.run(frame(8, 255))).rejects.toThrow('inference pool is closed');
    const { entry: _e, ...bad } = workerInit({ modelPath: modelFile(new Uint8Array([0x0a, 0xff])) });
    await expect(WorkerPool.start(bad, 1)).rejects.toThrow(
      /^no execution provider could load the model: cpu: /,
    );
  });
});
