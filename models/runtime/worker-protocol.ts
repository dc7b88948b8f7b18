import type { ModelConfig, ProviderName } from '../../config/schema.js';
import type { Candidate, Thresholds } from '../detect/candidate.js';
import type { InputSpec, ProviderRefusal } from '../types.js';

/** workerData of an inference worker. */
export interface InferenceWorkerInit {
  entry: string;
  modelPath: string;
  family: ModelConfig['family'] & string;
  input: InputSpec;
  /** Element type of the model's image input (fp16 exports take float16). */
  inputType: 'float32' | 'float16';
  thresholds: Thresholds;
  providers: ProviderName[];
  intraOpThreads: number;
  /** Graph optimisation and inter-op threads (ModelConfig.session); onnxruntime's defaults for Vigil when absent. */
  session?: ModelConfig['session'];
  model: Pick<ModelConfig, 'tensorrt' | 'cudaDeviceId'>;
  dataDir: string;
}

export type WorkerReady =
  | {
      type: 'ready';
      provider: ProviderName;
      refused: ProviderRefusal[];
      inputName: string;
      outputName: string;
    }
  | { type: 'failed'; error: string; refused: ProviderRefusal[] };

/**
 * One frame to infer. A worker serves its requests one at a time, in the order they came (it has one input
 * tensor); WorkerPool sends a worker its next request only after the reply, so none waits there.
 */
export interface InferRequest {
  id: number;
  /** Packed HWC bytes at the input size: shared memory read in place, or transferred and transferred back. */
  pixels: ArrayBuffer | SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
  /**
   * Rows [top, bottom) that hold the picture; the rows outside are the letterbox's constant padding, which a
   * worker that last filled the same rows keeps from then instead of converting again. Absent: all rows.
   */
  rows?: [number, number];
}

export type InferResponse =
  | {
      id: number;
      ok: true;
      candidates: Candidate[];
      preMs: number;
      inferenceMs: number;
      postMs: number;
      pixels: ArrayBuffer | SharedArrayBuffer;
    }
  | { id: number; ok: false; error: string; pixels: ArrayBuffer | SharedArrayBuffer };
