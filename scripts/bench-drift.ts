/**
 * npm run bench:drift — what drift accounting costs per frame, against what the pipeline costs on the same
 * frames, measured in the same run: real frames of vtest.avi through ffmpeg and a real detector (the
 * process's CPU time per frame: main thread and inference workers, ffmpeg not counted, so the share is an
 * upper bound), then the drift work the agent's drift service does per frame (DriftWindow.add: image
 * statistics and accumulation) and the window close (compare, store) spread over a 15-minute window, timed
 * over many repetitions of those frames on the main thread's CPU clock.
 *
 *   npm run bench:drift -- [model.onnx] [frames]     (default: yolo11n int8 320, 60 frames)
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { DriftConfig } from '../config/drift-schema.js';
import { silentLogger } from '../config/logger.js';
import { CameraConfig, ModelConfig } from '../config/schema.js';
import { Detector } from '../models/detect/detector.js';
import { cameraPipeline, type DetectionEvent } from '../pipeline/camera/camera-pipeline.js';
import { DriftAccumulator } from '../pipeline/drift/drift-accumulator.js';
import { DriftWindow } from '../pipeline/drift/drift-window.js';
import { DriftComparator } from '../pipeline/drift/drift-comparator.js';
import { imageStatsOf, samplingStep } from '../pipeline/drift/image-stats.js';
import { ReferenceStore } from '../pipeline/drift/reference-store.js';
import { sharedPath } from '../test/support/shared.js';

const modelPath = process.argv[2] ?? sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const frameCount = Number(process.argv[3] ?? 60);
const repeat = 50;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const detector = await Detector.load(
  'bench',
  ModelConfig.parse({ path: modelPath, providers: ['cpu'], workers: 1 }),
);
const camera = CameraConfig.parse({
  id: 'bench',
  source: sharedPath('media', 'vtest.avi'),
  model: 'bench',
  realtime: false,
  fps: 5,
});
// Stopped through stop$, not take(): in-flight inferences finish before the detector closes.
const stop$ = new Subject<void>();
let seen = 0;
const pipelineCpu0 = cpuMs();
const events: DetectionEvent[] = await lastValueFrom(
  cameraPipeline({ camera, detector, log: silentLogger, onState: () => {}, stop$ }).pipe(
    tap(() => ++seen === frameCount && stop$.next()),
    toArray(),
  ),
);
const pipelineCpuMsPerFrame = (cpuMs() - pipelineCpu0) / events.length;
await detector.close();
const inferenceMs =
  events.reduce((s, e) => s + e.result.inferenceMs + e.result.preMs + e.result.postMs, 0) / events.length;

const order = detector.info.input.pixelOrder;
const config = DriftConfig.parse({});
const acc = new DriftAccumulator({ maxLabels: config.maxLabels });
const step = samplingStep(events[0]!.frame.letterbox, config);
// Warm the JIT, then time the per-frame path on the main thread's CPU clock.
for (const e of events) acc.addFrame(imageStatsOf(e.frame, order, step));
let t0 = cpuMs();
for (let r = 0; r < repeat; r++) for (const e of events) imageStatsOf(e.frame, order, step);
const imageUs = ((cpuMs() - t0) * 1000) / (repeat * events.length);
t0 = cpuMs();
for (let r = 0; r < repeat; r++) {
  for (const e of events) {
    acc.addFrame(imageStatsOf(e.frame, order, step));
    acc.addDetections(e);
  }
}
const perFrameUs = ((cpuMs() - t0) * 1000) / (repeat * events.length);
// The service's path: DriftWindow.add, all frames in one window (the clock stands still).
const window = new DriftWindow({
  camera: 'bench',
  modelId: 'bench',
  configRevision: 'r',
  config,
  reference: null,
  pixelOrder: order,
  clock: () => 0,
});
for (const e of events) window.add(e);
t0 = cpuMs();
for (let r = 0; r < repeat; r++) for (const e of events) window.add(e);
const serviceUs = ((cpuMs() - t0) * 1000) / (repeat * events.length);

// Closing a window: snapshot, compare with a reference, store it. Spread over a 15-minute window at 5 fps.
const store = ReferenceStore.open(
  path.join(mkdtempSync(path.join(tmpdir(), 'vigil-bench-drift-')), ReferenceStore.fileName),
);
const reference = acc.snapshot();
const comparator = new DriftComparator(config);
const closes = 20;
t0 = cpuMs();
for (let i = 0; i < closes; i++) {
  const profile = acc.snapshot();
  const c = comparator.compare(profile, reference);
  store.saveWindow({
    camera: 'bench',
    modelId: 'bench',
    configRevision: 'r',
    start: i * 900_000,
    end: (i + 1) * 900_000,
    status: 'scored',
    state: c.state,
    stateSince: 0,
    profile,
  });
}
const closeMs = (cpuMs() - t0) / closes;
store.close();
const framesPerWindow = config.windowMinutes * 60 * 5;
const totalUs = Math.max(perFrameUs, serviceUs) + (closeMs * 1000) / framesPerWindow;

console.log(
  JSON.stringify(
    {
      model: path.basename(modelPath),
      input: `${detector.info.input.width}x${detector.info.input.height}`,
      imageStep: step,
      frames: events.length,
      pipelineCpuMsPerFrame: +pipelineCpuMsPerFrame.toFixed(2),
      inferenceMsPerFrame: +inferenceMs.toFixed(2),
      imageStatsUsPerFrame: +imageUs.toFixed(1),
      accountingUsPerFrame: +perFrameUs.toFixed(1),
      serviceAddUsPerFrame: +serviceUs.toFixed(1),
      windowCloseMs: +closeMs.toFixed(2),
      framesPerWindow,
      totalUsPerFrame: +totalUs.toFixed(1),
      shareOfPipelineCpu: `${((totalUs / 1000 / pipelineCpuMsPerFrame) * 100).toFixed(2)} %`,
      shareOfInference: `${((totalUs / 1000 / inferenceMs) * 100).toFixed(2)} %`,
    },
    null,
    2,
  ),
);
