import type { SafetyEventMessage } from '../../pipeline/safety/event-builder.js';
import type { SafetyEventSummary } from './status-schema.js';

/**
 * The page's list of recent safety events: one entry per event id holding its latest message (a start
 * followed by its end shows as one line that ends), the most recently changed first, bounded.
 */
export class RecentSafetyEvents {
  private readonly events = new Map<string, SafetyEventSummary>();

  constructor(private readonly max = 20) {}

  add(messages: readonly SafetyEventMessage[]): void {
    for (const m of messages) {
      // Re-inserted so the map's order is the order of the latest message.
      this.events.delete(m.eventId);
      this.events.set(m.eventId, {
        eventId: m.eventId,
        camera: m.camera,
        type: m.type,
        phase: m.phase,
        start: m.start,
        end: m.end,
        ts: m.ts,
        trackIds: m.trackIds,
        labels: m.labels,
        ...(m.zone !== undefined ? { zone: m.zone } : {}),
        ...(m.rule !== undefined ? { rule: m.rule } : {}),
        ...(m.severity !== undefined ? { severity: m.severity } : {}),
        ...(m.endReason !== undefined ? { endReason: m.endReason } : {}),
        snapshot: m.snapshot,
      });
      if (this.events.size > this.max) this.events.delete(this.events.keys().next().value!);
    }
  }

  /** The most recently changed first (a start, an update or an end). */
  list(): SafetyEventSummary[] {
    return [...this.events.values()].reverse();
  }
}
