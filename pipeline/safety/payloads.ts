import { z } from 'zod';

/**
 * `<base>/<site>/<device>/cameras/<camera>/events` (docs/safety.md): one message per phase of a safety
 * event, through the outbox at priority 2. Start and end of one event share `eventId`; `id` is the
 * message's own dedupe key (delivery is at least once).
 */

const EpochMs = z.number().int().nonnegative();

export const safetyEventTypes = [
  'zone_enter',
  'zone_leave',
  'zone_dwell',
  'zone_count',
  'person_near_forklift',
] as const;
export const SafetyEventType = z.enum(safetyEventTypes);
export type SafetyEventType = z.infer<typeof SafetyEventType>;

/** start → (update …) → end for events with a duration; `instant` for one-off events (zone_leave). */
export const eventPhases = ['start', 'update', 'end', 'instant'] as const;
export const EventPhase = z.enum(eventPhases);
export type EventPhase = z.infer<typeof EventPhase>;

export const severities = ['low', 'medium', 'high'] as const;
export const Severity = z.enum(severities);
export type Severity = z.infer<typeof Severity>;

/** `interrupted`: the agent ended without closing the event (a crash, a power cut); sent at its next start. */
export const endReasons = ['left', 'cleared', 'track-lost', 'below-max', 'stopped', 'interrupted'] as const;
export const EndReason = z.enum(endReasons);
export type EndReason = z.infer<typeof EndReason>;

export const EventBox = z.strictObject({
  trackId: z.number().int().positive(),
  label: z.string(),
  /** Source pixels, as last seen. */
  box: z.strictObject({ x1: z.number(), y1: z.number(), x2: z.number(), y2: z.number() }),
});
export type EventBox = z.infer<typeof EventBox>;

export const SafetyEventPayload = z.strictObject({
  /** Unique per message (dedupe key). */
  id: z.string().min(1),
  /** Unique per event: the start, updates and end of one event share it. */
  eventId: z.string().min(1),
  camera: z.string(),
  type: SafetyEventType,
  phase: EventPhase,
  /** Scene time of the frame that caused this message, epoch ms. */
  ts: EpochMs,
  start: EpochMs,
  /** Set on `end` and `instant`; null while the event lasts. */
  end: EpochMs.nullable(),
  trackIds: z.array(z.number().int().positive()).min(1),
  labels: z.array(z.string()),
  /** The zone and rule for zone events. */
  zone: z.string().optional(),
  rule: z.string().optional(),
  /** person_near_forklift: how close (highest so far) and the smallest foot-to-box distance, source pixels. */
  severity: Severity.optional(),
  distancePx: z.number().nonnegative().optional(),
  /** zone_count: tracks inside now (peak so far on `end`). */
  count: z.number().int().nonnegative().optional(),
  /** zone_dwell: seconds inside so far (in all, on `end`). */
  dwellS: z.number().nonnegative().optional(),
  endReason: EndReason.optional(),
  boxes: z.array(EventBox),
  frame: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
  /** Path of the JPEG taken when the event began, on the status page; null when snapshots are off. */
  snapshot: z.string().nullable(),
});
export type SafetyEventPayload = z.infer<typeof SafetyEventPayload>;
