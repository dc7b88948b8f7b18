import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger, type Logger } from '../../../config/logger.js';
import { ModelConfig, OutboxConfig } from '../../../config/schema.js';
import { ShadowConfig } from '../../../agent/fleet/fleet-document.js';
import type { FleetDetector, FleetHost } from '../../../agent/fleet/fleet-host.js';
import { ShadowTrial } from '../../../agent/fleet/shadow-trial.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Detection } from '../../../models/types.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { tinyDetector, ultralyticsNames } from '../../support/tiny-detector.js';

// What the shadow-trial-*.test.ts files share. The current and candidate models are real ONNX graphs run by
// onnxruntime (test/support/tiny-detector.ts) with different input sizes, so the candidate only gets a
// usable frame when the trial re-makes it for its input; the report goes through a real SQLite outbox.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-shadow-trial-'));
export const TOPIC = 'vigil/yard/box1/config/shadow';
const config = validateConfig({
  site: 'yard',
  device: 'box1',
  dataDir: root,
  models: { det: { path: '/m/det.onnx' } },
  cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
});

/** A YOLOv8-layout model of one class (`person`) whose only box is the given one, score 0.9. */
export async function model(
  name: string,
  size: number,
  box: [number, number, number, number],
): Promise<Detector> {
  const n = 8;
  const values = new Float32Array(5 * n);
  box.forEach((v, row) => (values[row * n + 2] = v));
  values[4 * n + 2] = 0.9;
  const file = path.join(root, `${name}.onnx`);
  writeFileSync(
    file,
    tinyDetector({
      size: [size, size],
      output: [1, 5, n],
      values,
      metadata: { names: ultralyticsNames(['person']), task: 'detect' },
    }),
  );
  return Detector.load(name, ModelConfig.parse({ path: file, providers: ['cpu'], workers: 1 }));
}

let current: Detector;
let candidate: Detector;
/** This test's outbox (opened before each test, closed after it). */
export let outbox: Outbox;
let n = 0;
const trials: ShadowTrial[] = [];

/**
 * Registers the file's hooks: both models loaded once, an outbox for each test, the trials `setup` made
 * stopped after each test, the temp dir removed after the file.
 */
export function useShadowTrials(): void {
  beforeAll(async () => {
    current = await model('det', 32, [16, 16, 8, 8]);
    // 64×64 input on a 64×64 source: its box is (24,24)-(40,40) in source pixels.
    candidate = await model('cand', 64, [32, 32, 16, 16]);
  });
  afterAll(async () => {
    await current?.close();
    await candidate?.close();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    outbox = Outbox.open(path.join(root, `outbox-${++n}.db`), OutboxConfig.parse({ synchronous: 'OFF' }));
  });
  afterEach(() => {
    for (const t of trials.splice(0)) t.stop();
    outbox.close();
  });
}

export const person: Detection = {
  label: 'person',
  classId: 0,
  score: 0.8,
  box: { x1: 24, y1: 24, x2: 40, y2: 40 },
};
export const car: Detection = { label: 'car', classId: 2, score: 0.7, box: { x1: 0, y1: 0, x2: 10, y2: 10 } };

/** A trial of candidate `cand` (revision 42) on a host whose detections `emit` feeds. */
export function setup(
  shadow: Partial<ShadowConfig> = {},
  opts: { log?: Logger; link?: FleetHost['link'] } = {},
) {
  const detections$ = new Subject<DetectionEvent>();
  const detectors = new Map<string, FleetDetector>([
    ['det', current],
    ['cand', candidate],
  ]);
  const host = {
    config,
    log: opts.log ?? silentLogger,
    outbox,
    link: opts.link,
    detections$,
    detectors,
  } as unknown as FleetHost;
  const trial = new ShadowTrial(host, ShadowConfig.parse({ candidate: 'cand', ...shadow }), 42, TOPIC);
  trials.push(trial);
  let frameNo = 0;
  /** One processed frame of `camera` from the current model (a black 32×32 letterboxed input). */
  const emit = (camera: string, detections: Detection[] = [person], modelId = 'det') =>
    detections$.next({
      camera,
      frameNo: ++frameNo,
      ts: Date.now(),
      pts: 0,
      srcWidth: 64,
      srcHeight: 64,
      modelId,
      provider: 'cpu',
      result: { detections, inferenceMs: 3, preMs: 0, postMs: 0, queueMs: 0 },
      frame: { data: new Uint8Array(32 * 32 * 3), letterbox: computeLetterbox(64, 64, current.info.input) },
    } as unknown as DetectionEvent);
  /** Waits until the trial has dealt with `k` sampled frames (compared or skipped). */
  const handled = (k: number) =>
    vi.waitFor(() => expect(trial.stats.frames + trial.stats.skipped).toBeGreaterThanOrEqual(k), 30_000);
  return { trial, emit, handled, detections$, detectors };
}

export const rows = () => outbox.next(100, new Set());
export const settle = () => new Promise((r) => setTimeout(r, 60));
