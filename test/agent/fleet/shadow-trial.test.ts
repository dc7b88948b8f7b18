import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { logLines } from '../../support/log-lines.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger, type Logger } from '../../../config/logger.js';
import { ModelConfig, MqttConfig, OutboxConfig } from '../../../config/schema.js';
import { ShadowConfig } from '../../../agent/fleet/fleet-document.js';
import type { FleetDetector, FleetHost } from '../../../agent/fleet/fleet-host.js';
import { ShadowReportPayload } from '../../../agent/fleet/fleet-payloads.js';
import { ShadowTrial } from '../../../agent/fleet/shadow-trial.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Detection } from '../../../models/types.js';
import type { DetectionEvent } from '../../../pipeline/camera/camera-pipeline.js';
import { collect, startMosquitto } from '../../support/mosquitto.js';
import { tinyDetector, ultralyticsNames } from '../../support/tiny-detector.js';

// A candidate model in shadow (docs/fleet.md "Shadow trials"): sampling, never delaying the camera,
// comparing, and the retained report. The current and candidate models are real ONNX graphs run by
// onnxruntime (test/support/tiny-detector.ts) with different input sizes, so the candidate only gets a
// usable frame when the trial re-makes it for its input; the report goes through a real SQLite outbox.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-shadow-trial-'));
const TOPIC = 'vigil/yard/box1/config/shadow';
const config = validateConfig({
  site: 'yard',
  device: 'box1',
  dataDir: root,
  models: { det: { path: '/m/det.onnx' } },
  cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
});

/** A YOLOv8-layout model of one class (`person`) whose only box is the given one, score 0.9. */
async function model(name: string, size: number, box: [number, number, number, number]): Promise<Detector> {
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

const person: Detection = {
  label: 'person',
  classId: 0,
  score: 0.8,
  box: { x1: 24, y1: 24, x2: 40, y2: 40 },
};
const car: Detection = { label: 'car', classId: 2, score: 0.7, box: { x1: 0, y1: 0, x2: 10, y2: 10 } };

let outbox: Outbox;
let n = 0;
const trials: ShadowTrial[] = [];
beforeEach(() => {
  outbox = Outbox.open(path.join(root, `outbox-${++n}.db`), OutboxConfig.parse({ synchronous: 'OFF' }));
});
afterEach(() => {
  for (const t of trials.splice(0)) t.stop();
  outbox.close();
});

function setup(shadow: Partial<ShadowConfig> = {}, opts: { log?: Logger; link?: FleetHost['link'] } = {}) {
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

const rows = () => outbox.next(100, new Set());
const settle = () => new Promise((r) => setTimeout(r, 60));

describe('ShadowTrial', () => {
  it('runs the candidate on the current frame re-made for its input, and compares the two', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock', [person]);
    await handled(1);
    emit('dock', [car]);
    await handled(2);
    const r = trial.stats.report();
    expect(r).toMatchObject({ frames: 2, skipped: 0, agreedFrames: 1 });
    expect(r.labels).toEqual({
      car: { matched: 0, candidateOnly: 0, currentOnly: 1, precision: null, recall: 0 },
      person: { matched: 1, candidateOnly: 1, currentOnly: 0, precision: 0.5, recall: 1 },
    });
    expect(r.latencyMs.current).toEqual({ n: 2, mean: 3, p50: 3, p95: 3 });
    expect(r.latencyMs.candidate.n).toBe(2);
  });

  it.each([
    [0.25, [4, 8, 12]],
    [0.1, [10, 20, 30]], // the default
    [0.3, [4, 7, 10]],
    [1, [1, 2, 3]],
  ])('share %d: runs on frames %j of each camera, spread evenly', async (share, want) => {
    const { trial, emit, handled } = setup({ share });
    trial.start();
    let ran = 0;
    for (let f = 1; f <= want.at(-1)!; f++) {
      emit('dock');
      if (want.includes(f)) await handled(++ran);
      else await new Promise((r) => setTimeout(r, 10));
      expect(trial.stats.frames, `after frame ${f}`).toBe(ran);
    }
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: want.length, skipped: 0 });
  });

  it('each camera keeps its own count; other cameras and the candidate own detections are left alone', async () => {
    const { trial, emit, handled } = setup({ share: 0.5, cameras: ['dock', 'gate'] });
    trial.start();
    emit('dock');
    emit('gate');
    emit('roof'); // not in the trial
    emit('roof');
    emit('dock', [person], 'cand'); // the candidate's own result on a camera that runs it
    await settle();
    expect(trial.stats.frames + trial.stats.skipped).toBe(0);
    emit('gate', [car]);
    await handled(1);
    expect(trial.stats.agreedFrames).toBe(0); // it was gate's frame (a car), not dock's
    emit('dock', [person]);
    await handled(2);
    expect(trial.stats.report()).toMatchObject({ frames: 2, agreedFrames: 1 });
  });

  it('never delays a camera: a frame while its previous shadow run is busy is skipped and counted', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock');
    emit('dock'); // the first is still running
    emit('gate'); // another camera is not held up
    await handled(3);
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: 2, skipped: 1 });
    emit('dock'); // free again once its run finished
    await handled(4);
    expect(trial.stats.report()).toMatchObject({ frames: 3, skipped: 1 });
  });

  it('a frame of a model that is not loaded is passed over', async () => {
    const { trial, emit, detectors } = setup({ share: 1 });
    trial.start();
    emit('dock', [person], 'other');
    detectors.delete('cand');
    emit('dock');
    await settle();
    expect(trial.stats.report()).toMatchObject({ frames: 0, skipped: 0 });
  });

  it('a failed candidate run is counted as skipped and logged once', async () => {
    const { log, lines } = logLines('debug');
    const { trial, emit, handled, detectors } = setup({ share: 1 }, { log });
    // A candidate closed under the trial (its inference pool is gone): every run fails.
    const closed = await model('closed', 64, [32, 32, 16, 16]);
    await closed.close();
    detectors.set('cand', closed);
    trial.start();
    emit('dock');
    await handled(1);
    emit('dock');
    await handled(2);
    expect(trial.stats.report()).toMatchObject({ frames: 0, skipped: 2 });
    expect(lines.filter((l) => l.level === 'warn')).toMatchObject([
      { msg: 'fleet: shadow inference failed', candidate: 'cand', reason: 'inference pool is closed' },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'fleet: shadow trial started',
        candidate: 'cand',
        share: 1,
      }),
    );
  });

  it('publish: a retained latest-value report on …/config/shadow', async () => {
    const { trial, emit, handled } = setup({ share: 1 });
    trial.start();
    emit('dock');
    await handled(1);
    trial.publish();
    const [row, ...more] = rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ topic: TOPIC, retain: true, priority: 1 });
    const p = ShadowReportPayload.parse(JSON.parse(row!.payload.toString()));
    expect(p).toMatchObject({
      site: 'yard',
      device: 'box1',
      revision: 42,
      candidate: 'cand',
      frames: 1,
      agreedFrames: 1,
    });
    expect(p.overall).toEqual({ matched: 1, candidateOnly: 0, currentOnly: 0, precision: 1, recall: 1 });
    emit('dock', [car]);
    await handled(2);
    trial.publish();
    const left = rows();
    expect(left).toHaveLength(1); // the newer report replaced the one not sent yet
    expect(JSON.parse(left[0]!.payload.toString())).toMatchObject({ frames: 2, agreedFrames: 1 });
  });

  it('publishes every reportIntervalS; stop() ends sampling and the timer, with a final report', async () => {
    const { trial, emit, handled, detections$ } = setup({ share: 1, reportIntervalS: 1 });
    const startedAt = Date.now();
    trial.start();
    emit('dock');
    await handled(1);
    // A report from the timer, newer than `after` (each replaces the one before in the outbox).
    const report = (after = 0) =>
      vi.waitFor(() => {
        const row = rows().find((r) => r.topic === TOPIC && r.rowid > after);
        if (!row) throw new Error(`no report after row ${after}`);
        return row;
      }, 30_000);
    const first = await report();
    // None for the frame: the first comes from the timer, an interval after the start (100 ms for clocks).
    expect(JSON.parse(first.payload.toString()).ts).toBeGreaterThanOrEqual(startedAt + 900);
    const second = await report(first.rowid);
    trial.stop();
    const [final] = rows();
    expect(final!.rowid).toBeGreaterThan(second!.rowid);
    expect(detections$.observed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(rows()[0]!.rowid).toBe(final!.rowid);
  });

  it('a report the outbox refuses is logged, from the timer and at stop, and the agent runs on', async () => {
    const { log, lines } = logLines('debug');
    const { trial, emit, handled } = setup({ share: 1, reportIntervalS: 1 }, { log });
    trial.start();
    emit('dock');
    await handled(1);
    outbox.close(); // as at shutdown, or a database gone bad: enqueue throws
    const warnings = () => lines.filter((l) => l.msg === 'fleet: shadow report not queued');
    await vi.waitFor(() => expect(warnings(), 'the timer tried').toHaveLength(1), 30_000);
    trial.stop();
    expect(warnings()).toHaveLength(2);
    expect(warnings()[0]).toMatchObject({ level: 'warn', reason: expect.stringMatching(/not open/) });
  });

  it('stop() without a compared frame publishes nothing', async () => {
    const { trial, emit } = setup({ share: 0.5 });
    trial.start();
    emit('dock');
    trial.stop();
    emit('dock');
    await settle();
    expect(trial.stats.frames + trial.stats.skipped).toBe(0);
    expect(rows()).toEqual([]);
  });

  it('the report reaches the broker at once over a real MQTT link', async () => {
    const broker = await startMosquitto();
    const link = new MqttLink({
      cfg: MqttConfig.parse({ url: broker.url }),
      statusTopic: 'vigil/yard/box1/status',
      outbox,
      log: silentLogger,
      version: '0.0.0',
      pollMs: 60_000,
    });
    try {
      link.start();
      const sub = await collect(broker.url, TOPIC);
      // Connected first (a report queued before would go with the connect's drain, notified or not).
      await vi.waitFor(() => expect(link.state.state).toBe('connected'), 30_000);
      const { trial } = setup({}, { link });
      trial.start();
      trial.stats.add([person], [person], { current: 1, candidate: 2 });
      trial.publish();
      // The link polls its outbox once a minute here: a report within 20 s came by the notify.
      await sub.waitFor((m) => m.length > 0, 20_000);
      expect(ShadowReportPayload.parse(JSON.parse(sub.messages[0]!.payload.toString())).frames).toBe(1);
      await sub.close();
    } finally {
      await link.stop();
      await broker.stop();
    }
  });
});
