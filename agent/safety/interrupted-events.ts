import type { Logger } from '../../config/logger.js';
import type { SafetyEventMessage } from '../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../pipeline/safety/payloads.js';
import type { Topics } from '../mqtt/topics.js';
import type { Outbox } from '../outbox/outbox.js';
import { openEventNote, safetyEventPriority } from './safety-hub.js';

const OpenEventMessage = SafetyEventPayload.omit({ id: true });

/**
 * Ends the safety events an earlier process left open (killed, crashed, a power cut: no camera stop ended
 * them), so that a subscriber's alarm for one does not stay raised for ever. Each gets an `end` with
 * `endReason: interrupted`, `end` at its last message's time (the last the agent knew of it), `ts` now;
 * its note is forgotten in the same commit. Run at start, before any camera publishes. Returns the ends, for
 * the status page's list of recent events (else someone on site would not see what the crash cut short).
 */
export function endInterruptedEvents(
  outbox: Outbox,
  topics: Topics,
  log: Logger,
  now = Date.now(),
): SafetyEventMessage[] {
  const notes = outbox.notes(openEventNote(''));
  const ends: SafetyEventMessage[] = [];
  for (const note of notes) {
    const parsed = OpenEventMessage.safeParse(note.value);
    if (!parsed.success) {
      log.warn('open safety event note unreadable, forgotten', { key: note.key });
      outbox.forgetNote(note.key);
      continue;
    }
    const last = parsed.data;
    const end: SafetyEventMessage = {
      ...last,
      phase: 'end',
      ts: Math.max(now, last.ts),
      end: Math.max(last.ts, last.start),
      endReason: 'interrupted',
    };
    outbox.enqueue({
      topic: topics.camera(last.camera).events,
      priority: safetyEventPriority,
      note: { key: note.key, value: null },
      build: ({ id }) => ({ id, ...end }),
    });
    ends.push(end);
    log.info('safety event ended as interrupted', {
      camera: last.camera,
      eventId: last.eventId,
      type: last.type,
    });
  }
  return ends;
}
