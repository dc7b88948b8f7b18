import path from 'node:path';
import type { Logger } from '../../config/logger.js';
import { SafetyConfig } from '../../config/safety-schema.js';
import type { CameraConfig, VigilConfig } from '../../config/schema.js';
import type { DetectorInfo } from '../../models/types.js';
import { wallClockScene } from '../../pipeline/camera/camera-pipeline.js';
import { CameraSafety } from '../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../pipeline/safety/event-builder.js';
import type { SafetyEventPayload } from '../../pipeline/safety/payloads.js';
import { SnapshotStore } from '../../pipeline/safety/snapshot-store.js';
import type { Topics } from '../mqtt/topics.js';
import type { Outbox } from '../outbox/outbox.js';

/** Safety events outrank detections (0) and states (1): under a full outbox they are the last to go. */
export const safetyEventPriority = 2;

/** Age bound of the snapshot store is enforced on every new snapshot and at least this often. */
const pruneEveryMs = 10 * 60_000;

/**
 * The agent's side of safety (docs/safety.md): one safety chain per camera (tracker, zone and proximity
 * rules), the event snapshot store they write to, and the snapshot lookup behind
 * `/api/events/:id/snapshot.jpg`. Events themselves ride on the detection events and are published by
 * `enqueueSafetyEvents` right after the frame's detections.
 */
export class SafetyHub {
  private store: SnapshotStore | undefined;
  private cfg = SafetyConfig.parse({});
  private pruneTimer: NodeJS.Timeout | undefined;
  /** Snapshots that could not be encoded or written (the event still went out, its JPEG is missing). */
  snapshotErrors = 0;
  /** Events an earlier process left open, ended as `interrupted` at this start (for the status page). */
  interrupted: readonly SafetyEventMessage[] = [];

  constructor(private readonly log: Logger) {}

  /** Opens the snapshot store under the data dir (when snapshots are on). */
  open(config: VigilConfig): void {
    this.cfg = config.safety ?? SafetyConfig.parse({});
    const s = this.cfg.snapshots;
    if (!s.enabled) return;
    this.store = SnapshotStore.open(path.resolve(config.dataDir, s.dir), {
      maxCount: s.maxCount,
      maxBytes: Math.round(s.maxMiB * 1024 * 1024),
      maxAgeMs: s.maxAgeHours * 3600_000,
    });
    // Limits lowered since the last run apply now, not at the first event or tick.
    void this.store.prune().catch(() => undefined);
    this.pruneTimer = setInterval(() => void this.store?.prune().catch(() => undefined), pruneEveryMs);
    this.pruneTimer.unref();
  }

  /** A camera's safety chain; none when its tracking is off (its detections then carry no track ids). */
  forCamera(camera: CameraConfig, info: DetectorInfo): CameraSafety | undefined {
    if (!camera.tracking.enabled) return undefined;
    const { zones, rules, proximity, tracking, motion, priority } = camera;
    return new CameraSafety({
      camera: camera.id,
      config: { zones, rules, proximity, tracking, motion, priority },
      realtime: wallClockScene(camera),
      pixelOrder: info.input.pixelOrder,
      snapshotQuality: this.cfg.snapshots.quality,
      ...(this.store ? { snapshots: this.store } : {}),
      onSnapshotError: (eventId, err) => {
        this.snapshotErrors++;
        this.log.warn('event snapshot failed', {
          camera: camera.id,
          eventId,
          reason: err instanceof Error ? err.message : String(err),
        });
      },
    });
  }

  /** The JPEG taken when an event began, or undefined (snapshots off, never taken, or pruned). */
  snapshot(eventId: string): Promise<Buffer | undefined> {
    return this.store ? this.store.get(eventId) : Promise.resolve(undefined);
  }

  close(): void {
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
  }
}

/**
 * Commits a frame's safety event messages to the outbox (`…/cameras/<camera>/events`, priority 2). An event
 * that starts is noted in the same commit and forgotten in its end's, so that one a crash left open is
 * ended at the next start (interrupted-events.ts).
 */
export function enqueueSafetyEvents(
  outbox: Outbox,
  topics: Topics,
  messages: readonly SafetyEventMessage[],
): void {
  for (const m of messages) {
    const open = m.phase === 'start' || m.phase === 'update';
    outbox.enqueue({
      topic: topics.camera(m.camera).events,
      priority: safetyEventPriority,
      ...(m.phase !== 'instant' && { note: { key: openEventNote(m.eventId), value: open ? m : null } }),
      build: ({ id }): SafetyEventPayload => ({ id, ...m }),
    });
  }
}

/** The outbox note of an open event: its latest message. */
export const openEventNote = (eventId: string) => `open-event:${eventId}`;
