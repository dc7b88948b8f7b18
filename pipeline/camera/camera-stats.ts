import { RateMeter } from './rate-meter.js';

/** Live counters of one camera, read by the status page, health messages and the benchmark. */
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
  lastFrameAt = 0;
  readonly inputRate = new RateMeter();
  readonly processedRate = new RateMeter();

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
