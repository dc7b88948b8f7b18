import { catchError, EMPTY, filter, map, type Observable, takeUntil, tap } from 'rxjs';
import type { CameraConfig } from '../../config/schema.js';
import type { Logger } from '../../config/logger.js';
import type { DetectionResult, DetectorInfo, InputFrame } from '../../models/types.js';
import { MotionGate } from '../motion/motion-gate.js';
import { latestWins } from '../operators/latest-wins.js';
import type { CameraSafety } from '../safety/camera-safety.js';
import type { SafetyEventMessage } from '../safety/event-builder.js';
import { sourceKindOf } from '../source/source-kinds.js';
import { cameraFrames, type CameraFrame } from './camera-frames.js';
import type { CameraState } from './camera-state.js';
import { CameraStats } from './camera-stats.js';
import { applyIgnoreMasks } from './ignore-masks.js';
import { withTiling } from './tiled-detector.js';
import type { BackoffOptions } from './backoff.js';

/** What the pipeline needs of a detector (models/detect/detector.ts provides it). */
export interface FrameDetector {
  readonly info: DetectorInfo;
  detect(frame: InputFrame, key?: string): Promise<DetectionResult>;
}

/** One processed frame: what was seen, when, and by which model on which provider. */
export interface DetectionEvent {
  camera: string;
  frameNo: number;
  ts: number;
  pts: number;
  srcWidth: number;
  srcHeight: number;
  modelId: string;
  provider: string;
  /** With a safety chain, each detection of a reported track carries its `trackId`. */
  result: DetectionResult;
  /** Safety events this frame started, updated or ended (`…/cameras/<camera>/events`); absent without one. */
  safetyEvents?: SafetyEventMessage[];
  /** The frame's pixels at model input size (letterboxed), for snapshots and image statistics. */
  frame: CameraFrame;
}

export interface CameraPipelineOptions {
  camera: CameraConfig;
  detector: FrameDetector;
  log: Logger;
  onState: (state: CameraState) => void;
  /** Emits once to stop: sources end, in-flight inferences finish, then the stream completes. */
  stop$: Observable<unknown>;
  stats?: CameraStats;
  backoff?: BackoffOptions;
  /** Tracking and the zone and proximity rules, fed every processed frame in capture order. */
  safety?: CameraSafety;
  /** The `stopped` reason once stop$ has stopped the camera (default `agent stopping`). */
  stopReason?: () => string;
}

/** Scene time follows the wall clock, except for a file read faster than real time (then its pts). */
export const wallClockScene = (camera: CameraConfig) =>
  !(sourceKindOf(camera.source).finite && !camera.realtime);

/**
 * camera frames → motion gate → latest-wins inference → tracking and safety rules → detection events.
 * The gate (when `camera.motion.enabled`) sees every frame in order and lets through only those worth an
 * inference; the safety chain sees every processed frame in order (latest-wins keeps input order).
 * Inference failures are counted and logged and the frame skipped; a source that cannot be fixed by
 * retrying ends this camera only.
 */
export function cameraPipeline(opts: CameraPipelineOptions): Observable<DetectionEvent> {
  const { camera, log } = opts;
  // With `detect.tiles`, frames come at source resolution and each runs as tiles (tiled-detector.ts).
  const detector = withTiling(opts.detector, camera.detect?.tiles);
  const stats = opts.stats ?? new CameraStats();
  const concurrency = Math.max(1, detector.info.workers);
  const gate = camera.motion.enabled
    ? new MotionGate(camera.motion, { realtime: wallClockScene(camera) })
    : undefined;
  return cameraFrames({
    camera,
    spec: detector.frameSpec ?? detector.info.input,
    // Exactly the frames latest-wins can hold (in work + one waiting): one more and, reading a file at full
    // speed, ffmpeg runs ahead and latest-wins drops what it decoded (measured: 1,383 drops in 12 s).
    maxOutstanding: concurrency + 1,
    // Every frame read so far had a number below this: the status page's snapshot `frameNo` keeps rising.
    firstFrameNo: stats.framesIn,
    log,
    onState: opts.onState,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.stopReason ? { stopReason: opts.stopReason } : {}),
  }).pipe(
    takeUntil(opts.stop$),
    tap((frame) => {
      stats.framesIn++;
      stats.frameRead(frame.ts);
      stats.inputRate.mark();
    }),
    catchError((err: unknown) => {
      log.error('camera source ended', { reason: err instanceof Error ? err.message : String(err) });
      return EMPTY;
    }),
    filter((frame) => {
      if (!gate || gate.shouldInfer(frame)) return true;
      stats.gated++;
      frame.release();
      frame.recycle();
      return false;
    }),
    latestWins(
      async (frame: CameraFrame): Promise<DetectionEvent | null> => {
        try {
          const result = await detector.detect(frame, camera.id);
          result.detections = applyIgnoreMasks(result.detections, camera.detect?.ignore);
          stats.processed++;
          stats.processedRate.mark();
          stats.lastInferenceMs = result.inferenceMs;
          stats.lastDetections = result.detections.length;
          return {
            camera: camera.id,
            frameNo: frame.frameNo,
            ts: frame.ts,
            pts: frame.pts,
            srcWidth: frame.letterbox.srcWidth,
            srcHeight: frame.letterbox.srcHeight,
            modelId: detector.info.modelId,
            provider: detector.info.provider,
            result,
            frame,
          };
        } catch (err) {
          stats.inferenceErrors++;
          log.warn('inference failed, frame skipped', {
            reason: err instanceof Error ? err.message : String(err),
          });
          frame.recycle();
          return null;
        } finally {
          frame.release();
        }
      },
      {
        concurrency,
        onDrop: (frame) => {
          stats.dropped++;
          frame.release();
          frame.recycle();
        },
      },
    ),
    filter((e): e is DetectionEvent => e !== null),
    map((event) => (opts.safety ? withSafety(event, opts.safety, stats, log) : event)),
  );
}

/** Adds track ids and the frame's safety events; a failure there costs the events, never the detections. */
function withSafety(event: DetectionEvent, safety: CameraSafety, stats: CameraStats, log: Logger) {
  try {
    const s = safety.process(event);
    return { ...event, result: { ...event.result, detections: s.detections }, safetyEvents: s.events };
  } catch (err) {
    stats.safetyErrors++;
    log.warn('safety rules failed on a frame', { reason: err instanceof Error ? err.message : String(err) });
    return event;
  }
}
