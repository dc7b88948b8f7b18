import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelConfig, ProviderName } from '../../config/schema.js';

/**
 * TensorRT provider options under their onnxruntime names. Upstream's Node binding reads only `name`
 * and `deviceId` from a provider object and drops the rest; the Jetson image patches it to hand every
 * `trt_*` key to UpdateTensorRTProviderOptions (docker/jetson/onnxruntime-node-tensorrt-options.patch).
 * An unpatched build therefore still works, just without FP16 and without the engine cache.
 */
export interface TensorRtProviderOptions {
  trt_fp16_enable: '0' | '1';
  trt_engine_cache_enable: '1';
  trt_engine_cache_path: string;
  trt_timing_cache_enable: '1';
  trt_timing_cache_path: string;
  trt_max_workspace_size?: string;
}

/** Where engines go when the model does not say: building one takes minutes on an Orin Nano, keep it. */
export const defaultEngineCacheDir = (dataDir: string) => path.join(dataDir, 'tensorrt');

/** TensorRT options for a model; relative cache dirs are relative to the data dir. */
export function tensorRtOptions(
  model: Pick<ModelConfig, 'tensorrt'>,
  dataDir: string,
): TensorRtProviderOptions {
  const trt = model.tensorrt;
  // The default is already under dataDir: resolving it against dataDir again doubled a relative one.
  const engineDir = trt?.engineCacheDir
    ? path.resolve(dataDir, trt.engineCacheDir)
    : path.resolve(defaultEngineCacheDir(dataDir));
  const timingDir = trt?.timingCacheDir ? path.resolve(dataDir, trt.timingCacheDir) : engineDir;
  return {
    trt_fp16_enable: (trt?.fp16 ?? true) ? '1' : '0',
    trt_engine_cache_enable: '1',
    trt_engine_cache_path: engineDir,
    trt_timing_cache_enable: '1',
    trt_timing_cache_path: timingDir,
    ...(trt?.workspaceMiB ? { trt_max_workspace_size: String(trt.workspaceMiB * 1024 * 1024) } : {}),
  };
}

/** What onnxruntime-node is given for one of Vigil's provider names. */
export function executionProvider(
  name: ProviderName,
  model: Pick<ModelConfig, 'tensorrt' | 'cudaDeviceId'>,
  dataDir: string,
): InferenceSession.ExecutionProviderConfig {
  const deviceId = model.cudaDeviceId ?? 0;
  switch (name) {
    case 'cpu':
      return 'cpu';
    case 'cuda':
      return { name: 'cuda', deviceId };
    case 'tensorrt': {
      // The extra keys are not in onnxruntime-common's type: they are for the patched binding.
      const option = { name: 'tensorrt', deviceId, ...tensorRtOptions(model, dataDir) };
      return option as InferenceSession.ExecutionProviderConfig;
    }
  }
}
