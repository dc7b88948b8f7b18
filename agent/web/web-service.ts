import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { createLogger, type Logger } from '../../config/logger.js';
import type { HttpConfig } from '../../config/schema.js';
import type { Agent } from '../runtime/agent.js';
import type { AgentService, ServiceFailed } from '../runtime/services.js';
import { AgentMetrics } from './agent-metrics.js';
import { HttpAuth } from './auth.js';
import {
  DetectEndpoint,
  defaultDetectLimits,
  defaultDetectModel,
  type DetectLimits,
} from './detect-endpoint.js';
import { HealthSampler } from './health-sampler.js';
import { WebServer } from './http-server.js';
import { LabelCounts } from './label-counts.js';
import { RecentErrors } from './recent-errors.js';
import { RecentSafetyEvents } from './recent-safety-events.js';
import { SnapshotRenderer } from './snapshot-renderer.js';
import { SnapshotFeed } from './snapshot-feed.js';
import { SseHub } from './sse-hub.js';
import { StaticAssets } from './static-assets.js';
import { statusModel } from './status-model.js';
import type { StatusPayload } from './status-schema.js';
import { webRoutes } from './web-routes.js';
import type { CameraStats } from '../../pipeline/camera/camera-stats.js';

export interface WebServiceOptions {
  log?: Logger;
  /** How often open pages get a fresh status (default 1 s). */
  tickMs?: number;
  /** `POST /api/detect` limits beyond the config's (`http.uploadTimeoutS`); defaults: defaultDetectLimits. */
  detectLimits?: Partial<Omit<DetectLimits, 'uploadTimeoutMs'>>;
}

/**
 * The local status page, its API and /metrics, as an agent service. Work happens only when someone
 * looks: the status is built once per tick while a page is open, snapshots render on request.
 */
export class WebService implements AgentService {
  readonly name = 'web';
  address: AddressInfo | undefined;
  /** Snapshots rendered so far (benchmarks count them). */
  get snapshotsRendered(): number {
    return this.snapshots?.rendered ?? 0;
  }
  private snapshots: SnapshotRenderer | undefined;
  private server: WebServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private subscriptions: Subscription[] = [];
  /** Camera ids the page keeps something of (counts, snapshots), for tests: none of a removed camera. */
  rememberedCameras: () => string[] = () => [];
  private readonly assets = new StaticAssets();

  constructor(
    private readonly cfg: HttpConfig,
    private readonly opts: WebServiceOptions = {},
  ) {}

  async start(agent: Agent, failed: ServiceFailed): Promise<void> {
    const log = this.opts.log ?? createLogger({ level: agent.config.logLevel }).child({ component: 'web' });
    const labels = new LabelCounts();
    const errors = new RecentErrors();
    const metrics = new AgentMetrics(agent);
    const health = new HealthSampler({ dataDir: agent.config.dataDir });
    const events = new SseHub();
    metrics.eventStreams = () => events.size;
    const tickMs = this.opts.tickMs ?? 1000;
    // A little under a tick: a tick that comes a few ms early still gets a new frame.
    const snapshots = new SnapshotRenderer({ minIntervalMs: tickMs * 0.9 });
    this.snapshots = snapshots;
    const auth = new HttpAuth(this.cfg.auth);
    const detectLimits: DetectLimits = {
      ...defaultDetectLimits,
      ...this.opts.detectLimits,
      uploadTimeoutMs: this.cfg.uploadTimeoutS * 1000,
    };
    /**
     * Inference errors already listed, by the camera's counters: a restarted camera keeps its counters (a push
     * rolled back included), one removed and added back gets new ones. Weak: nothing to forget.
     */
    const seen = new WeakMap<CameraStats, number>();
    const detect = new DetectEndpoint(
      agent.detectors,
      detectLimits,
      (m) => errors.add('api', m),
      () => defaultDetectModel(agent.config.cameras, agent.detectors),
    );
    const safetyEvents = new RecentSafetyEvents();
    // What a crash cut short, ended at this start: the list says so, not "no events".
    safetyEvents.add(agent.safety.interrupted);
    const feed = new SnapshotFeed(agent, snapshots, events);
    // Built at most once per tick and shared: ten pages polling or listening cost one build and one stringify.
    // `at` is performance.now: on the wall clock a step back served one stale status for as long as the step.
    let built: { at: number; payload: StatusPayload; json: string } | undefined;
    const build = () => {
      const now = Date.now();
      const at = performance.now();
      const payload = statusModel(agent, {
        now,
        health: health.read(),
        errors: errors.list(),
        labels,
        safetyEvents: safetyEvents.list(),
        snapshotGeometry: (lb) => snapshots.geometry(lb),
        pm25Levels: this.cfg.pm25Levels,
      });
      return (built = { at, payload, json: JSON.stringify(payload) });
    };
    const current = () => (built && performance.now() - built.at < tickMs ? built : build());
    const status = (): StatusPayload => current().payload;
    const statusJson = (): string => current().json;

    // Cameras start before services: one that failed or stalled already (a missing file fails at once)
    // sent its state before this subscription, and the list would say "no errors" beside a failed tile.
    for (const cam of [...agent.cameras.values()].sort((a, b) => a.state.since - b.state.since))
      if ((cam.state.state === 'stalled' || cam.state.state === 'failed') && cam.state.reason)
        errors.add('camera', cam.state.reason, cam.state.camera, cam.state.since);
    this.subscriptions = [
      agent.detections$.subscribe((e) => {
        labels.add(e.camera, e.result.detections);
        metrics.observe(e);
        if (e.safetyEvents?.length) safetyEvents.add(e.safetyEvents);
      }),
      agent.states$.subscribe((s) => {
        if ((s.state === 'stalled' || s.state === 'failed') && s.reason)
          errors.add('camera', s.reason, s.camera);
      }),
      // A camera a push removed: its counts and snapshots go with it (they stayed, one set per id ever had).
      agent.config$.subscribe((config) => {
        const ids = new Set(config.cameras.map((c) => c.id));
        for (const id of this.rememberedCameras().filter((x) => !ids.has(x))) {
          labels.forget(id);
          snapshots.forget(id);
          feed.forget(id);
        }
      }),
    ];
    this.rememberedCameras = () =>
      [...new Set([...labels.cameraIds, ...snapshots.cameras, ...feed.cameras])].sort();
    let linkErrorAt = 0;
    let dropsSeen = sumDrops(agent);
    const watchForErrors = () => {
      // The link may be created after services start on a config reload: look it up each tick.
      const lastError = agent.link?.state.lastError;
      if (lastError && lastError.at !== linkErrorAt) {
        linkErrorAt = lastError.at;
        errors.add('mqtt', lastError.message);
      }
      for (const [id, cam] of agent.cameras) {
        const n = cam.stats.inferenceErrors;
        const listed = seen.get(cam.stats) ?? 0;
        if (n > listed) errors.add('inference', `${n - listed} frame(s) failed inference`, id);
        seen.set(cam.stats, n);
      }
      const drops = sumDrops(agent);
      if (drops > dropsSeen)
        errors.add('outbox', `${drops - dropsSeen} message(s) dropped (outbox full or refused)`);
      dropsSeen = drops;
    };
    await health.refresh();
    this.timer = setInterval(() => {
      // A throw out of a timer would end the agent: the supervisor restarts this service instead.
      try {
        watchForErrors();
        if (!events.size) return;
        const json = build().json;
        events
          .batch(async () => {
            events.broadcast('status', json);
            await feed.tick();
          })
          .catch((err: unknown) =>
            errors.add('api', `snapshot push failed: ${err instanceof Error ? err.message : String(err)}`),
          );
      } catch (err) {
        failed(`status tick: ${err instanceof Error ? err.message : String(err)}`);
      }
    }, tickMs);
    this.timer.unref();

    const server = new WebServer({
      host: this.cfg.host,
      port: this.cfg.port,
      auth,
      log,
      routes: webRoutes({
        agent,
        status,
        statusJson,
        metrics,
        auth,
        assets: this.assets,
        snapshots,
        events,
        feed,
        detect,
        log,
      }),
      onRequest: (route, code) => metrics.countRequest(route, code),
      onFailure: failed,
    });
    this.server = server;
    this.stopEvents = () => events.closeAll();
    try {
      this.address = await server.listen();
    } catch (err) {
      // Not listening (port taken…): the supervisor starts it again later; nothing of this try may stay.
      await this.stop();
      throw err;
    }
    const host = this.address.address.includes(':') ? `[${this.address.address}]` : this.address.address;
    log.info('status page listening', { url: `http://${host}:${this.address.port}/`, auth: auth.enabled });
  }

  private stopEvents: () => void = () => {};

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
    this.stopEvents();
    await this.server?.close();
    this.server = undefined;
  }
}

/** Outbox drops counted in total (they are cleared once reported, so a drop shows as the count falling too). */
function sumDrops(agent: Agent): number {
  const outbox = agent.outbox as Agent['outbox'] | undefined;
  return outbox ? Object.values(outbox.drops()).reduce((a, b) => a + b, 0) : 0;
}
