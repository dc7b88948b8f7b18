import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { OutboxConfig, VigilConfig } from '../../../config/schema.js';
import { MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { AgentMetrics } from '../../../agent/web/agent-metrics.js';
import { cameraStateNames } from '../../../agent/web/status-schema.js';
import type { Detector } from '../../../models/detect/detector.js';
import { CameraStats } from '../../../pipeline/camera/camera-stats.js';
import { loadSharedDetector } from '../../support/detectors.js';
import { parsePrometheusText, sampleValue, type Family } from '../../support/prometheus-text.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { documentedMetrics } from './documented-metrics-fixture.js';
import { pm25Window } from '../../support/pm25-window.js';
import { Pm25ReferenceTally } from '../../../agent/services/pm25-reference-tally.js';
import { zidaneEvent } from '../../support/zidane-event.js';

const log = createLogger({ level: 'error' });

/** Outbox drops of one reason, as the exposition shows them. */
const dropped = (f: Map<string, Family>, reason: string) =>
  sampleValue(f, 'vigil_outbox_dropped_messages_total', { reason });

// A real agent, not started: its cameras get real CameraStats, a real outbox and an MQTT link that is never
// started (no broker needed), and one real detector. Nothing here is a stand-in.
describe.skipIf(!hasShared)('AgentMetrics: the /metrics exposition', () => {
  let dir: string;
  let agent: Agent;
  let detector: Detector;
  let yard: CameraStats;
  let gate: CameraStats;
  /** Scrape time (performance.now() scale) moved on past the 1 s cache before each fresh scrape. */
  let at = 10_000;
  const scrape = (m: AgentMetrics) => parsePrometheusText(m.text((at += 1000)));
  const big = { topic: 'vigil/t/big', priority: 0 as const, build: () => ({ pad: 'x'.repeat(4000) }) };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-metrics-'));
    const config = VigilConfig.parse({
      site: 'yard-site',
      device: 'box-1',
      dataDir: dir,
      mqtt: { url: 'mqtt://127.0.0.1:9' },
      models: {
        det: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx') },
        // Never loaded here, as after a failed load: only vigil_model_loaded shows it.
        broken: { path: path.join(dir, 'broken.onnx') },
      },
      cameras: [
        { id: 'yard', source: sharedPath('media', 'vtest.avi'), model: 'det' },
        { id: 'gate', source: 'rtsp://127.0.0.1:9/stream', model: 'det' },
        { id: 'dock', source: 'rtsp://127.0.0.1:9/dock', model: 'broken', enabled: false },
        { id: 'pier', source: 'rtsp://127.0.0.1:9/pier', model: 'broken' },
      ],
    });
    agent = new Agent(config, { log, version: '1.2.3-test', services: [] });
    // Anything over 1000 bytes is dropped at once (`max-bytes`), touching no stored row.
    agent.outbox = Outbox.open(
      path.join(dir, 'outbox.db'),
      OutboxConfig.parse({ maxBytes: 1000, synchronous: 'OFF' }),
    );
    agent.link = new MqttLink({
      cfg: config.mqtt!,
      statusTopic: agent.topics.status,
      outbox: agent.outbox,
      log,
      version: 'test',
    });
    detector = await loadSharedDetector('det', 'yolo11n-coco-int8-320.onnx');
    agent.detectors.set('det', detector);
    yard = new CameraStats();
    gate = new CameraStats();
    const since = Date.now();
    agent.cameras.set('yard', {
      config: config.cameras[0]!,
      state: { camera: 'yard', state: 'streaming', since },
      stats: yard,
    });
    // PM2.5 on the yard: a window that says the site model's state, and the sensor's tally.
    agent.pm25.set('yard', [
      pm25Window('yard', Date.now(), 12, {}, { state: 'calibrating', samples: 7, lastRefit: null }),
    ]);
    agent.pm25References.set(
      'yard',
      new Pm25ReferenceTally('vigil/yard-site/box-1/cameras/yard/pm25/reference'),
    );
    agent.cameras.set('gate', {
      config: config.cameras[1]!,
      state: { camera: 'gate', state: 'failed', reason: 'refused', since },
      stats: gate,
    });
  }, 60_000);

  afterAll(async () => {
    await detector?.close();
    agent?.outbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses strictly, and has every metric docs/http.md lists, with its type and labels', async () => {
    const m = new AgentMetrics(agent);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    m.observe(await zidaneEvent({ spec: detector.info.input, frameNo: 1 }));
    m.countRequest('/metrics', 200);
    yard.frameRead(Date.now());
    const f = scrape(m);
    const documented = documentedMetrics();
    expect(documented.size).toBeGreaterThan(25);
    for (const [name, [type, labels]] of documented) {
      const family = f.get(name);
      expect(family, name).toBeDefined();
      if (type) expect(family!.type, name).toBe(type);
      expect(family!.samples.length, `${name} has samples`).toBeGreaterThan(0);
      for (const s of family!.samples) {
        const keys = Object.keys(s.labels).filter((k) => k !== 'le');
        expect(keys.sort(), name).toEqual([...labels].sort());
      }
    }
    // Nothing exposed that the docs do not list.
    expect([...f.keys()].filter((n) => !documented.has(n))).toEqual([]);
  });

  it("mirrors the agent's counts, states, models and build at scrape time", () => {
    Object.assign(yard, { framesIn: 120, processed: 100, dropped: 15, inferenceErrors: 2, gated: 30 });
    yard.frameRead(Date.now() - 2000, performance.now() - 2000);
    gate.lastFrameAt = 0;
    const m = new AgentMetrics(agent);
    const f = scrape(m);
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(f, name, labels);
    expect(v('vigil_camera_frames_total', { camera: 'yard' })).toBe(120);
    expect(v('vigil_camera_processed_frames_total', { camera: 'yard' })).toBe(100);
    expect(v('vigil_camera_dropped_frames_total', { camera: 'yard' })).toBe(15);
    expect(v('vigil_camera_inference_errors_total', { camera: 'yard' })).toBe(2);
    // Found on a real agent: the status had frames.gated, /metrics had no counter for it.
    expect(v('vigil_camera_gated_frames_total', { camera: 'yard' })).toBe(30);
    expect(v('vigil_camera_frames_total', { camera: 'gate' })).toBe(0);
    // One state is 1 per camera, the one it is in.
    for (const [camera, current] of [
      ['yard', 'streaming'],
      ['gate', 'failed'],
    ]) {
      for (const state of cameraStateNames)
        expect(v('vigil_camera_state', { camera: camera!, state }), `${camera} ${state}`).toBe(
          state === current ? 1 : 0,
        );
    }
    // Age from the last frame; absent before the first (gate never had one).
    const age = v('vigil_camera_last_frame_age_seconds', { camera: 'yard' })!;
    expect(age).toBeGreaterThanOrEqual(2);
    expect(age).toBeLessThan(60);
    expect(v('vigil_camera_last_frame_age_seconds', { camera: 'gate' })).toBeUndefined();
    expect(v('vigil_model_info', { model: 'det', family: 'yolov8', provider: 'cpu' })).toBe(1);
    expect(v('vigil_model_loaded', { model: 'det' })).toBe(1);
    expect(v('vigil_model_loaded', { model: 'broken' })).toBe(0);
    expect(v('vigil_build_info', { version: '1.2.3-test', site: 'yard-site', device: 'box-1' })).toBe(1);
    expect(v('process_start_time_seconds')).toBe(agent.startedAt / 1000);
    expect(v('vigil_uptime_seconds')).toBeGreaterThanOrEqual(0);
    // Memory: the heap lies inside the resident set, and is in use by at least this test's objects.
    const heapUsed = v('nodejs_heap_size_used_bytes')!;
    expect(heapUsed).toBeGreaterThan(1e6);
    expect(heapUsed).toBeLessThanOrEqual(v('nodejs_heap_size_total_bytes')!);
    expect(v('nodejs_heap_size_total_bytes')).toBeLessThan(v('process_resident_memory_bytes')!);
    expect(v('nodejs_external_memory_bytes')).toBeGreaterThan(0);
    // The link was never started: disconnected, nothing published.
    expect(v('vigil_mqtt_connected')).toBe(0);
    expect(v('vigil_mqtt_published_total')).toBe(0);
    expect(v('vigil_outbox_rows')).toBe(agent.outbox.depth().rows);
  });

  it("says the PM2.5 site model's state and counts the sensor's readings by what became of them", () => {
    const tally = agent.pm25References.get('yard')!;
    tally.record({
      via: 'mqtt',
      receivedAt: Date.now(),
      ts: '2026-12-03T10:00:00Z',
      pm25: 20,
      outcome: 'paired',
    });
    const refused = { via: 'mqtt', ts: null, pm25: null, outcome: 'refused', reason: 'not JSON' } as const;
    for (let i = 0; i < 2; i++) tally.record({ ...refused, receivedAt: Date.now() });
    const f = scrape(new AgentMetrics(agent));
    const v = (name: string, labels: Record<string, string>) => sampleValue(f, name, labels);
    const readings = (outcome: string) =>
      v('vigil_pm25_reference_readings_total', { camera: 'yard', outcome });
    expect([readings('paired'), readings('not-paired'), readings('refused')]).toEqual([1, 0, 2]);
    const states = ['uncalibrated', 'calibrating', 'calibrated'];
    expect(states.map((state) => v('vigil_pm25_calibration_state', { camera: 'yard', state }))).toEqual([
      0, 1, 0,
    ]);
    expect(v('vigil_pm25_calibration_samples', { camera: 'yard' })).toBe(7);
    // The gate has no PM2.5: no series at all, not zeros that read as "uncalibrated".
    expect(f.get('vigil_pm25_calibration_samples')!.samples.map((s) => s.labels.camera)).toEqual(['yard']);
  });

  it('the last frame age is elapsed time: a wall clock stepped back an hour still shows a stalled camera', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      yard.frameRead(Date.now());
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(90_000);
      const f = scrape(new AgentMetrics(agent));
      expect(sampleValue(f, 'vigil_camera_last_frame_age_seconds', { camera: 'yard' })).toBe(90);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a camera that goes away disappears from every per-camera metric, its inference histogram too', async () => {
    const m = new AgentMetrics(agent);
    gate.frameRead(Date.now());
    // The histogram is fed per event, not mirrored: gate's series is there only because it saw a frame.
    for (const camera of ['yard', 'gate'])
      m.observe(await zidaneEvent({ spec: detector.info.input, camera, frameNo: 1 }));
    const cameras = (f: Map<string, Family>) =>
      new Set([...f.values()].flatMap((fam) => fam.samples.map((s) => s.labels.camera)).filter(Boolean));
    expect(cameras(scrape(m))).toEqual(new Set(['yard', 'gate']));
    const runtime = agent.cameras.get('gate')!;
    agent.cameras.delete('gate');
    try {
      const f = scrape(m);
      expect(cameras(f)).toEqual(new Set(['yard']));
      expect(sampleValue(f, 'vigil_camera_frames_total', { camera: 'yard' })).toBeDefined();
      expect(sampleValue(f, 'vigil_inference_seconds_count', { camera: 'yard', model: 'det' })).toBe(1);
      // A camera moved onto another model (a fleet push): the old model's series goes, the camera stays.
      const yardRuntime = agent.cameras.get('yard')!;
      const yardConfig = yardRuntime.config;
      yardRuntime.config = { ...yardConfig, model: 'other' };
      try {
        expect(
          sampleValue(scrape(m), 'vigil_inference_seconds_count', { camera: 'yard', model: 'det' }),
        ).toBeUndefined();
      } finally {
        yardRuntime.config = yardConfig;
      }
    } finally {
      agent.cameras.set('gate', runtime);
    }
  });

  it('outbox drop totals keep running when the counts are cleared after a report', () => {
    const m = new AgentMetrics(agent);
    const outbox = agent.outbox;
    const before = dropped(scrape(m), 'max-bytes') ?? 0;
    for (let i = 0; i < 3; i++) expect(outbox.enqueue(big).dropped).toBe('max-bytes');
    expect(dropped(scrape(m), 'max-bytes')).toBe(before + 3);
    // The health service's report: committed, and the counts cleared in the same transaction.
    const report = outbox.reportDrops({ topic: 'vigil/t/drops', priority: 2, build: (d) => ({ d }) });
    expect(report?.dropped).toBeUndefined();
    expect(outbox.drops()['max-bytes']).toBe(0);
    expect(dropped(scrape(m), 'max-bytes')).toBe(before + 3);
    // Fewer new drops than were counted before the report: they add on, the counter never falls.
    for (let i = 0; i < 2; i++) outbox.enqueue(big);
    expect(dropped(scrape(m), 'max-bytes')).toBe(before + 5);
    outbox.enqueue(big);
    expect(dropped(scrape(m), 'max-bytes')).toBe(before + 6);
    expect(dropped(scrape(m), 'rejected')).toBe(0);
    // A report between two scrapes, then more drops than before it: nothing from before the report is lost.
    outbox.reportDrops({ topic: 'vigil/t/drops', priority: 2, build: (d) => ({ d }) });
    for (let i = 0; i < 7; i++) outbox.enqueue(big);
    expect(dropped(scrape(m), 'max-bytes')).toBe(before + 13);
  });

  it('serves the same text for 1 s, then rebuilds it', () => {
    const m = new AgentMetrics(agent);
    const frames = (text: string) =>
      sampleValue(parsePrometheusText(text), 'vigil_camera_frames_total', { camera: 'yard' });
    yard.framesIn = 500;
    const first = m.text(50_000);
    yard.framesIn = 501;
    m.countRequest('/api/status', 200);
    expect(m.text(50_999)).toBe(first);
    expect(frames(m.text(50_999))).toBe(500);
    const fresh = m.text(51_000);
    expect(frames(fresh)).toBe(501);
    expect(
      sampleValue(parsePrometheusText(fresh), 'vigil_http_requests_total', {
        route: '/api/status',
        code: '200',
      }),
    ).toBe(1);
    // Another cache span: an instance built with no cache is fresh every time.
    const uncached = new AgentMetrics(agent, 0);
    expect(frames(uncached.text(50_000))).toBe(501);
    yard.framesIn = 502;
    expect(frames(uncached.text(50_000))).toBe(502);
  });

  it('counts requests by route and code, and feeds one histogram observation per event', async () => {
    const m = new AgentMetrics(agent);
    m.countRequest('/metrics', 200);
    m.countRequest('/metrics', 200);
    m.countRequest('/api/status', 401);
    const event = await zidaneEvent({ spec: detector.info.input, frameNo: 2 });
    event.result.inferenceMs = 30;
    m.observe(event);
    const f = scrape(m);
    const req = (route: string, code: string) => sampleValue(f, 'vigil_http_requests_total', { route, code });
    expect(req('/metrics', '200')).toBe(2);
    expect(req('/api/status', '401')).toBe(1);
    const bucket = (le: string) =>
      sampleValue(f, 'vigil_inference_seconds_bucket', { camera: 'yard', model: 'det', le });
    // 30 ms: above the 20 ms bucket, inside the 35 ms one.
    expect(bucket('0.02')).toBe(0);
    expect(bucket('0.035')).toBe(1);
    expect(bucket('+Inf')).toBe(1);
    expect(sampleValue(f, 'vigil_inference_seconds_sum', { camera: 'yard', model: 'det' })).toBeCloseTo(0.03);
  });
});
