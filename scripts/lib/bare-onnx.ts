import { Worker } from 'node:worker_threads';

export interface BareResult {
  workers: number;
  intraOpThreads: number;
  inferencesPerSecond: number;
  medianMs: number;
  /** Inferences measured. */
  count: number;
  /** CPU time of the process (all threads) per inference while measuring, after warm-up. */
  cpuMsPerInference: number;
}

const boot = new URL('../../models/runtime/worker-boot.mjs', import.meta.url);
const entry = new URL('./bare-worker.ts', import.meta.url).href;

/**
 * Bare onnxruntime-node throughput: `workers` threads, one session each with the same settings the agent
 * uses, the same fixed input in a loop, no pre- or post-processing. All workers start measuring together.
 */
export async function measureBareInference(
  modelPath: string,
  opts: { workers: number; intraOpThreads: number; seconds: number; width: number; height: number },
): Promise<BareResult> {
  const ws = Array.from(
    { length: opts.workers },
    () =>
      new Worker(boot, {
        workerData: {
          entry,
          modelPath,
          intraOpThreads: opts.intraOpThreads,
          width: opts.width,
          height: opts.height,
          warmup: 3,
          until: opts.seconds * 1000,
        },
      }),
  );
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const results = await Promise.all(
    ws.map(
      (w) =>
        new Promise<number[]>((resolve, reject) => {
          w.once('message', (m: { times: number[] }) => resolve(m.times));
          w.once('error', reject);
          w.postMessage(start);
        }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(ws.map((w) => w.terminate()));
  const all = results.flat().sort((a, b) => a - b);
  return {
    workers: opts.workers,
    intraOpThreads: opts.intraOpThreads,
    inferencesPerSecond: all.length / opts.seconds,
    medianMs: all[all.length >> 1] ?? 0,
    count: all.length,
    cpuMsPerInference: (cpu.user + cpu.system) / 1000 / Math.max(1, all.length),
  };
}
