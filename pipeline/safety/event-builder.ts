import { randomUUID } from 'node:crypto';
import type { TrackView } from '../tracking/track.js';
import type { EndReason, EventBox, SafetyEventPayload, SafetyEventType, Severity } from './payloads.js';

/** A message before the outbox gives it an id. */
export type SafetyEventMessage = Omit<SafetyEventPayload, 'id'>;

/** The parts a rule decides; the builder adds ids, camera, frame size and the snapshot path. */
export interface EventFields {
  tracks: TrackView[];
  zone?: string;
  rule?: string;
  severity?: Severity;
  distancePx?: number;
  count?: number;
  dwellS?: number;
}

/** An event that has started and not ended; rules keep it and end it. */
export interface OpenEvent {
  readonly eventId: string;
  readonly type: SafetyEventType;
  readonly start: number;
  fields: EventFields;
  /** Whether its snapshot was taken: only a frame that still holds its pixels can give one. */
  readonly snapshot?: boolean;
}

/** The URL path the status page serves an event's snapshot at. */
export const snapshotPath = (eventId: string) => `/api/events/${eventId}/snapshot.jpg`;

/**
 * Builds one camera's event messages with a lifecycle: `start` opens an event, `update` reports a change
 * (severity up, count up), `end` closes it; `instant` is a one-off. All times are scene time, epoch ms.
 */
export class EventBuilder {
  /** Source frame size, set per frame (boxes in messages are in these pixels). */
  frame = { width: 1, height: 1 };
  /**
   * Whether this frame holds its pixels, set per frame: an event that starts on one without gets no snapshot
   * path, rather than a link that answers 404 for the rest of its life.
   */
  pixels = true;

  constructor(
    readonly camera: string,
    private readonly opts: { snapshots: boolean; newId?: () => string } = { snapshots: true },
  ) {}

  /** `time`: the frame's scene time; `startAt`: when the event began, if earlier (a confirmed crossing). */
  start(
    type: SafetyEventType,
    time: number,
    fields: EventFields,
    startAt = time,
  ): { event: OpenEvent; message: SafetyEventMessage } {
    const event: OpenEvent = { eventId: this.newId(), type, start: startAt, fields, snapshot: this.pixels };
    return { event, message: this.message(event, 'start', time, null) };
  }

  update(event: OpenEvent, time: number, fields: Partial<EventFields>): SafetyEventMessage {
    event.fields = { ...event.fields, ...fields };
    return this.message(event, 'update', time, null);
  }

  /** `endAt`: when the event ended, if earlier than the frame that confirms it. */
  end(
    event: OpenEvent,
    time: number,
    reason: EndReason,
    fields: Partial<EventFields> = {},
    endAt = time,
  ): SafetyEventMessage {
    event.fields = { ...event.fields, ...fields };
    return this.message(event, 'end', time, reason, endAt);
  }

  instant(type: SafetyEventType, time: number, fields: EventFields, at = time): SafetyEventMessage {
    const event: OpenEvent = { eventId: this.newId(), type, start: at, fields, snapshot: this.pixels };
    return this.message(event, 'instant', time, null, at);
  }

  private newId(): string {
    return this.opts.newId ? this.opts.newId() : randomUUID();
  }

  private message(
    event: OpenEvent,
    phase: SafetyEventMessage['phase'],
    time: number,
    reason: EndReason | null,
    endAt = time,
  ): SafetyEventMessage {
    const f = event.fields;
    const ended = phase === 'end' || phase === 'instant';
    return {
      eventId: event.eventId,
      camera: this.camera,
      type: event.type,
      phase,
      ts: Math.round(time),
      start: Math.round(event.start),
      end: ended ? Math.round(Math.max(endAt, event.start)) : null,
      trackIds: f.tracks.map((t) => t.id),
      labels: [...new Set(f.tracks.map((t) => t.label))],
      ...(f.zone !== undefined ? { zone: f.zone } : {}),
      ...(f.rule !== undefined ? { rule: f.rule } : {}),
      ...(f.severity !== undefined ? { severity: f.severity } : {}),
      ...(f.distancePx !== undefined ? { distancePx: round1(f.distancePx) } : {}),
      ...(f.count !== undefined ? { count: f.count } : {}),
      ...(f.dwellS !== undefined ? { dwellS: round1(f.dwellS) } : {}),
      ...(reason ? { endReason: reason } : {}),
      boxes: f.tracks.map(boxOf),
      frame: { ...this.frame },
      snapshot: this.opts.snapshots && event.snapshot !== false ? snapshotPath(event.eventId) : null,
    };
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function boxOf(t: TrackView): EventBox {
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    trackId: t.id,
    label: t.label,
    box: { x1: r(t.box.x1), y1: r(t.box.y1), x2: r(t.box.x2), y2: r(t.box.y2) },
  };
}
