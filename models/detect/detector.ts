import { accessSync, constants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../config/schema.js';
import { toSourceBox } from '../letterbox.js';
import { onnxElemType, parseImgsz, readOnnxInfo } from '../onnx/onnx-info.js';
import { WorkerPool } from '../runtime/worker-pool.js';
import { sha256File } from '../store/hash.js';
import type { Detection, DetectionResult, DetectorInfo, InputFrame, InputSpec } from '../types.js';
import type { Thresholds } from './candidate.js';
import { unknownClassKeys } from './class-keys.js';
import { resolveClassNames } from './class-names.js';
import { detectFamily } from './decoders/registry.js';
import { fmt } from './decoders/yolov8.js';
import { familyInput } from './families.js';

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
    try {
      accessSync(cfg.path, constants.R_OK);
      if (!statSync(cfg.path).isFile()) fail(`not a file: ${cfg.path}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(`file not found: ${cfg.path}`);
      if ((err as NodeJS.ErrnoException).code === 'EACCES') fail(`file not readable: ${cfg.path}`);
      throw err;
    }
    if (cfg.sha256) {
      const got = (await sha256File(cfg.path)).sha256;
      if (got !== cfg.sha256.toLowerCase())
        fail(`${cfg.path} has sha256 ${got}, expected ${cfg.sha256} (truncated or altered): not loaded`);
    }
    let onnx;
    try {
      onnx = readOnnxInfo(cfg.path);
    } catch (err) {
      return fail(`${cfg.path}: ${(err as Error).message}`);
    }
    const input = onnx.inputs[0]!;
    if (
      onnx.inputs.length !== 1 ||
      input.dims.length !== 4 ||
      (input.dims[1] !== null && input.dims[1] !== 3)
    ) {
      fail(
        `expected one 1×3×H×W image input, found ${onnx.inputs.map((i) => `${i.name} ${fmt(i.dims)}`).join(', ')}`,
      );
    }
    if (input.elemType !== onnxElemType.float && input.elemType !== onnxElemType.float16)
      fail(`input ${input.name} has ONNX element type ${input.elemType}; expected float32 or float16`);
    const metaSize = parseImgsz(onnx.metadata.imgsz);
    const height = input.dims[2] ?? cfg.inputSize?.[1] ?? metaSize?.[0];
    const width = input.dims[3] ?? cfg.inputSize?.[0] ?? metaSize?.[1];
    if (!width || !height)
      fail('the model has a dynamic input size: set inputSize: [width, height] in its config');
    if (cfg.inputSize && input.dims[2] && (cfg.inputSize[0] !== width || cfg.inputSize[1] !== height)) {
      fail(`inputSize ${cfg.inputSize.join('×')} does not match the model's fixed input ${width}×${height}`);
    }
    let decoder;
    try {
      decoder = detectFamily(onnx, { width: width!, height: height! }, cfg.family);
    } catch (err) {
      return fail((err as Error).message);
    }
    const spec: InputSpec = { width: width!, height: height!, ...familyInput[decoder.family] };
    let classNames: string[];
    try {
      classNames = resolveClassNames({
        configured: cfg.classNames,
        metadata: onnx.metadata,
        family: decoder.family,
        classCount: decoder.classCount(onnx.outputs[0]!.dims),
        output: fmt(onnx.outputs[0]!.dims),
      });
    } catch (err) {
      return fail((err as Error).message);
    }
    const unknownKeys = unknownClassKeys(cfg, classNames);
    if (unknownKeys) fail(unknownKeys);
    const perClass: (number | undefined)[] = classNames.map((name) => cfg.classes[name]?.confidence);
    const thresholds: Thresholds = { confidence: cfg.confidence, perClass, iou: cfg.iou, maxDetections: 300 };
    const workers = cfg.workers ?? Math.max(1, Math.floor(availableParallelism() / cfg.intraOpThreads));
    let pool: WorkerPool;
    try {
      pool = await WorkerPool.start(
        {
          modelPath: path.resolve(cfg.path),
          family: decoder.family,
          input: spec,
          inputType: input.elemType === onnxElemType.float16 ? 'float16' : 'float32',
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
      family: decoder.family,
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
