import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { decoders } from '../detect/decoders/registry.js';
import { selectCandidates } from '../detect/nms.js';
import type { ProviderRefusal } from '../types.js';
import { executionProvider } from './execution-provider.js';
import { floatToHalf, halfArrayToFloat32 } from './float16.js';
import type { InferenceWorkerInit, InferRequest, InferResponse, WorkerReady } from './worker-protocol.js';

/**
 * One inference worker: one onnxruntime session, created on the first provider of the preference list that
 * loads. Per request it builds the NCHW tensor from the frame's bytes, runs, decodes and applies NMS, so the
 * main thread only ever sees the kept boxes (docs/adr/0002).
 */
const init = workerData as InferenceWorkerInit;
const port = parentPort!;
const { width, height, scale } = init.input;
const decoder = decoders[init.family];
const plane = width * height;
const frameBytes = plane * 3;
const fp16 = init.inputType === 'float16';
// A byte has 256 values: scale (and convert to fp16) once per value, not once per pixel.
const lut = fp16
  ? Uint16Array.from({ length: 256 }, (_, v) => floatToHalf(v * scale))
  : Float32Array.from({ length: 256 }, (_, v) => v * scale);
const tensorData = fp16 ? new Uint16Array(3 * plane) : new Float32Array(3 * plane);
// One view per plane: three short-offset stores per pixel run about a third faster than indexing the whole.
const [plane0, plane1, plane2] = [0, 1, 2].map((k) => tensorData.subarray(k * plane, (k + 1) * plane)) as [
  typeof tensorData,
  typeof tensorData,
  typeof tensorData,
];

// A refused provider is reported by us with its reason; onnxruntime's own stderr dump of it is noise.
ort.env.logLevel = 'fatal';

async function createSession(): Promise<{
  session: ort.InferenceSession;
  ready: Extract<WorkerReady, { type: 'ready' }>;
}> {
  const refused: ProviderRefusal[] = [];
  for (const provider of init.providers) {
    try {
      const session = await ort.InferenceSession.create(init.modelPath, {
        executionProviders: [executionProvider(provider, init.model, init.dataDir)],
        intraOpNumThreads: init.intraOpThreads,
        interOpNumThreads: init.session?.interOpThreads ?? 1,
        graphOptimizationLevel: init.session?.graphOptimization ?? 'all',
      });
      return {
        session,
        ready: {
          type: 'ready',
          provider,
          refused,
          inputName: session.inputNames[0]!,
          outputName: session.outputNames[0]!,
        },
      };
    } catch (err) {
      refused.push({
        provider,
        reason: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300),
      });
    }
  }
  throw Object.assign(new Error(refused.map((r) => `${r.provider}: ${r.reason}`).join('; ')), { refused });
}

/** Rows a colour conversion may blend across the picture's edge (chroma is shared by row pairs). */
const edgeRows = 4;
/** The picture rows of the last fill; the tensor's rows outside them hold that fill's padding. */
let lastRows = '';

/**
 * HWC bytes (already in the family's channel order) -> planar values, scaled as the family trained. With
 * `rows` (the picture's rows; the rest is the letterbox's constant padding) and the same rows as the last
 * fill, only the picture and a few rows either side are converted: a 16:9 camera in a square input is 44 %
 * padding.
 */
function fillTensor(px: Uint8Array, rows: [number, number] | undefined): void {
  if (px.length !== frameBytes) {
    throw new Error(`frame has ${px.length} bytes, expected ${width}×${height}×3 = ${frameBytes}`);
  }
  const key = rows ? `${rows[0]}:${rows[1]}` : '';
  const partial = key !== '' && key === lastRows;
  lastRows = key;
  const from = partial ? Math.max(0, rows![0] - edgeRows) * width : 0;
  const to = partial ? Math.min(height, rows![1] + edgeRows) * width : plane;
  for (let i = from, j = from * 3; i < to; i++, j += 3) {
    plane0[i] = lut[px[j]!]!;
    plane1[i] = lut[px[j + 1]!]!;
    plane2[i] = lut[px[j + 2]!]!;
  }
}

/** The request's own bytes go back to the caller; shared memory stays where it is. */
const movable = (b: ArrayBuffer | SharedArrayBuffer): ArrayBuffer[] => (b instanceof ArrayBuffer ? [b] : []);

function toFloat32(data: ort.Tensor['data']): Float32Array {
  if (data instanceof Float32Array) return data;
  // fp16 outputs arrive as Uint16 bit patterns (Node 20 has no Float16Array).
  if (data instanceof Uint16Array) return halfArrayToFloat32(data);
  return Float32Array.from(data as ArrayLike<number>);
}

try {
  const { session, ready } = await createSession();
  port.postMessage(ready);
  const dims = [1, 3, height, width];
  // One request at a time, in arrival order: there is one input tensor, and a request filling it while the
  // previous run awaits would change that run's input. WorkerPool never sends a second before the reply;
  // this keeps a worker correct whoever drives it.
  let queue = Promise.resolve();
  port.on('message', (req: InferRequest) => {
    queue = queue.then(() => serve(req));
  });
  async function serve(req: InferRequest): Promise<void> {
    try {
      const t0 = performance.now();
      fillTensor(new Uint8Array(req.pixels, req.byteOffset, req.byteLength), req.rows);
      const input = fp16
        ? new ort.Tensor('float16', tensorData as Uint16Array, dims)
        : new ort.Tensor('float32', tensorData as Float32Array, dims);
      const t1 = performance.now();
      const out = await session.run({ [ready.inputName]: input });
      const t2 = performance.now();
      const tensor = out[ready.outputName]!;
      const candidates = selectCandidates(
        decoder.decode(toFloat32(tensor.data), tensor.dims, init.input, init.thresholds),
        init.thresholds,
        decoder.nmsInside,
      );
      const t3 = performance.now();
      const res: InferResponse = {
        id: req.id,
        ok: true,
        candidates,
        preMs: t1 - t0,
        inferenceMs: t2 - t1,
        postMs: t3 - t2,
        pixels: req.pixels,
      };
      port.postMessage(res, movable(req.pixels));
    } catch (err) {
      const res: InferResponse = {
        id: req.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        pixels: req.pixels,
      };
      port.postMessage(res, movable(req.pixels));
    }
  }
} catch (err) {
  const refused = (err as { refused?: ProviderRefusal[] }).refused ?? [];
  port.postMessage({
    type: 'failed',
    error: err instanceof Error ? err.message : String(err),
    refused,
  } satisfies WorkerReady);
}
