import type { Subscription } from 'rxjs';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { ShadowConfig } from './fleet-document.js';
import type { FleetDetector, FleetHost } from './fleet-host.js';
import { ShadowReportPayload } from './fleet-payloads.js';
import { candidateFrame } from './shadow-frame.js';
import { ShadowStats } from './shadow-stats.js';

/**
 * A candidate model in shadow: on `share` of each trial camera's processed frames it runs on the same
 * pixels as the current model, and the two results are compared (shadow-stats.ts). The candidate never
 * delays the camera: a frame that arrives while the camera's previous shadow run is busy is skipped and
 * counted. The agreement report is published retained on `…/config/shadow` every `reportIntervalS`.
 */
export class ShadowTrial {
  readonly stats: ShadowStats;
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  private readonly credit = new Map<string, number>();
  private warned = false;

  constructor(
    private readonly host: FleetHost,
    readonly cfg: ShadowConfig,
    private readonly revision: number,
    private readonly topic: string,
  ) {
    this.stats = new ShadowStats(cfg.iou);
  }

  start(): void {
    const cameras = this.cfg.cameras ? new Set(this.cfg.cameras) : undefined;
    this.sub = this.host.detections$.subscribe((e) => {
      if ((cameras && !cameras.has(e.camera)) || e.modelId === this.cfg.candidate) return;
      // Every 1/share-th frame, spread evenly (a share of 0.25 runs on frames 4, 8, 12, …).
      const credit = (this.credit.get(e.camera) ?? 0) + this.cfg.share;
      // With a tolerance: ten additions of 0.1 make 0.9999999999999999 (frame 11, not 10).
      const due = credit >= 1 - 1e-9;
      this.credit.set(e.camera, due ? credit - 1 : credit);
      if (!due) return;
      if (this.busy.has(e.camera)) {
        this.stats.skipped++;
        return;
      }
      const current = this.host.detectors.get(e.modelId);
      const candidate = this.host.detectors.get(this.cfg.candidate);
      if (!current || !candidate) return;
      this.busy.add(e.camera);
      void this.run(e, current, candidate).finally(() => this.busy.delete(e.camera));
    });
    this.timer = setInterval(() => this.report(), this.cfg.reportIntervalS * 1000);
    this.timer.unref();
    this.host.log.info('fleet: shadow trial started', {
      candidate: this.cfg.candidate,
      share: this.cfg.share,
    });
  }

  private async run(e: DetectionEvent, current: FleetDetector, candidate: FleetDetector): Promise<void> {
    try {
      const frame = await candidateFrame(
        e.frame.data,
        e.frame.letterbox,
        current.info.input,
        candidate.info.input,
      );
      const result = await candidate.detect(frame, `shadow/${e.camera}`);
      this.stats.add(e.result.detections, result.detections, {
        current: e.result.inferenceMs,
        candidate: result.inferenceMs,
      });
    } catch (err) {
      this.stats.skipped++;
      if (!this.warned) {
        this.warned = true;
        this.host.log.warn('fleet: shadow inference failed', {
          candidate: this.cfg.candidate,
          reason: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  publish(): void {
    const { config, outbox, link } = this.host;
    outbox.enqueue({
      topic: this.topic,
      priority: 1,
      retain: true,
      coalesceKey: 'fleet/shadow',
      build: ({ ts }) =>
        ShadowReportPayload.parse({
          site: config.site,
          device: config.device,
          revision: this.revision,
          candidate: this.cfg.candidate,
          ...this.stats.report(),
          ts,
        }),
    });
    link?.notify();
  }

  /**
   * publish(), from the timer and at stop: a report the outbox refuses (closed, full disk) is logged and the
   * next one tries again; thrown out of a timer it would end the agent.
   */
  private report(): void {
    try {
      this.publish();
    } catch (err) {
      this.host.log.warn('fleet: shadow report not queued', {
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Stops sampling; the final report is published. */
  stop(): void {
    this.sub?.unsubscribe();
    clearInterval(this.timer);
    if (this.stats.frames) this.report();
  }
}
