import { describe, expect, it, vi } from 'vitest';
import type { OutboxEvent } from '../../../agent/outbox/outbox.js';
import { outboxEventLogger } from '../../../agent/runtime/outbox-event-log.js';
import { logLines } from '../../support/log-lines.js';

const diskFull = (n: number): OutboxEvent => ({
  type: 'disk-full',
  topic: `t/${n % 2}`,
  priority: 0,
  freedRows: 0,
  dropped: true,
  error: 'database or disk is full',
});

describe('outboxEventLogger', () => {
  it('per topic: the first disk-full refusal, then one per period with the count left out; others always', () => {
    const { log, lines } = logLines();
    let now = 0;
    const onEvent = outboxEventLogger(log, 10_000, () => now);
    for (let n = 0; n < 60; n++, now += 100) onEvent(diskFull(n)); // 6 s of refusals
    onEvent({ type: 'drop-counts-lost', counts: [{ reason: 'disk-full', priority: 0, count: 3 }] });
    now = 10_000; // 10 s after t/0's line
    onEvent(diskFull(60));
    now = 10_100; // and after t/1's
    onEvent(diskFull(61));
    expect(lines.map((l) => [l.level, l.msg, l.type, l.topic, l.similarLeftOut])).toEqual([
      ['warn', 'outbox event', 'disk-full', 't/0', undefined],
      ['warn', 'outbox event', 'disk-full', 't/1', undefined],
      ['warn', 'outbox event', 'drop-counts-lost', undefined, undefined],
      ['warn', 'outbox event', 'disk-full', 't/0', 29],
      ['warn', 'outbox event', 'disk-full', 't/1', 29],
    ]);
    expect(lines[0]).toMatchObject({ error: 'database or disk is full', dropped: true, priority: 0 });
    expect(lines[2]).toMatchObject({ counts: [{ reason: 'disk-full', priority: 0, count: 3 }] });
  });

  it('by default the period is elapsed time: a wall clock stepped back an hour does not silence the log', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const { log, lines } = logLines();
      const onEvent = outboxEventLogger(log, 10_000);
      onEvent(diskFull(0));
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(10_000);
      onEvent(diskFull(2));
      expect(lines.map((l) => l.topic)).toEqual(['t/0', 't/0']);
    } finally {
      vi.useRealTimers();
    }
  });
});
