import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../config/schema.js';
import { toSourceBox } from '../letterbox.js';
import { WorkerPool } from '../runtime/worker-pool.js';
import type { Detection, DetectionResult, DetectorInfo, InputFrame } from '../types.js';
import type { Thresholds } from './candidate.js';
import { inspectModel } from './inspect-model.js';

export interface DetectorLoadOptions {
  /** Where provider caches (TensorRT engines) live. */
  dataDir?: string;
}

/**
 * A loaded detector: the model checked and understood (family, input, classes), a warm worker pool, and the
 * mapping from model classes to site labels. `detect` takes letterboxed bytes and returns boxes in source pixels.
 */
export class Detector {
  private constructor(
    readonly info: DetectorInfo,
    private readonly pool: WorkerPool,
    private readonly cfg: ModelConfig,
  ) {}

  static async load(modelId: string, cfg: ModelConfig, opts: DetectorLoadOptions = {}): Promise<Detector> {
    const fail = (why: string): never => {
      throw new Error(`model "${modelId}": ${why}`);
    };
    const plan = await inspectModel(modelId, cfg);
    const { classNames, input: spec } = plan;
    const perClass: (number | undefined)[] = classNames.map((name) => cfg.classes[name]?.confidence);
    const thresholds: Thresholds = { confidence: cfg.confidence, perClass, iou: cfg.iou, maxDetections: 300 };
    const workers = cfg.workers ?? Math.max(1, Math.floor(availableParallelism() / cfg.intraOpThreads));
    let pool: WorkerPool;
    try {
      pool = await WorkerPool.start(
        {
          modelPath: path.resolve(cfg.path),
          family: plan.family,
          input: spec,
          inputType: plan.inputType,
          thresholds,
          providers: cfg.providers,
          intraOpThreads: cfg.intraOpThreads,
          ...(cfg.session ? { session: cfg.session } : {}),
          model: { tensorrt: cfg.tensorrt, cudaDeviceId: cfg.cudaDeviceId },
          dataDir: path.resolve(opts.dataDir ?? '.'),
        },
        workers,
      );
    } catch (err) {
      return fail((err as Error).message);
    }
    const info: DetectorInfo = {
      modelId,
      path: cfg.path,
      family: plan.family,
      input: spec,
      classNames,
      provider: pool.provider as DetectorInfo['provider'],
      refused: pool.refused,
      workers,
      intraOpThreads: cfg.intraOpThreads,
    };
    const detector = new Detector(info, pool, cfg);
    try {
      await detector.warmUp();
    } catch (err) {
      await pool.close();
      return fail(`the first run failed: ${(err as Error).message}`);
    }
    return detector;
  }

  /** One run per worker, so the first real frame does not pay for lazy allocations (or a TensorRT build). */
  private async warmUp(): Promise<void> {
    const { width, height, padValue } = this.info.input;
    await Promise.all(
      Array.from({ length: this.pool.size }, () =>
        this.pool.run(new Uint8Array(width * height * 3).fill(padValue), 'warm-up'),
      ),
    );
  }

  /** Requests waiting for a free worker. */
  get queued(): number {
    return this.pool.queued;
  }

  /** Workers running a request now. */
  get busy(): number {
    return this.pool.busy;
  }

  /** A camera's share of this model's workers when they are saturated (its `priority`; default 1). */
  setWeight(key: string, weight: number): void {
    this.pool.setWeight(key, weight);
  }

  /**
   * Detects in one letterboxed frame; boxes come back in source pixels. The frame's bytes travel to a
   * worker and back: `frame.data` is replaced by the returned view (same bytes) when the call resolves.
   */
  async detect(frame: InputFrame, key?: string): Promise<DetectionResult> {
    const { width, height } = this.info.input;
    const lb = frame.letterbox;
    if (lb.inputWidth !== width || lb.inputHeight !== height || frame.data.length !== width * height * 3) {
      throw new Error(
        `model "${this.info.modelId}": frame is ${lb.inputWidth}×${lb.inputHeight} (${frame.data.length} bytes), the model takes ${width}×${height}×3`,
      );
    }
    // Letterbox bars above and below are constant padding: the worker need not convert them every frame.
    const rows: [number, number] | undefined = lb.padY > 0 ? [lb.padY, lb.padY + lb.scaledHeight] : undefined;
    const res = await this.pool.run(frame.data, key, rows);
    frame.data = res.pixels;
    const { labels, onlyMapped } = this.cfg;
    const detections: Detection[] = [];
    for (const c of res.candidates) {
      const name = this.info.classNames[c.classId] ?? `class${c.classId}`;
      const label = labels[name] ?? (onlyMapped ? undefined : name);
      if (label === undefined) continue;
      const box = toSourceBox(c, frame.letterbox);
      const minArea = this.cfg.classes[name]?.minArea;
      if (minArea && (box.x2 - box.x1) * (box.y2 - box.y1) < minArea) continue;
      detections.push({ label, classId: c.classId, score: c.score, box });
    }
    return {
      detections,
      inferenceMs: res.inferenceMs,
      preMs: res.preMs,
      postMs: res.postMs,
      queueMs: res.queueMs,
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
