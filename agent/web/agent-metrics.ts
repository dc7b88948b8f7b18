import { cameraStateNames, pm25CalibrationStates } from './status-schema.js';
import { readPm25Calibration, readReferenceTally } from './status-hooks.js';
import type { StatusAgent } from './status-model.js';
import { MetricsRegistry, prometheusContentType } from './metrics-registry.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';

/** Inference latency buckets, seconds: a Jetson with TensorRT sits low, a CPU box at 640 px near the top. */
const inferenceBuckets = [0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];

/**
 * The agent's Prometheus metrics (docs/http.md lists them). Counts the pipelines keep are mirrored at
 * scrape time; only the inference histogram is fed per event (one bucket increment).
 */
export class AgentMetrics {
  readonly contentType = prometheusContentType;
  private readonly r = new MetricsRegistry();
  private readonly inference = this.r.histogram(
    'vigil_inference_seconds',
    'Inference time per processed frame (session.run), by camera and model.',
    inferenceBuckets,
    ['camera', 'model'],
  );
  private readonly requests = this.r.counter(
    'vigil_http_requests_total',
    'HTTP requests served, by route and status code.',
    ['route', 'code'],
  );

  /** Pages open on the live feed (the web service points this at its SSE hub). */
  eventStreams: () => number = () => 0;

  constructor(
    private readonly agent: StatusAgent,
    private readonly cacheMs = 1000,
  ) {
    const r = this.r;
    const info = r.gauge('vigil_build_info', 'Always 1; the labels say what runs where.', [
      'version',
      'site',
      'device',
    ]);
    const uptime = r.gauge('vigil_uptime_seconds', 'Seconds since the agent started.');
    const frames = r.counter('vigil_camera_frames_total', 'Frames read from the source.', ['camera']);
    const processed = r.counter('vigil_camera_processed_frames_total', 'Frames through inference.', [
      'camera',
    ]);
    const dropped = r.counter(
      'vigil_camera_dropped_frames_total',
      'Frames overtaken by newer ones before inference (latest wins).',
      ['camera'],
    );
    const errors = r.counter('vigil_camera_inference_errors_total', 'Frames whose inference failed.', [
      'camera',
    ]);
    const gated = r.counter(
      'vigil_camera_gated_frames_total',
      'Frames the motion gate let pass without inference (still scene; 0 with motion off).',
      ['camera'],
    );
    const inFps = r.gauge('vigil_camera_input_fps', 'Frames per second read from the source (5 s window).', [
      'camera',
    ]);
    const outFps = r.gauge(
      'vigil_camera_processed_fps',
      'Frames per second through inference (5 s window).',
      ['camera'],
    );
    const state = r.gauge('vigil_camera_state', '1 for the state the camera is in, 0 for the others.', [
      'camera',
      'state',
    ]);
    const age = r.gauge(
      'vigil_camera_last_frame_age_seconds',
      'Seconds since the last frame (absent before the first).',
      ['camera'],
    );
    const model = r.gauge('vigil_model_info', 'Always 1; the execution provider each model runs on.', [
      'model',
      'family',
      'provider',
    ]);
    const modelLoaded = r.gauge(
      'vigil_model_loaded',
      "1 for each enabled camera's model that is loaded, 0 for one that is not (it failed; its cameras say why).",
      ['model'],
    );
    const references = r.counter(
      'vigil_pm25_reference_readings_total',
      "Co-located sensor's readings received since start, by what became of them.",
      ['camera', 'outcome'],
    );
    const calibration = r.gauge(
      'vigil_pm25_calibration_state',
      "1 for the state the camera's PM2.5 site model is in, 0 for the others (absent before its first window).",
      ['camera', 'state'],
    );
    const pairs = r.gauge(
      'vigil_pm25_calibration_samples',
      "Reading–frame pairs the camera's PM2.5 site model holds (absent before its first window).",
      ['camera'],
    );
    const rows = r.gauge('vigil_outbox_rows', 'Messages waiting in the outbox.');
    const bytes = r.gauge('vigil_outbox_bytes', 'Payload bytes waiting in the outbox.');
    const oldest = r.gauge('vigil_outbox_oldest_age_seconds', 'Age of the oldest message waiting.');
    const drops = r.counter(
      'vigil_outbox_dropped_messages_total',
      'Messages the outbox dropped, by reason.',
      ['reason'],
    );
    const connected = r.gauge('vigil_mqtt_connected', '1 while the broker connection is up.');
    const published = r.counter(
      'vigil_mqtt_published_total',
      'PUBLISH packets sent for outbox rows (re-sends included).',
    );
    const acked = r.counter('vigil_mqtt_acked_total', 'Messages the broker acknowledged.');
    const rejected = r.counter('vigil_mqtt_rejected_total', 'Messages the broker refused.');
    const connects = r.counter('vigil_mqtt_connects_total', 'Successful connections to the broker.');
    const inflight = r.gauge('vigil_mqtt_inflight', 'QoS 1 publishes awaiting PUBACK.');
    const latency = r.gauge(
      'vigil_mqtt_publish_latency_seconds',
      'Publish to PUBACK: the last one, and a moving average.',
      ['stat'],
    );
    const lag = r.gauge('vigil_event_loop_lag_seconds', 'Main-thread event-loop delay.', ['stat']);
    const streams = r.gauge(
      'vigil_http_event_streams',
      'Status pages open on the live feed (/api/events); a page nobody sees leaves it.',
    );
    const cpu = r.counter(
      'process_cpu_seconds_total',
      'User and system CPU time of the agent process, all threads.',
    );
    const rss = r.gauge('process_resident_memory_bytes', 'Resident memory of the agent process.');
    const start = r.gauge('process_start_time_seconds', 'Start of the agent, epoch seconds.');
    // The main thread's V8 heap and what lives outside it (frame buffers): a leak shows here first.
    const heapUsed = r.gauge('nodejs_heap_size_used_bytes', "Used size of the main thread's V8 heap.");
    const heapTotal = r.gauge('nodejs_heap_size_total_bytes', "Total size of the main thread's V8 heap.");
    const external = r.gauge(
      'nodejs_external_memory_bytes',
      'Memory of objects outside the V8 heaps (array buffers, frames in shared memory included).',
    );

    r.onCollect(() => {
      const a = this.agent;
      const now = Date.now();
      info.set({ version: a.version, site: a.config.site, device: a.config.device }, 1);
      uptime.set({}, (now - a.startedAt) / 1000);
      start.set({}, a.startedAt / 1000);
      for (const m of [frames, processed, dropped, errors, gated, inFps, outFps, state, age, model])
        m.reset();
      for (const [id, cam] of a.cameras) {
        const s = cam.stats.snapshot();
        const camera = { camera: id };
        frames.set(camera, s.framesIn);
        processed.set(camera, s.processed);
        dropped.set(camera, s.dropped);
        errors.set(camera, s.inferenceErrors);
        gated.set(camera, s.gated);
        inFps.set(camera, s.inputFps);
        outFps.set(camera, s.processedFps);
        for (const name of cameraStateNames)
          state.set({ camera: id, state: name }, cam.state.state === name ? 1 : 0);
        // Elapsed time: on the wall clock a step back showed a stalled camera as fresh for the step.
        const ageMs = cam.stats.lastFrameAgeMs();
        if (ageMs !== undefined) age.set(camera, ageMs / 1000);
      }
      // Fed per event, not mirrored: a removed camera's series, or one of the model a camera no longer runs,
      // would stay for ever, frozen (one per camera id a fleet ever pushed). Gone, as in the mirrored ones.
      this.inference.retain((l) => a.cameras.get(l.camera!)?.config.model === l.model);
      // A model that failed to load has no vigil_model_info series: this one is there for an alert on it.
      modelLoaded.reset();
      for (const c of a.config.cameras)
        if (c.enabled) modelLoaded.set({ model: c.model }, a.detectors.has(c.model) ? 1 : 0);
      for (const d of a.detectors.values()) {
        model.set({ model: d.info.modelId, family: d.info.family, provider: d.info.provider }, 1);
      }
      for (const m of [references, calibration, pairs]) m.reset();
      for (const { id } of a.config.cameras) {
        const t = readReferenceTally(a, id);
        if (t)
          for (const [outcome, n] of [
            ['paired', t.paired],
            ['not-paired', t.notPaired],
            ['refused', t.refused],
          ] as const)
            references.set({ camera: id, outcome }, n);
        const c = readPm25Calibration(a, id);
        if (!c) continue;
        for (const s of pm25CalibrationStates)
          calibration.set({ camera: id, state: s }, c.state === s ? 1 : 0);
        pairs.set({ camera: id }, c.samples);
      }
      const outbox = a.outbox as StatusAgent['outbox'] | undefined;
      if (outbox) {
        const depth = outbox.depth();
        rows.set({}, depth.rows);
        bytes.set({}, depth.bytes);
        oldest.set({}, depth.oldestAgeMs / 1000);
        // Since this process started: a true counter (a restart reads as a reset, which Prometheus handles).
        // The unreported counts would not do: they are cleared at each report, and a scrape cannot tell.
        for (const [reason, n] of Object.entries(outbox.dropsSinceStart())) drops.set({ reason }, n);
      }
      const link = a.link;
      connected.set({}, link?.state.state === 'connected' ? 1 : 0);
      if (link) {
        const c = link.counters();
        published.set({}, c.published);
        acked.set({}, c.acked);
        rejected.set({}, c.rejected);
        connects.set({}, c.connects);
        inflight.set({}, c.inflight);
        latency.set({ stat: 'last' }, c.latencyMs.last / 1000);
        latency.set({ stat: 'avg' }, c.latencyMs.avg / 1000);
      }
      streams.set({}, this.eventStreams());
      const l = a.lag.read();
      lag.set({ stat: 'p50' }, l.p50 / 1000);
      lag.set({ stat: 'p99' }, l.p99 / 1000);
      lag.set({ stat: 'max' }, l.max / 1000);
      const u = process.cpuUsage();
      cpu.set({}, (u.user + u.system) / 1e6);
      const mem = process.memoryUsage();
      rss.set({}, mem.rss);
      heapUsed.set({}, mem.heapUsed);
      heapTotal.set({}, mem.heapTotal);
      external.set({}, mem.external);
    });
  }

  /** Per processed frame: one histogram observation. */
  observe(event: DetectionEvent): void {
    this.inference.observe({ camera: event.camera, model: event.modelId }, event.result.inferenceMs / 1000);
  }

  countRequest(route: string, code: number): void {
    this.requests.inc({ route, code: String(code) });
  }

  /**
   * The exposition, rebuilt at most once per `cacheMs`: ten scrapers a second cost one build, and a value
   * is never older than that (Prometheus scrapes every 15 s or so anyway).
   */
  text(now = performance.now()): string {
    if (!this.cached || now - this.cached.at >= this.cacheMs)
      this.cached = { at: now, text: this.r.expose() };
    return this.cached.text;
  }
  private cached: { at: number; text: string } | undefined;
}
