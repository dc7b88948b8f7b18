import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  InferenceWorkerInit,
  InferRequest,
  InferResponse,
  WorkerReady,
} from '../../models/runtime/worker-protocol.js';
import { tinyDetector } from './tiny-detector.js';

const boot = new URL('../../models/runtime/worker-boot.mjs', import.meta.url);
const entry = new URL('../../models/runtime/inference-worker.ts', import.meta.url).href;
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-infer-worker-'));
let files = 0;

/** Writes model bytes to a file of their own (a worker loads its model from a path). */
export function modelFile(bytes: Uint8Array | string): string {
  const file = path.join(dir, `m${files++}.onnx`);
  writeFileSync(file, bytes);
  return file;
}

/**
 * A tiny end-to-end detector (1×2×6, input `side`×`side`): row 0 is the box [1, 2, 5, 6] of class 3 whose score
 * is the largest value of the input tensor (so a test sees its pixels arrive, scaled); row 1 never scores.
 */
export function scoreIsMaxModel(side: number, inputType: 'float32' | 'float16' = 'float32'): string {
  return modelFile(
    tinyDetector({
      inputType,
      size: [side, side],
      output: [1, 2, 6],
      values: Float32Array.from([1, 2, 5, 6, 0, 3, 0, 0, 1, 1, 0, 0]),
      gain: Float32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
    }),
  );
}

export function workerInit(
  over: Partial<Omit<InferenceWorkerInit, 'entry'>> & { modelPath: string },
): InferenceWorkerInit {
  return {
    entry,
    family: 'end2end',
    input: { width: 8, height: 8, pixelOrder: 'rgb', padPosition: 'center', scale: 1 / 255, padValue: 114 },
    inputType: 'float32',
    thresholds: { confidence: 0.1, iou: 0.45, maxDetections: 10 },
    providers: ['cpu'],
    intraOpThreads: 1,
    model: {},
    dataDir: dir,
    ...over,
  };
}

export interface StartedWorker {
  worker: Worker;
  /** The first message: ready or failed. */
  ready: Promise<WorkerReady>;
  /** Every message after the first, in order. */
  responses: InferResponse[];
  send(req: InferRequest, transfer?: ArrayBuffer[]): Promise<InferResponse>;
  exited: Promise<number>;
}

/** A real inference worker in a real worker thread, started as WorkerPool starts one. */
export function startWorker(init: InferenceWorkerInit): StartedWorker {
  const worker = new Worker(boot, { workerData: init });
  const responses: InferResponse[] = [];
  const waiting = new Map<number, (r: InferResponse) => void>();
  let first = true;
  let readyResolve!: (r: WorkerReady) => void;
  const ready = new Promise<WorkerReady>((r) => (readyResolve = r));
  worker.on('message', (msg: WorkerReady | InferResponse) => {
    if (first) {
      first = false;
      return readyResolve(msg as WorkerReady);
    }
    const res = msg as InferResponse;
    responses.push(res);
    waiting.get(res.id)?.(res);
    waiting.delete(res.id);
  });
  const exited = new Promise<number>((r) => worker.on('exit', r));
  return {
    worker,
    ready,
    responses,
    exited,
    send(req, transfer = []) {
      return new Promise((resolve) => {
        waiting.set(req.id, resolve);
        worker.postMessage(req, transfer);
      });
    },
  };
}
