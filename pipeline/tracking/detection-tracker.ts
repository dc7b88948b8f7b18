import { TrackingConfig } from '../../config/safety-schema.js';
import type { Detection, DetectionResult } from '../../models/types.js';
import { ByteTracker } from './byte-tracker.js';
import { SceneClock } from './scene-clock.js';
import type { TrackView } from './track.js';

/** A detection with the id of the track it belongs to (absent: not part of a reported track yet). */
export type TrackedDetection = Detection & { trackId?: number };

/** What one processed frame looks like after tracking. */
export interface TrackedFrame {
  /** Scene time, epoch ms (see SceneClock). */
  time: number;
  /** The frame's detections, same order, with `trackId` where they belong to a reported track. */
  detections: TrackedDetection[];
  /** Every reported track now, tracked and lost. */
  tracks: TrackView[];
  /** Tracks forgotten on this frame. */
  ended: TrackView[];
}

/** The part of a detection event tracking reads. */
export interface TrackInput {
  ts: number;
  pts: number;
  result: Pick<DetectionResult, 'detections'>;
}

/**
 * One camera's tracker, fed every processed frame in capture order: `track(event)` after detection and
 * before the detections are published, so their messages carry track ids.
 */
export class DetectionTracker {
  private readonly tracker: ByteTracker;
  private readonly clock: SceneClock;
  readonly cfg: TrackingConfig;

  constructor(
    cfg: Partial<TrackingConfig> = {},
    opts: { realtime?: boolean; monotonic?: () => number } = {},
  ) {
    this.cfg = TrackingConfig.parse(cfg);
    this.tracker = new ByteTracker(this.cfg);
    this.clock = new SceneClock(opts.realtime ?? true, opts.monotonic);
  }

  track(event: TrackInput): TrackedFrame {
    let time = this.clock.advance(event.ts, event.pts);
    // A wall-clock step joins scene time only while no track (lost ones included) is timed: every zone
    // occupancy, dwell and open event hangs on a track, and none may last the step (SceneClock).
    if (this.clock.pendingStepMs !== 0 && this.tracker.size === 0) time = this.clock.resync();
    const detections = event.result.detections;
    if (!this.cfg.enabled) return { time, detections: [...detections], tracks: [], ended: [] };
    const { ids, tracks, ended } = this.tracker.update(detections, time / 1000);
    return {
      time,
      detections: detections.map((d, i) => (ids[i] === undefined ? { ...d } : { ...d, trackId: ids[i] })),
      tracks,
      ended,
    };
  }
}
