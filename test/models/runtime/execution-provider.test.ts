import path from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelConfig, type ProviderName } from '../../../config/schema.js';
import {
  defaultEngineCacheDir,
  executionProvider,
  tensorRtOptions,
} from '../../../models/runtime/execution-provider.js';
import { firstLoadable } from '../../../models/runtime/provider-probe.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';

// This box has no GPU and onnxruntime-node without its CUDA/TensorRT provider libraries: onnxruntime refuses
// those providers when the session is created. Its own log line about that is noise here.
ort.env.logLevel = 'fatal';

const model = (over: object = {}) => ModelConfig.parse({ path: 'm.onnx', ...over });

/** A real session of the tiny model on exactly the config executionProvider gives for `name`. */
const session = (name: ProviderName, m = model(), dataDir = '/data') =>
  ort.InferenceSession.create(tinyModel(), {
    executionProviders: [executionProvider(name, m, dataDir)],
    graphOptimizationLevel: 'disabled',
  });

describe('executionProvider: what onnxruntime-node is given', () => {
  it('cpu is the plain name', () => {
    expect(executionProvider('cpu', model({ cudaDeviceId: 3 }), '/data')).toBe('cpu');
  });

  it('cuda names the device: 0 unless the model says', () => {
    expect(executionProvider('cuda', model(), '/data')).toEqual({ name: 'cuda', deviceId: 0 });
    expect(executionProvider('cuda', model({ cudaDeviceId: 2 }), '/data')).toEqual({
      name: 'cuda',
      deviceId: 2,
    });
  });

  it('tensorrt gets the same device and its cache/fp16 options', () => {
    expect(executionProvider('tensorrt', model({ cudaDeviceId: 1 }), '/var/vigil')).toEqual({
      name: 'tensorrt',
      deviceId: 1,
      trt_fp16_enable: '1',
      trt_engine_cache_enable: '1',
      trt_engine_cache_path: '/var/vigil/tensorrt',
      trt_timing_cache_enable: '1',
      trt_timing_cache_path: '/var/vigil/tensorrt',
    });
  });
});

describe('tensorRtOptions', () => {
  it('defaults: FP16 on, engine and timing cache in <dataDir>/tensorrt, no workspace limit', () => {
    const o = tensorRtOptions(model(), '/data');
    expect(o).toEqual({
      trt_fp16_enable: '1',
      trt_engine_cache_enable: '1',
      trt_engine_cache_path: '/data/tensorrt',
      trt_timing_cache_enable: '1',
      trt_timing_cache_path: '/data/tensorrt',
    });
    expect('trt_max_workspace_size' in o).toBe(false);
    expect(defaultEngineCacheDir('/data')).toBe('/data/tensorrt');
  });

  it('a relative data dir still puts the default cache in <dataDir>/tensorrt (not <dataDir>/<dataDir>/…)', () => {
    expect(tensorRtOptions(model(), './data').trt_engine_cache_path).toBe(path.resolve('data', 'tensorrt'));
    expect(tensorRtOptions(model(), 'var/vigil').trt_timing_cache_path).toBe(
      path.resolve('var/vigil/tensorrt'),
    );
  });

  it('resolves relative cache dirs against the data dir, keeps absolute ones', () => {
    const o = tensorRtOptions(model({ tensorrt: { engineCacheDir: 'engines', timingCacheDir: '/t' } }), '/d');
    expect([o.trt_engine_cache_path, o.trt_timing_cache_path]).toEqual(['/d/engines', '/t']);
    const p = tensorRtOptions(
      model({ tensorrt: { engineCacheDir: '/e', timingCacheDir: '../timing' } }),
      '/d/x',
    );
    expect([p.trt_engine_cache_path, p.trt_timing_cache_path]).toEqual(['/e', '/d/timing']);
  });

  it('the timing cache follows a configured engine dir when it has none of its own', () => {
    const o = tensorRtOptions(model({ tensorrt: { engineCacheDir: 'eng' } }), '/d');
    expect(o.trt_timing_cache_path).toBe('/d/eng');
  });

  it('fp16: false turns it off; workspace is given in bytes', () => {
    const o = tensorRtOptions(model({ tensorrt: { fp16: false, workspaceMiB: 3 } }), '/d');
    expect(o.trt_fp16_enable).toBe('0');
    expect(o.trt_max_workspace_size).toBe('3145728');
  });
});

describe('sessions on this box (CPU-only onnxruntime-node)', () => {
  it('cpu: the config loads and runs the model', async () => {
    const s = await session('cpu');
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([2.5]), [1]) });
    expect([...(out.y!.data as Float32Array)]).toEqual([5]);
    await s.release();
  });

  it.each([
    ['cuda', 'Cuda'],
    ['tensorrt', 'TensorRT'],
  ] as const)(
    '%s: the config is accepted, and onnxruntime refuses the missing provider at session creation',
    async (name, ortName) => {
      await expect(session(name, model({ tensorrt: { workspaceMiB: 64 } }))).rejects.toThrow(
        `OrtSessionOptionsAppendExecutionProvider_${ortName}: Failed to load shared library`,
      );
    },
  );

  it('default order tensorrt → cuda → cpu ends on cpu, with both GPU refusals in order', async () => {
    const m = model();
    expect(m.providers).toEqual(['tensorrt', 'cuda', 'cpu']);
    const picked = await firstLoadable(m.providers, (p) => session(p, m));
    expect(picked.provider).toBe('cpu');
    expect(picked.refused.map((r) => r.provider)).toEqual(['tensorrt', 'cuda']);
    expect(picked.refused.every((r) => /Failed to load shared library/.test(r.reason))).toBe(true);
    await picked.value.release();
  });

  it('a list without cpu fails on this box and names each provider', async () => {
    const m = model({ providers: ['cuda', 'tensorrt'] });
    await expect(firstLoadable(m.providers, (p) => session(p, m))).rejects.toThrow(
      /^no execution provider could be used \(cuda: .*Cuda: Failed to load shared library; tensorrt: .*TensorRT: Failed to load shared library\)$/,
    );
  });
});
