import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Candidate } from '../detect/candidate.js';
import type { ProviderRefusal } from '../types.js';
import { FairQueue } from './fair-queue.js';
import type { InferenceWorkerInit, InferRequest, InferResponse, WorkerReady } from './worker-protocol.js';

export interface PoolResult {
  candidates: Candidate[];
  /** The request's pixels, usable again after the round trip through the worker. */
  pixels: Uint8Array;
  preMs: number;
  inferenceMs: number;
  postMs: number;
  queueMs: number;
}

interface Job {
  key: string;
  pixels: Uint8Array;
  rows: [number, number] | undefined;
  enqueuedAt: number;
  resolve(r: PoolResult): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  busy?: { id: number; job: Job; startedAt: number };
}

const bootUrl = new URL('./worker-boot.mjs', import.meta.url);
const entry = new URL('./inference-worker.ts', import.meta.url).href;

/**
 * N inference workers of one model, a queue in front. The queue is fair across request keys (cameras):
 * start-time fair queueing weighted by `setWeight`, so under saturation each camera gets its share of the
 * workers and none starves. A worker that crashes fails only its own request and is replaced; the pool
 * lives on. The pixels of each request go to the worker and come back, so the
 * caller gets them back (`PoolResult.pixels`) for snapshots and statistics after detection.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Every live worker, ready or still starting, so close() ends them all. */
  private readonly workers = new Set<Worker>();
  private readonly queue = new FairQueue<Job>();
  private nextId = 1;
  private closed = false;
  provider!: string;
  refused: ProviderRefusal[] = [];
  /** Workers replaced after a crash. */
  restarts = 0;
  /** Why the last replacement worker failed to start, if it did (the pool then runs short a worker). */
  lastStartError?: Error;

  private constructor(private readonly init: Omit<InferenceWorkerInit, 'entry'>) {}

  /** Starts `size` workers and waits until every one has a session (or fails with the providers' reasons). */
  static async start(init: Omit<InferenceWorkerInit, 'entry'>, size: number): Promise<WorkerPool> {
    const pool = new WorkerPool(init);
    const started = await Promise.allSettled(Array.from({ length: size }, () => pool.spawn()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }
  /** Requests waiting for a free worker. */
  get queued(): number {
    return this.queue.size;
  }
  /** Workers running a request now. */
  get busy(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** A producer's share of the workers when they are all busy (default 1; 2 gets twice the slots of 1). */
  setWeight(key: string, weight: number): void {
    this.queue.setWeight(key, weight);
  }

  /**
   * Queues one frame (packed HWC bytes at the input size); `key` names its producer (the camera), `rows` the
   * rows [top, bottom) that hold the picture when the rest is letterbox padding (InferRequest.rows).
   */
  run(pixels: Uint8Array, key = '', rows?: [number, number]): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push(key, { key, pixels, rows, enqueuedAt: performance.now(), resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): Promise<Slot> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(bootUrl, {
        workerData: { ...this.init, entry } satisfies InferenceWorkerInit,
      });
      this.workers.add(worker);
      const slot: Slot = { worker };
      let ready = false;
      const notStarted = (err: Error) => {
        this.workers.delete(worker);
        void worker.terminate();
        reject(err);
      };
      worker.on('message', (msg: WorkerReady | InferResponse) => {
        if (ready) return this.finish(slot, msg as InferResponse);
        const r = msg as WorkerReady;
        this.refused = r.refused;
        if (r.type === 'failed')
          return notStarted(new Error(`no execution provider could load the model: ${r.error}`));
        if (this.closed) return notStarted(new Error('inference pool is closed'));
        ready = true;
        this.provider = r.provider;
        this.slots.push(slot);
        resolve(slot);
        this.dispatch();
      });
      worker.on('error', (err) => {
        if (!ready) notStarted(err);
        else this.crashed(slot, err);
      });
      worker.on('exit', (code) => {
        this.workers.delete(worker);
        // A promise settles once: after a 'failed' message or an error this is a no-op.
        if (!ready) reject(new Error(`inference worker exited with code ${code} while starting`));
        else if (!this.closed) this.crashed(slot, new Error(`inference worker exited with code ${code}`));
      });
    });
  }

  private crashed(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.busy?.job.reject(new Error(`inference worker crashed: ${err.message}`));
    slot.busy = undefined;
    void slot.worker.terminate();
    if (this.closed) return;
    this.restarts++;
    this.spawn().catch((e: unknown) => {
      this.lastStartError = e as Error;
      // Keep serving on the remaining workers; with none left every queued request fails clearly.
      if (!this.slots.length && !this.closed) {
        for (const job of this.queue.drain())
          job.reject(new Error(`no inference worker left: ${(e as Error).message}`));
      }
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || !this.queue.size) continue;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, job, startedAt: performance.now() };
      const px = job.pixels;
      const req: InferRequest = {
        id,
        pixels: px.buffer,
        byteOffset: px.byteOffset,
        byteLength: px.byteLength,
        ...(job.rows ? { rows: job.rows } : {}),
      };
      // Shared memory is read in place; a frame that owns its whole buffer is moved, not copied; a view into
      // a larger buffer is copied.
      if (px.buffer instanceof SharedArrayBuffer) slot.worker.postMessage(req);
      else if (px.byteOffset === 0 && px.byteLength === px.buffer.byteLength)
        slot.worker.postMessage(req, [px.buffer]);
      else {
        const copy = px.slice();
        slot.worker.postMessage({ ...req, pixels: copy.buffer, byteOffset: 0 }, [copy.buffer]);
      }
    }
  }

  private finish(slot: Slot, res: InferResponse): void {
    const busy = slot.busy;
    if (!busy || busy.id !== res.id) return;
    slot.busy = undefined;
    const { job } = busy;
    // The transfer detached the caller's view: hand back one over the returned buffer (same bytes).
    const pixels = job.pixels.byteLength ? job.pixels : new Uint8Array(res.pixels);
    if (res.ok) {
      job.resolve({
        pixels,
        candidates: res.candidates,
        preMs: res.preMs,
        inferenceMs: res.inferenceMs,
        postMs: res.postMs,
        queueMs: busy.startedAt - job.enqueuedAt,
      });
    } else job.reject(new Error(res.error));
    this.dispatch();
  }

  /** Rejects what waits, ends every worker (running requests included); later runs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.drain()) job.reject(new Error('inference pool is closed'));
    for (const slot of this.slots) slot.busy?.job.reject(new Error('inference pool is closed'));
    this.slots.length = 0;
    await Promise.all([...this.workers].map((w) => w.terminate()));
    this.workers.clear();
  }
}
