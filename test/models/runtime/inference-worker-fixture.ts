import { startWorker, type StartedWorker, workerInit } from '../../support/inference-worker.js';

// The workers the inference-worker*.test.ts files start: each file's afterEach ends them with stopWorkers.

const started: StartedWorker[] = [];
export const start = (...args: Parameters<typeof workerInit>) => {
  const w = startWorker(workerInit(...args));
  started.push(w);
  return w;
};
export async function stopWorkers(): Promise<void> {
  await Promise.all(started.splice(0).map((w) => w.worker.terminate()));
}

export const frame = (side: number, fill: number) => new Uint8Array(side * side * 3).fill(fill);
