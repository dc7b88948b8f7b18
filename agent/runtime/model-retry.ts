import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import type { Detector } from '../../models/detect/detector.js';
import { canonicalJson } from '../fleet/canonical-json.js';

/** What the retry needs of the agent. */
export interface ModelRetryHost {
  readonly config: VigilConfig;
  readonly detectors: Map<string, Detector>;
  readonly log: Logger;
  readonly isStopping: boolean;
  loadModel(id: string, cfg: ModelConfig): Promise<Detector>;
  startCamera(camera: CameraConfig): void;
  cameraFailed(camera: CameraConfig, reason: string): void;
}

/** A model being retried: the config it is tried with and why it last failed. */
export interface FailingModel {
  cfg: ModelConfig;
  reason: string;
}

interface Entry extends FailingModel {
  timer?: NodeJS.Timeout;
}

const sameModel = (a: ModelConfig | undefined, b: ModelConfig) =>
  !!a && canonicalJson(a) === canonicalJson(b);

/**
 * Models that did not load at start-up while others did. Each of their cameras is reported `failed` with the
 * reason, and the model is tried again on its own timer (the delay doubles from `firstDelayMs` to
 * `maxDelayMs`) until it loads; then its cameras start, with the config the agent runs then.
 *
 * A fleet apply and the attempts never overlap: the apply holds `pause()` from its plan to its commit or
 * rollback, and an attempt that comes due meanwhile waits for it. After an applied push, `follow()` drops
 * the models the new config loaded or no longer needs and retries the others with the new config.
 */
export class ModelRetry {
  private readonly entries = new Map<string, Entry>();
  /** Attempts and fleet applies, one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private cancelled = false;

  constructor(
    private readonly host: ModelRetryHost,
    private readonly firstDelayMs = 30_000,
    private readonly maxDelayMs = 600_000,
  ) {}

  failed(id: string, reason: string): void {
    const { host } = this;
    const entry: Entry = { cfg: host.config.models[id]!, reason };
    this.entries.set(id, entry);
    this.report(id, reason);
    host.log.error('model could not be loaded: its cameras wait for it, the others run', {
      model: id,
      reason,
      cameras: this.camerasOf(id).map((c) => c.id),
      retryInS: this.firstDelayMs / 1000,
    });
    this.schedule(id, entry, this.firstDelayMs);
  }

  /** Models waiting for their next attempt. */
  get waiting(): string[] {
    return [...this.entries].filter(([, e]) => e.timer).map(([id]) => id);
  }

  /** Models being retried (waiting or mid-attempt). */
  failing(): ReadonlyMap<string, FailingModel> {
    return new Map([...this.entries].map(([id, { cfg, reason }]) => [id, { cfg, reason }]));
  }

  /**
   * Holds every attempt until the returned function is called; resolves once an attempt in progress has
   * ended (it may have loaded its model and started its cameras: the caller sees that).
   */
  pause(): Promise<() => void> {
    return new Promise((held) => {
      void this.exclusive(() => new Promise<void>((release) => held(() => release())));
    });
  }

  /** Reports a camera of a failing model `failed` with that model's latest reason (false: not failing). */
  reportWaiting(camera: CameraConfig): boolean {
    const entry = this.entries.get(camera.model);
    if (entry) this.host.cameraFailed(camera, entry.reason);
    return !!entry;
  }

  /**
   * After a fleet push ran healthy: a model it loaded, or that no enabled camera of the new config uses, is
   * not retried any more; the others are retried with the new config's settings for them.
   */
  follow(): void {
    const { host } = this;
    for (const [id, entry] of this.entries) {
      const cfg = host.config.models[id];
      const used = host.config.cameras.some((c) => c.enabled && c.model === id);
      if (cfg && used && !host.detectors.has(id)) {
        entry.cfg = cfg;
        continue;
      }
      clearTimeout(entry.timer);
      this.entries.delete(id);
      const why = host.detectors.has(id) ? 'loaded by a fleet push' : 'no camera uses it any more';
      host.log.info('model retry stopped', { model: id, why });
    }
  }

  cancelAll(): void {
    this.cancelled = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private schedule(id: string, entry: Entry, delayMs: number): void {
    if (this.cancelled) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.exclusive(() => this.attempt(id, entry, Math.min(delayMs * 2, this.maxDelayMs)));
    }, delayMs);
    entry.timer.unref();
  }

  private async attempt(id: string, entry: Entry, nextDelayMs: number): Promise<void> {
    const { host } = this;
    // Still retried (a push did not take it over), still not loaded, agent still running.
    const wanted = () =>
      !this.cancelled &&
      !host.isStopping &&
      this.entries.get(id) === entry &&
      sameModel(host.config.models[id], entry.cfg) &&
      !host.detectors.has(id);
    if (!wanted()) return;
    let detector: Detector;
    try {
      detector = await host.loadModel(id, entry.cfg);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!wanted()) return;
      host.log.error('model still cannot be loaded', { model: id, reason, retryInS: nextDelayMs / 1000 });
      entry.reason = reason;
      this.report(id, reason);
      this.schedule(id, entry, nextDelayMs);
      return;
    }
    if (!wanted()) {
      await detector.close();
      return;
    }
    this.entries.delete(id);
    host.detectors.set(id, detector);
    for (const camera of this.camerasOf(id)) host.startCamera(camera);
  }

  private report(id: string, reason: string): void {
    for (const camera of this.camerasOf(id)) this.host.cameraFailed(camera, reason);
  }

  private camerasOf(id: string): CameraConfig[] {
    return this.host.config.cameras.filter((c) => c.enabled && c.model === id);
  }
}
