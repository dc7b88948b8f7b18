import { FairQueue } from '../../models/runtime/fair-queue.js';
import type { DetectionResult, DetectorInfo, InputFrame } from '../../models/types.js';
import type { FrameDetector } from '../../pipeline/camera/camera-pipeline.js';

interface Job {
  frame: InputFrame;
  key: string;
  resolve(r: DetectionResult): void;
  reject(e: unknown): void;
}

/**
 * Puts the fair queue in front of a detector without touching its pool: at most `slots` requests reach
 * the pool at once (its worker count, so the pool's own FIFO never holds a backlog), the rest wait here
 * and leave by deficit round robin over the request keys (camera ids). Used by the bench until the pool
 * adopts FairQueue itself; the effect on ordering is the same.
 */
export class FairDetector implements FrameDetector {
  private readonly queue = new FairQueue<Job>();
  private running = 0;

  constructor(
    private readonly inner: FrameDetector,
    private readonly slots = Math.max(1, inner.info.workers),
  ) {}

  get info(): DetectorInfo {
    return this.inner.info;
  }

  setWeight(key: string, weight: number): void {
    this.queue.setWeight(key, weight);
  }

  detect(frame: InputFrame, key = ''): Promise<DetectionResult> {
    return new Promise((resolve, reject) => {
      this.queue.push(key, { frame, key, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.slots && this.queue.size) {
      const job = this.queue.shift()!;
      this.running++;
      this.inner
        .detect(job.frame, job.key)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
