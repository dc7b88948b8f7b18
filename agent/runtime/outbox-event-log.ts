import type { Logger } from '../../config/logger.js';
import type { OutboxEvent } from '../outbox/outbox.js';

/**
 * Outbox events to the log, each as a warning. A full disk refuses every new message, several a second, and
 * the log is often on that same disk: per topic, the first refusal is logged, then at most one every
 * `everyMs`, with how many were left out since the previous line. The `drops` report counts every one.
 */
export function outboxEventLogger(
  log: Logger,
  everyMs = 10_000,
  // Monotonic: on the wall clock a step back silenced a full disk's refusals for as long as the step.
  now = () => performance.now(),
): (e: OutboxEvent) => void {
  const byTopic = new Map<string, { lastAt: number; leftOut: number }>();
  return (e) => {
    if (e.type !== 'disk-full') {
      log.warn('outbox event', { ...e });
      return;
    }
    const t = now();
    const seen = byTopic.get(e.topic);
    if (seen && t - seen.lastAt < everyMs) {
      seen.leftOut++;
      return;
    }
    log.warn('outbox event', { ...e, ...(seen?.leftOut ? { similarLeftOut: seen.leftOut } : {}) });
    // Bounded: topics are per camera and per report kind, a few dozen at most.
    byTopic.set(e.topic, { lastAt: t, leftOut: 0 });
  };
}
