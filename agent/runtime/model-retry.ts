import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import type { Detector } from '../../models/detect/detector.js';

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

/**
 * Models that did not load at start-up while others did. Each of their cameras is reported `failed` with the
 * reason, and the model is tried again on its own timer (the delay doubles from `firstDelayMs` to
 * `maxDelayMs`) until it loads; then its cameras start. A fleet push that changes or removes the model (or
 * loads it) takes over: the retry sees that and ends.
 */
export class ModelRetry {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private cancelled = false;

  constructor(
    private readonly host: ModelRetryHost,
    private readonly firstDelayMs = 30_000,
    private readonly maxDelayMs = 600_000,
  ) {}

  failed(id: string, reason: string): void {
    const { host } = this;
    const cfg = host.config.models[id]!;
    this.report(id, reason);
    host.log.error('model could not be loaded: its cameras wait for it, the others run', {
      model: id,
      reason,
      cameras: this.camerasOf(id).map((c) => c.id),
      retryInS: this.firstDelayMs / 1000,
    });
    this.schedule(id, cfg, this.firstDelayMs);
  }

  /** Models waiting for their next attempt. */
  get waiting(): string[] {
    return [...this.timers.keys()];
  }

  cancelAll(): void {
    this.cancelled = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(id: string, cfg: ModelConfig, delayMs: number): void {
    if (this.cancelled) return;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.attempt(id, cfg, Math.min(delayMs * 2, this.maxDelayMs));
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private async attempt(id: string, cfg: ModelConfig, nextDelayMs: number): Promise<void> {
    const { host } = this;
    // Still the same model, still not loaded, agent still running.
    const wanted = () =>
      !this.cancelled && !host.isStopping && host.config.models[id] === cfg && !host.detectors.has(id);
    if (!wanted()) return;
    let detector: Detector;
    try {
      detector = await host.loadModel(id, cfg);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!wanted()) return;
      host.log.error('model still cannot be loaded', { model: id, reason, retryInS: nextDelayMs / 1000 });
      this.report(id, reason);
      this.schedule(id, cfg, nextDelayMs);
      return;
    }
    if (!wanted()) {
      await detector.close();
      return;
    }
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
