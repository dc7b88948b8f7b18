import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** Bare onnxruntime: one session, one fixed input tensor, `run` in a loop until the deadline. */
const { modelPath, intraOpThreads, width, height, warmup, until } = workerData as {
  modelPath: string;
  intraOpThreads: number;
  width: number;
  height: number;
  warmup: number;
  until: number;
};
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const data = new Float32Array(3 * width * height).fill(114 / 255);
const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [1, 3, height, width]) };
for (let i = 0; i < warmup; i++) await session.run(feeds);
parentPort!.postMessage({ type: 'warm' });
const start = (await new Promise((r) => parentPort!.once('message', r))) as number;
const times: number[] = [];
while (Date.now() < start + until) {
  const t0 = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t0);
}
parentPort!.postMessage({ type: 'done', times });
