import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { firstValueFrom, Subject, take, tap, toArray } from 'rxjs';
import { silentLogger } from '../../config/logger.js';
import { CameraConfig } from '../../config/schema.js';
import type { Detector } from '../../models/detect/detector.js';
import type { InputFrame } from '../../models/types.js';
import { cameraFrames } from '../../pipeline/camera/camera-frames.js';
import { cameraPipeline } from '../../pipeline/camera/camera-pipeline.js';
import { measureBareInference } from '../lib/bare-onnx.js';

export interface ShareRun {
  name: string;
  weights: Record<string, number>;
  fps: Record<string, number>;
  aggregateFps: number;
  /** Slowest camera's fps over the fastest's. */
  minOverMax: number;
  /** Aggregate over the best bare onnxruntime configuration. */
  ofBare: number;
  /**
   * Aggregate over the same detector saturated with ready frames (no decoding, no pipeline), measured
   * right before this run: on a shared machine the nearest baseline is the fairest one.
   */
  ofDetector: number;
  detectorFps: number;
  /** The weighted camera's fps over the mean of the others (for runs with a weight ≠ 1). */
  priorityShare?: number;
}

export interface FairShareReport {
  model: string;
  workers: number;
  intraOpThreads: number;
  /** Best bare onnxruntime configuration (workers × threads that fit the cores), inferences/s. */
  bareFps: number;
  bareConfig: string;
  /** The agent's detector alone, saturated with ready frames. */
  detectorFps: number;
  runs: ShareRun[];
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The detector alone, saturated with already letterboxed frames (no decoding, no pipeline): its ceiling. */
async function bareFps(detector: Detector, video: string, seconds: number): Promise<number> {
  const camera = CameraConfig.parse({ id: 'bare', source: video, model: 'm', realtime: false });
  const frames: InputFrame[] = await firstValueFrom(
    cameraFrames({
      camera,
      spec: detector.info.input,
      maxOutstanding: 2,
      log: silentLogger,
      onState: () => {},
    }).pipe(
      take(8),
      tap((f) => f.release()),
      toArray(),
    ),
  ).then((fs) => fs.map((f) => ({ data: Uint8Array.from(f.data), letterbox: f.letterbox })));
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const loop = async (i: number) => {
    const frame = frames[i % frames.length]!;
    while (performance.now() < until) {
      await detector.detect(frame, 'bare');
      done++;
    }
  };
  const t0 = performance.now();
  // one more request than workers, so a worker never waits for the next request to arrive
  await Promise.all(Array.from({ length: detector.info.workers + 1 }, (_, i) => loop(i)));
  return done / ((performance.now() - t0) / 1000);
}

/**
 * N file cameras (read as fast as taken, looping) sharing one detector through the agent's own path
 * (cameraPipeline → the pool's fair queue, weighted by `priority` as the agent sets it); processed
 * frames per camera.
 */
async function shareRun(
  name: string,
  detector: Detector,
  video: string,
  weights: Record<string, number>,
  warmupS: number,
  measureS: number,
  bare: number,
  detectorBare: number,
): Promise<ShareRun> {
  const ids = Object.keys(weights);
  const stop$ = new Subject<void>();
  const counts = new Map(ids.map((id) => [id, 0]));
  const done = ids.map((id) => {
    const priority = weights[id]!;
    const camera = CameraConfig.parse({
      id,
      source: video,
      model: 'm',
      realtime: false,
      loop: true,
      priority,
    });
    detector.setWeight(id, priority);
    return new Promise<void>((resolve, reject) =>
      cameraPipeline({ camera, detector, log: silentLogger, onState: () => {}, stop$ }).subscribe({
        next: () => counts.set(id, counts.get(id)! + 1),
        error: reject,
        complete: resolve,
      }),
    );
  });
  await sleep(warmupS * 1000);
  const start = new Map(counts);
  const t0 = performance.now();
  await sleep(measureS * 1000);
  const end = new Map(counts);
  const elapsed = (performance.now() - t0) / 1000;
  stop$.next();
  await Promise.all(done);
  const fps = Object.fromEntries(ids.map((id) => [id, r3((end.get(id)! - start.get(id)!) / elapsed)]));
  const values = Object.values(fps);
  const aggregate = values.reduce((s, v) => s + v, 0);
  const run: ShareRun = {
    name,
    weights,
    fps,
    aggregateFps: r3(aggregate),
    minOverMax: r3(Math.min(...values) / Math.max(...values)),
    ofBare: r3(aggregate / bare),
    ofDetector: r3(aggregate / detectorBare),
    detectorFps: r3(detectorBare),
  };
  const weighted = ids.find((id) => weights[id] !== 1);
  if (weighted) {
    const others = ids.filter((id) => id !== weighted).map((id) => fps[id]!);
    run.priorityShare = r3(fps[weighted]! / (others.reduce((s, v) => s + v, 0) / others.length));
  }
  return run;
}

/**
 * Fair scheduling at saturation: the bare detector's throughput, then four file cameras sharing it at
 * equal priority, then with one camera at priority 2.
 */
export async function runFairShare(
  detector: Detector,
  video: string,
  opts: { warmupS: number; measureS: number; cameras: number },
): Promise<FairShareReport> {
  // The best bare onnxruntime configuration on this machine, as `npm run bench` measures it.
  const cores = availableParallelism();
  let best = { fps: 0, config: '' };
  for (let w = 1; w <= cores; w++) {
    for (let t = 1; w * t <= cores; t++) {
      const m = await measureBareInference(detector.info.path, {
        workers: w,
        intraOpThreads: t,
        seconds: Math.max(5, opts.measureS / 2),
        width: detector.info.input.width,
        height: detector.info.input.height,
      });
      if (m.inferencesPerSecond > best.fps) best = { fps: m.inferencesPerSecond, config: `${w}×${t}` };
    }
  }
  const bare = best.fps;
  const detectorBare = () => bareFps(detector, video, opts.measureS / 2);
  const ids = Array.from({ length: opts.cameras }, (_, i) => `cam${i + 1}`);
  const equal = Object.fromEntries(ids.map((id) => [id, 1]));
  const priority = { ...equal, cam1: 2 };
  const runs: ShareRun[] = [];
  const { warmupS, measureS } = opts;
  const equalBase = await detectorBare();
  runs.push(await shareRun('equal priority', detector, video, equal, warmupS, measureS, bare, equalBase));
  const priorityBase = await detectorBare();
  runs.push(
    await shareRun('cam1 priority 2', detector, video, priority, warmupS, measureS, bare, priorityBase),
  );
  return {
    model: detector.info.modelId,
    workers: detector.info.workers,
    intraOpThreads: detector.info.intraOpThreads,
    bareFps: r3(bare),
    bareConfig: best.config,
    detectorFps: r3(Math.max(equalBase, priorityBase)),
    runs,
  };
}
