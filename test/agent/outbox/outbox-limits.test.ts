import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../../agent/outbox/outbox.js';
import { body, dbOf, detection, openOutbox, useOutbox } from './outbox-fixture.js';

// The Outbox at its bounds: rows, bytes, age and a full disk.

useOutbox();

describe('Outbox', () => {
  it('at the row bound drops the oldest routine rows first, never an alert for a routine message', () => {
    const outbox = openOutbox({ maxRows: 4 });
    outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 1 }) });
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue({ topic: 'reading', priority: 1, build: () => ({ r: 1 }) });
    outbox.enqueue(detection('cam1', 2));
    expect(outbox.enqueue(detection('cam1', 3)).dropped).toBeUndefined(); // evicts detection 1
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 2 }) }).dropped).toBeUndefined(); // evicts 2
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 3 }) }).dropped).toBeUndefined(); // 3
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 4 }) }).dropped).toBeUndefined(); // reading
    // Only alerts left: a routine message is the one dropped, and its seq is spent (a visible gap).
    expect(outbox.enqueue(detection('cam1', 4))).toMatchObject({ seq: 4, dropped: 'max-rows' });
    expect(outbox.next(10, new Set()).map((r) => body(r.payload))).toEqual([
      { a: 1 },
      { a: 2 },
      { a: 3 },
      { a: 4 },
    ]);
    expect(outbox.drops()).toMatchObject({ 'max-rows': 5, 'max-bytes': 0 });
    expect(outbox.dropDetail()).toEqual(
      expect.arrayContaining([
        { reason: 'max-rows', priority: 0, count: 4 },
        { reason: 'max-rows', priority: 1, count: 1 },
      ]),
    );
  });

  it('enforces the byte bound and keeps the counts across a restart until cleared', () => {
    const big = 'x'.repeat(900);
    const first = openOutbox({ maxBytes: 3000 });
    for (let n = 0; n < 5; n++) first.enqueue({ ...detection('cam1', n), build: () => ({ n, big }) });
    expect(first.depth().bytes).toBeLessThanOrEqual(3000);
    expect(first.next(10, new Set()).map((r) => body(r.payload).n)).toEqual([2, 3, 4]);
    expect(first.enqueue({ topic: 't', priority: 2, build: () => ({ big: big.repeat(4) }) }).dropped).toBe(
      'max-bytes',
    );
    first.close();

    const second = openOutbox({ maxBytes: 3000 });
    expect(second.drops()['max-bytes']).toBe(3);
    // Reporting and clearing the counts inside build() commits both together.
    const report = () => {
      const drops = second.drops();
      second.clearDrops();
      return { drops };
    };
    second.enqueue({ topic: 'health', priority: 1, build: report });
    expect(body(second.next(10, new Set()).at(-1)!.payload)).toMatchObject({ drops: { 'max-bytes': 3 } });
    second.close();
    expect(openOutbox({ maxBytes: 3000 }).drops()['max-bytes']).toBe(0);
  });

  it('drops rows older than maxAgeHours', () => {
    let now = 1_000_000;
    // Ages are elapsed time (test/agent/outbox/outbox-clock.test.ts): here the wall clock never steps.
    const outbox = openOutbox({ maxAgeHours: 1 }, { now: () => now, monotonic: () => now });
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({}) });
    now += 30 * 60_000;
    outbox.enqueue(detection('cam1', 2));
    expect(outbox.depth()).toMatchObject({ rows: 3, oldestAgeMs: 30 * 60_000 });
    now += 45 * 60_000;
    outbox.enqueue(detection('cam1', 3));
    expect(outbox.next(10, new Set()).map((r) => r.seq)).toEqual([2, 3]);
    expect(outbox.dropDetail()).toEqual(
      expect.arrayContaining([
        { reason: 'max-age', priority: 0, count: 1 },
        { reason: 'max-age', priority: 2, count: 1 },
      ]),
    );
  });

  it('survives a full disk: frees routine rows and retries, else drops the message and reports it', () => {
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, { onEvent: (e) => events.push(e) });
    const db = dbOf(outbox);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 40}`); // ~160 KiB more
    const pad = 'p'.repeat(2000);
    let stored = 0;
    for (let n = 0; n < 200; n++)
      if (!outbox.enqueue({ ...detection('cam1', n), build: () => ({ n, pad }) }).dropped) stored++;
    expect(stored).toBe(200); // every one stored: old routine rows made way
    expect(outbox.drops()['disk-full']).toBeGreaterThan(0);
    expect(outbox.depth().rows).toBe(outbox.next(1000, new Set()).length);

    // Only alerts left: nothing to free, so the alert itself is dropped, without a throw.
    for (const r of outbox.next(1000, new Set())) outbox.ack(r.rowid);
    events.length = 0;
    let dropped = 0;
    for (let n = 0; n < 200 && !dropped; n++) {
      if (outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ n, pad }) }).dropped === 'disk-full')
        dropped++;
    }
    expect(dropped).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: 'disk-full', topic: 'alert', dropped: true })]);
    expect(outbox.dropDetail()).toContainEqual({ reason: 'disk-full', priority: 2, count: 1 });
  });
});
