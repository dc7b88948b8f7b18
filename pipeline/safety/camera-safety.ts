import type { CameraSafetyConfigInput } from '../../config/safety-schema.js';
import { CameraSafetyConfig } from '../../config/safety-schema.js';
import type { Letterbox } from '../../models/types.js';
import {
  DetectionTracker,
  type TrackedDetection,
  type TrackedFrame,
  type TrackInput,
} from '../tracking/detection-tracker.js';
import { EventBuilder, type SafetyEventMessage } from './event-builder.js';
import { ProximityRule } from './proximity-rule.js';
import { encodeSnapshot } from './snapshot-image.js';
import type { SnapshotStore } from './snapshot-store.js';
import { ZoneRules } from './zone-rules.js';

/** The part of a detection event safety reads (pipeline/camera DetectionEvent fits). */
export interface SafetyInput extends TrackInput {
  srcWidth: number;
  srcHeight: number;
  frame?: { data: Uint8Array; letterbox: Letterbox };
}

export interface CameraSafetyOptions {
  camera: string;
  config: CameraSafetyConfigInput;
  /** False for a file read faster than real time: scene time then follows the file alone. */
  realtime?: boolean;
  /** Elapsed ms, to tell a wall-clock step from elapsed time (SceneClock); default performance.now. */
  monotonic?: () => number;
  /** The model's pixel order, to colour snapshots right. */
  pixelOrder?: 'rgb' | 'bgr';
  snapshots?: SnapshotStore;
  snapshotQuality?: number;
  onSnapshotError?: (eventId: string, err: unknown) => void;
  newEventId?: () => string;
}

export interface SafetyFrame {
  /** The frame's detections with their track ids: what the detections message carries. */
  detections: TrackedDetection[];
  /** Event messages this frame caused, for `…/cameras/<camera>/events`. */
  events: SafetyEventMessage[];
  tracked: TrackedFrame;
}

/**
 * One camera's safety chain, fed every processed frame in order: tracking, then zone rules and the
 * proximity rule on the tracks, then a snapshot for every event that starts.
 */
export class CameraSafety {
  readonly config: CameraSafetyConfig;
  private readonly tracker: DetectionTracker;
  private readonly builder: EventBuilder;
  private readonly zones: ZoneRules;
  private readonly proximity: ProximityRule;
  private readonly pending = new Set<Promise<void>>();
  private lastTime = 0;

  constructor(private readonly opts: CameraSafetyOptions) {
    this.config = CameraSafetyConfig.parse(opts.config);
    this.tracker = new DetectionTracker(this.config.tracking, {
      realtime: opts.realtime ?? true,
      ...(opts.monotonic ? { monotonic: opts.monotonic } : {}),
    });
    this.builder = new EventBuilder(opts.camera, {
      snapshots: !!opts.snapshots,
      ...(opts.newEventId ? { newId: opts.newEventId } : {}),
    });
    this.zones = new ZoneRules(this.config.zones, this.config.rules, this.builder);
    this.proximity = new ProximityRule(this.config.proximity, this.builder);
  }

  process(event: SafetyInput): SafetyFrame {
    const tracked = this.tracker.track(event);
    this.lastTime = tracked.time;
    this.builder.frame = { width: event.srcWidth, height: event.srcHeight };
    this.builder.pixels = !!event.frame;
    const events = [
      ...this.zones.update(tracked.time, tracked.tracks, tracked.ended),
      ...this.proximity.update(tracked.time, tracked.tracks, tracked.ended),
    ];
    if (this.opts.snapshots && event.frame) {
      for (const m of events) if (m.phase === 'start' || m.phase === 'instant') this.snapshot(m, event.frame);
    }
    return { detections: tracked.detections, events, tracked };
  }

  /** Tracks inside each zone now (status page overlay). */
  occupancy(): { zone: string; trackIds: number[] }[] {
    return this.zones.occupancy();
  }

  /** Ends every open event, e.g. when the camera stops; `time` defaults to the last frame's scene time. */
  close(time = this.lastTime): SafetyEventMessage[] {
    return [...this.zones.close(time), ...this.proximity.close(time)];
  }

  /** Resolves when every snapshot started so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private snapshot(m: SafetyEventMessage, frame: { data: Uint8Array; letterbox: Letterbox }): void {
    const store = this.opts.snapshots!;
    // The frame's buffer goes back to the source once released: encode from a copy.
    const image = {
      data: Uint8Array.from(frame.data),
      letterbox: frame.letterbox,
      pixelOrder: this.opts.pixelOrder ?? 'rgb',
    };
    const job = encodeSnapshot(image, m.boxes, this.opts.snapshotQuality)
      .then((jpeg) => store.put(m.eventId, jpeg))
      .catch((err: unknown) => this.opts.onSnapshotError?.(m.eventId, err))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }
}
