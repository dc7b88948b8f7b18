import { catchError, EMPTY, filter, type Observable, takeUntil, tap } from 'rxjs';
import type { CameraConfig } from '../../config/schema.js';
import type { Logger } from '../../config/logger.js';
import type { DetectionResult, DetectorInfo, InputFrame } from '../../models/types.js';
import { latestWins } from '../operators/latest-wins.js';
import { cameraFrames, type CameraFrame } from './camera-frames.js';
import type { CameraState } from './camera-state.js';
import { CameraStats } from './camera-stats.js';
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
  result: DetectionResult;
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
}

/**
 * camera frames → latest-wins inference → detection events. Inference failures are counted and logged
 * and the frame skipped; a source that cannot be fixed by retrying ends this camera only.
 */
export function cameraPipeline(opts: CameraPipelineOptions): Observable<DetectionEvent> {
  const { camera, detector, log } = opts;
  const stats = opts.stats ?? new CameraStats();
  const concurrency = Math.max(1, detector.info.workers);
  return cameraFrames({
    camera,
    spec: detector.info.input,
    maxOutstanding: concurrency + 1,
    log,
    onState: opts.onState,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  }).pipe(
    takeUntil(opts.stop$),
    tap((frame) => {
      stats.framesIn++;
      stats.lastFrameAt = frame.ts;
      stats.inputRate.mark();
    }),
    catchError((err: unknown) => {
      log.error('camera source ended', { reason: err instanceof Error ? err.message : String(err) });
      return EMPTY;
    }),
    latestWins(
      async (frame: CameraFrame): Promise<DetectionEvent | null> => {
        try {
          const result = await detector.detect(frame, camera.id);
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
        },
      },
    ),
    filter((e): e is DetectionEvent => e !== null),
  );
}
