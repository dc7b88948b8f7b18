import path from 'node:path';
import { config as rxConfig, merge, Subject, timer } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/redact-url.js';
import { Detector } from '../../models/detect/detector.js';
import { cameraPipeline, type DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { Pm25Payload } from '../../models/pm25/payloads.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { topics, type Topics } from '../mqtt/topics.js';
import { OldRoots } from '../services/old-roots.js';
import type { Pm25ReferenceTally } from '../services/pm25-reference-tally.js';
import { Outbox } from '../outbox/outbox.js';
import { DataDirLock } from './data-dir-lock.js';
import { EventLoopLag } from './event-loop-lag.js';
import { endInterruptedEvents } from '../safety/interrupted-events.js';
import { SafetyHub } from '../safety/safety-hub.js';
import { createServices } from './services.js';
import { ServiceSupervisor } from './service-supervisor.js';
import { ModelRetry } from './model-retry.js';
import { outboxEventLogger } from './outbox-event-log.js';
import { CameraResults } from './camera-results.js';
import { CameraTable } from './camera-table.js';
import { StartTime } from './start-time.js';
import type { AgentOptions, CameraRuntime } from './agent-types.js';

export type { AgentOptions, CameraRuntime } from './agent-types.js';

/** How long a camera pipeline that died of an unexpected error waits before it is started again. */
const cameraRestartMs = 5000;

/**
 * The running agent: one outbox, one MQTT link, one detector (worker pool) per model, one supervised
 * pipeline per camera. Every result is committed to the outbox before the link may publish it.
 */
export class Agent {
  /** The config's cameras, a restarting one included, and their counters (camera-table.ts). */
  readonly cameras = new CameraTable();
  readonly detectors = new Map<string, Detector>();
  readonly lag = new EventLoopLag();
  readonly topics: Topics;
  private readonly startTime = new StartTime();
  outbox!: Outbox;
  link: MqttLink | undefined;
  /** The roots this box published retained messages under (old-roots.ts); set with the link. */
  oldRoots: OldRoots | undefined;
  /** Every detection event, after its outbox commit (services subscribe here). */
  readonly detections$ = new Subject<DetectionEvent>();
  /** Every camera state change. */
  readonly states$ = new Subject<CameraState>();
  /** Each config the running agent moves to (a fleet push applied or rolled back): services follow it. */
  readonly config$ = new Subject<VigilConfig>();
  private readonly services: ServiceSupervisor;
  /** Models that failed to load at start-up, tried again (a fleet apply pauses and updates it). */
  readonly modelRetry: ModelRetry;
  private readonly stop$ = new Subject<void>();
  private stopping = false;
  /** The one stop in progress or done: every stop() call waits for it. */
  private stopped: Promise<void> | undefined;
  /** This agent's handler in RxJS's config while it runs (see start()). */
  private unhandledError: ((err: unknown) => void) | undefined;
  private dataDirLock: DataDirLock | undefined;
  readonly log: Logger;
  /** Recent PM2.5 windows per camera (status page chart), filled by the PM2.5 service. */
  readonly pm25 = new Map<string, Pm25Payload[]>();
  /** Each PM2.5 camera's reference readings since start (status page, /metrics), kept by the PM2.5 service. */
  readonly pm25References = new Map<string, Pm25ReferenceTally>();
  /** Event snapshots and each camera's safety chain (agent/safety/safety-hub.ts). */
  readonly safety: SafetyHub;
  /** What each camera's output becomes (camera-results.ts). */
  private readonly results = new CameraResults(this);

  constructor(
    config: VigilConfig,
    private readonly opts: AgentOptions,
  ) {
    this.current = config;
    this.log = opts.log;
    this.safety = new SafetyHub(opts.log.child({ component: 'safety' }));
    this.topics = topics(config.mqtt?.baseTopic ?? 'vigil', config.site, config.device);
    this.services = new ServiceSupervisor(
      opts.services ?? createServices(config),
      this,
      opts.log,
      opts.serviceRestartMs,
    );
    this.modelRetry = new ModelRetry(this, opts.modelRetryMs, opts.modelRetryMaxMs);
  }

  private current: VigilConfig;
  get config(): VigilConfig {
    return this.current;
  }
  set config(next: VigilConfig) {
    this.current = next;
    this.cameras.follow(next);
    this.config$.next(next);
  }

  get version(): string {
    return this.opts.version;
  }

  /** When the agent started, on the wall clock as it reads now, whatever NTP did since (start-time.ts). */
  get startedAt(): number {
    return this.startTime.read();
  }

  async start(): Promise<void> {
    const { config, log } = this;
    // One agent per data dir, refused before anything there is opened (data-dir-lock.ts).
    this.dataDirLock = DataDirLock.acquire(config.dataDir);
    // RxJS rethrows what a subscriber callback throws (a service's detections$ handler…) from a timer, where
    // it would be an uncaught exception ending the agent: it is logged, with its stack, and the agent runs on.
    this.unhandledError = (err: unknown) =>
      log.error('unhandled error in a subscriber, carrying on', {
        reason: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      });
    rxConfig.onUnhandledError = this.unhandledError;
    this.lag.start();
    this.outbox = Outbox.open(path.join(config.dataDir, 'outbox.db'), config.outbox, {
      onEvent: outboxEventLogger(log),
    });
    this.safety.open(config);
    // Before any camera publishes: events a crash left open end first on their topic.
    this.safety.interrupted = endInterruptedEvents(
      this.outbox,
      this.topics,
      log.child({ component: 'safety' }),
    );
    if (config.mqtt) {
      // Before the link publishes anything: the root it is about to publish under is remembered.
      this.oldRoots = OldRoots.openFor(config, this.topics.root, log);
      this.link = new MqttLink({
        // One client id per box, the same across restarts (docs/config.md): a new process takes over the
        // session of one the broker still holds, whose last will then comes before this one's `online`.
        cfg: { ...config.mqtt, clientId: config.mqtt.clientId ?? `vigil-${config.site}-${config.device}` },
        statusTopic: this.topics.status,
        outbox: this.outbox,
        log: log.child({ component: 'mqtt' }),
        version: this.opts.version,
        box: this.oldRoots.box,
        reconnect: { maxMs: config.mqtt.reconnectMaxS * 1000 },
      });
      this.link.start();
    } else {
      log.warn('no MQTT broker configured: results are kept in the outbox until one is');
    }

    const enabled = config.cameras.filter((c) => c.enabled);
    const modelIds = [...new Set(enabled.map((c) => c.model))];
    // Models load before any camera starts: a missing or broken model is a start-up error, not a warning.
    const loaded = await Promise.allSettled(modelIds.map((id) => this.loadModel(id, config.models[id]!)));
    // Kept in camera order, not in the order they finished loading: the first is /api/detect's default.
    loaded.forEach((r, i) => {
      if (r.status === 'fulfilled') this.detectors.set(modelIds[i]!, r.value);
    });
    const reasonOf = (r: PromiseRejectedResult) =>
      r.reason instanceof Error ? r.reason.message : String(r.reason);
    const failed = loaded.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // No model at all: nothing could run, and the installer gets one clear error at once.
    if ((failed.length === modelIds.length && failed.length > 0) || this.stopping) {
      await this.stop();
      // A stop() that ran while the models loaded could not close those that loaded after it.
      await Promise.allSettled([...this.detectors.values()].map((d) => d.close()));
      if (!failed.length) return; // stopped while starting: nothing more starts
      throw new Error(failed.map(reasonOf).join('; '));
    }
    for (const camera of enabled) if (this.detectors.has(camera.model)) this.startCamera(camera);
    // Some models did not load: their cameras are reported failed and wait; the others run meanwhile.
    loaded.forEach((r, i) => {
      if (r.status === 'rejected') this.modelRetry.failed(modelIds[i]!, reasonOf(r));
    });
    await this.services.startAll();
  }

  /** Loads a detector (its worker pool) without putting it in use; the caller decides when to swap. */
  async loadModel(id: string, cfg: ModelConfig): Promise<Detector> {
    const detector = await Detector.load(id, cfg);
    const { provider, refused, family, workers, intraOpThreads } = detector.info;
    this.log.info('model ready', { model: id, family, provider, workers, intraOpThreads, refused });
    return detector;
  }

  /** A camera that cannot run (its model did not load): reported `failed` with the reason, kept in `cameras`. */
  cameraFailed(camera: CameraConfig, reason: string): void {
    // Each retry reports it again: the same failure keeps the time it began, as `since` promises.
    const prev = this.cameras.get(camera.id)?.state;
    const since = prev?.state === 'failed' && prev.reason === reason ? prev.since : Date.now();
    const state: CameraState = { camera: camera.id, state: 'failed', since, reason };
    const stats = this.cameras.counters.of(camera.id);
    const runtime = this.cameras.get(camera.id) ?? { config: camera, state, stats };
    runtime.config = camera; // a fleet push may have changed a waiting camera's settings
    this.cameras.set(camera.id, runtime);
    this.results.state(runtime, state);
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Starts (or restarts with a new config) one camera's supervised pipeline; its model must be loaded. */
  startCamera(camera: CameraConfig): void {
    // A fleet apply or rollback still running while the agent stops must not start a pipeline nothing stops.
    if (this.stopping) return;
    const previous = this.cameras.get(camera.id);
    const runtime: CameraRuntime = {
      config: camera,
      state: previous?.state ?? { camera: camera.id, state: 'connecting', since: Date.now() },
      stats: this.cameras.counters.forRun(camera.id),
      stop$: new Subject<void>(),
    };
    this.cameras.set(camera.id, runtime);
    const log = this.log.child({ camera: camera.id });
    log.info('camera starting', { source: redactUrl(camera.source), model: camera.model });
    const detector = this.detectors.get(camera.model)!;
    // The camera's share of its model's workers when cameras compete for them.
    detector.setWeight(camera.id, camera.priority);
    runtime.safety = this.safety.forCamera(camera, detector.info);
    let resolveDone!: () => void;
    runtime.done = new Promise((r) => {
      resolveDone = () => {
        this.results.pipelineEnded(runtime);
        r();
      };
    });
    runtime.subscription = cameraPipeline({
      camera,
      detector,
      log,
      stats: runtime.stats,
      ...(runtime.safety ? { safety: runtime.safety } : {}),
      stop$: merge(this.stop$, runtime.stop$!),
      // Only a fleet apply stops one camera while the agent runs on (stopCamera).
      stopReason: () => (this.stopping ? 'agent stopping' : 'stopped for a config change'),
      onState: (state) => this.results.state(runtime, state),
    }).subscribe({
      next: (event) => this.results.detection(runtime, event),
      error: (err: unknown) => {
        // A bug or an unexpected failure inside one camera's pipeline: restart that camera only.
        log.error('camera pipeline crashed, restarting it', {
          reason: err instanceof Error ? err.message : String(err),
        });
        resolveDone();
        timer(cameraRestartMs).subscribe(() => {
          if (!this.stopping && this.cameras.get(camera.id) === runtime) this.startCamera(camera);
        });
      },
      complete: () => resolveDone(),
    });
  }

  /** Stops one camera gracefully (in-flight inferences are committed); it stays listed (camera-table.ts). */
  async stopCamera(id: string, deadlineMs = 3000): Promise<void> {
    const runtime = this.cameras.get(id);
    if (!runtime) return;
    runtime.stop$?.next();
    // Unref'd: a deadline that is not needed must not hold a stopping process for its last seconds.
    await Promise.race([runtime.done, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    runtime.subscription?.unsubscribe();
    if (this.cameras.get(id) === runtime) this.cameras.stopped(id, runtime);
  }

  /** A fleet push settled (committed or rolled back): the counters of cameras it removed are forgotten. */
  forgetRemovedCameras(): void {
    this.cameras.counters.retain(this.config.cameras.filter((c) => c.enabled).map((c) => c.id));
  }

  /**
   * Graceful stop: sources end, in-flight inferences finish and are committed, `offline` is published.
   * Idempotent: a later call (a second signal) resolves when the first stop is done, not before.
   */
  stop(deadlineMs = 4000): Promise<void> {
    return (this.stopped ??= this.shutdown(deadlineMs));
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.modelRetry.cancelAll();
    const t0 = performance.now();
    this.stop$.next();
    this.stop$.complete();
    const drained = Promise.all([...this.cameras.values()].map((c) => c.done));
    await Promise.race([drained, new Promise((r) => setTimeout(r, deadlineMs * 0.6).unref())]);
    for (const c of this.cameras.values()) c.subscription?.unsubscribe();
    await this.services.stopAll();
    this.safety.close();
    this.detections$.complete();
    this.states$.complete();
    this.config$.complete();
    await Promise.allSettled([...this.detectors.values()].map((d) => d.close()));
    const left = Math.max(200, deadlineMs - (performance.now() - t0));
    await this.link?.stop(Math.min(1000, left));
    this.outbox?.close();
    this.dataDirLock?.release();
    this.lag.stop();
    if (rxConfig.onUnhandledError === this.unhandledError) rxConfig.onUnhandledError = null;
  }
}
