import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../config/schema.js';
import { executionProvider, tensorRtOptions } from '../../../models/runtime/execution-provider.js';
import {
  bindingDir,
  explainLoadFailure,
  firstLoadable,
  probeProvider,
} from '../../../models/runtime/provider-probe.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';

// This box has no GPU and onnxruntime-node without its CUDA/TensorRT libraries: the ORT log line about
// it is expected noise, the reason below is what matters.
ort.env.logLevel = 'fatal';

describe('tiny probe model', () => {
  it('is a valid ONNX model that adds its input to itself', async () => {
    const session = await ort.InferenceSession.create(tinyModel());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([21]), [1]) });
    expect([session.inputNames, session.outputNames, [...(out.y!.data as Float32Array)]]).toEqual([
      ['x'],
      ['y'],
      [42],
    ]);
    await session.release();
  });
});

describe('probeProvider on this CPU-only box', () => {
  it('cpu loads and runs', async () => {
    expect(await probeProvider('cpu')).toMatchObject({ provider: 'cpu', ok: true });
  });

  it.each(['cuda', 'tensorrt'] as const)('%s fails and says why', async (provider) => {
    const probe = await probeProvider(provider);
    expect(probe.ok).toBe(false);
    expect(probe.reason).toMatch(
      /Failed to load shared library: libonnxruntime_providers_\w+\.so is not beside/,
    );
    expect(probe.reason).toContain(bindingDir());
  });
});

describe('explainLoadFailure', () => {
  it('names a provider library that is there but will not load', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ep-'));
    // a library that loads (onnxruntime itself stands in for the shared provider bridge) …
    symlinkSync(
      path.join(bindingDir(), 'libonnxruntime.so.1'),
      path.join(dir, 'libonnxruntime_providers_shared.so'),
    );
    // … and a broken one
    writeFileSync(path.join(dir, 'libonnxruntime_providers_cuda.so'), 'not an ELF file');
    expect(explainLoadFailure('cuda', dir)).toMatch(/^libonnxruntime_providers_cuda\.so does not load: /);
    expect(explainLoadFailure('tensorrt', dir)).toBe(
      `libonnxruntime_providers_tensorrt.so is not beside the onnxruntime binding (${dir})`,
    );
    expect(explainLoadFailure('cpu', dir)).toBeUndefined();
  });
});

describe('provider fallback', () => {
  const session = (provider: 'tensorrt' | 'cuda' | 'cpu') =>
    ort.InferenceSession.create(tinyModel(), { executionProviders: [provider] });

  it('takes the first provider that loads, with the reasons of those before it', async () => {
    const result = await firstLoadable(['tensorrt', 'cuda', 'cpu'], session);
    expect(result.provider).toBe('cpu');
    expect(result.refused.map((r) => r.provider)).toEqual(['tensorrt', 'cuda']);
    expect(result.refused.map((r) => r.reason)).toEqual([
      'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library',
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    ]);
    await result.value.release();
  });

  it('keeps the configured order: cpu first means no GPU attempt', async () => {
    const result = await firstLoadable(['cpu', 'tensorrt'], session);
    expect([result.provider, result.refused]).toEqual(['cpu', []]);
    await result.value.release();
  });

  it('fails with every reason when nothing loads', async () => {
    await expect(firstLoadable(['tensorrt', 'cuda'], session)).rejects.toThrow(
      'no execution provider could be used (tensorrt: OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library; cuda: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library)',
    );
  });
});

describe('execution provider options', () => {
  const model = (over: object) => ModelConfig.parse({ path: 'm.onnx', ...over });

  it('maps cpu and cuda, with the configured device', () => {
    expect(executionProvider('cpu', model({}), '/data')).toBe('cpu');
    expect(executionProvider('cuda', model({ cudaDeviceId: 1 }), '/data')).toEqual({
      name: 'cuda',
      deviceId: 1,
    });
  });

  it('gives TensorRT FP16 and an engine cache under the data dir by default', () => {
    expect(executionProvider('tensorrt', model({}), '/data')).toEqual({
      name: 'tensorrt',
      deviceId: 0,
      trt_fp16_enable: '1',
      trt_engine_cache_enable: '1',
      trt_engine_cache_path: '/data/tensorrt',
      trt_timing_cache_enable: '1',
      trt_timing_cache_path: '/data/tensorrt',
    });
  });

  it('passes the configured TensorRT options, relative dirs under the data dir', () => {
    const trt = model({
      tensorrt: {
        fp16: false,
        engineCacheDir: '/cache/engines',
        timingCacheDir: 'timing',
        workspaceMiB: 512,
      },
    });
    expect(tensorRtOptions(trt, '/data')).toEqual({
      trt_fp16_enable: '0',
      trt_engine_cache_enable: '1',
      trt_engine_cache_path: '/cache/engines',
      trt_timing_cache_enable: '1',
      trt_timing_cache_path: '/data/timing',
      trt_max_workspace_size: String(512 * 1024 * 1024),
    });
  });

  it('rejects unknown TensorRT options in the config', () => {
    expect(() => model({ tensorrt: { fp32: true } })).toThrow(/fp32/);
  });
});
