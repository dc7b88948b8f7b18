import { RateMeter } from './rate-meter.js';

/**
 * Live counters of one camera, read by the status page, /metrics and the benchmark. The counts are the camera
 * id's since the agent started: a restart of the camera (a fleet push, a crash) continues them, so a
 * Prometheus counter never goes down inside one process. Rates and the last inference are per run (newRun);
 * the last frame's time is kept, so a restarted camera that delivers nothing shows its age rising.
 */
export class CameraStats {
  framesIn = 0;
  processed = 0;
  /** Frames overtaken by newer ones before inference (latest-wins). */
  dropped = 0;
  /** Frames the motion gate kept from inference (a still scene between heartbeats). */
  gated = 0;
  /** Safety-chain failures (tracking, rules); the frame's detections still go out. */
  safetyErrors = 0;
  inferenceErrors = 0;
  lastInferenceMs = 0;
  lastDetections = 0;
  /** Capture time (wall clock) of the last frame read: shown as a time. */
  lastFrameAt = 0;
  /** performance.now when it was read: its age is elapsed time, whatever the wall clock does. */
  lastFrameMono = 0;
  readonly inputRate = new RateMeter();
  readonly processedRate = new RateMeter();

  /** A new run of the camera starts (its pipeline restarted): the counts go on, the per-run readings start over. */
  newRun(): void {
    this.inputRate.clear();
    this.processedRate.clear();
    this.lastInferenceMs = 0;
    this.lastDetections = 0;
  }

  /** A frame was read from the source. */
  frameRead(ts: number, mono = performance.now()): void {
    this.lastFrameAt = ts;
    this.lastFrameMono = mono;
  }

  /** Ms since the last frame was read; undefined before the first. */
  lastFrameAgeMs(): number | undefined {
    return this.lastFrameAt ? Math.max(0, performance.now() - this.lastFrameMono) : undefined;
  }

  snapshot() {
    return {
      framesIn: this.framesIn,
      processed: this.processed,
      dropped: this.dropped,
      gated: this.gated,
      safetyErrors: this.safetyErrors,
      inferenceErrors: this.inferenceErrors,
      inputFps: round(this.inputRate.rate()),
      processedFps: round(this.processedRate.rate()),
      lastInferenceMs: round(this.lastInferenceMs),
      lastFrameAt: this.lastFrameAt,
    };
  }
}
export type CameraStatsSnapshot = ReturnType<CameraStats['snapshot']>;

const round = (v: number) => Math.round(v * 100) / 100;
