import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../../../agent/outbox/outbox.js';
import { body, dbOf, detection, openOutbox, useOutbox } from './outbox-fixture.js';

// The Outbox's bounds (rows, bytes, age, a full disk) are in outbox-limits.test.ts; a corrupt file in
// outbox-corrupt.test.ts.

useOutbox();

describe('Outbox', () => {
  it('opens in WAL mode with the configured synchronous level', () => {
    const outbox = openOutbox({ synchronous: 'FULL' });
    expect(dbOf(outbox).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(dbOf(outbox).pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('acknowledges without an fsync of its own, and commits stay FULL after it', () => {
    const outbox = openOutbox({ synchronous: 'FULL' });
    outbox.enqueue(detection('cam1', 1));
    const levels: unknown[] = [];
    const db = dbOf(outbox);
    const pragma = db.pragma.bind(db);
    const [row] = outbox.next(1, new Set());
    db.pragma = ((source: string, options?: Database.PragmaOptions) => {
      if (source.startsWith('synchronous =')) levels.push(source);
      return pragma(source, options);
    }) as typeof db.pragma;
    expect(outbox.ack(row!.rowid)).toBe(true);
    expect(levels).toEqual(['synchronous = NORMAL', 'synchronous = FULL']);
    expect(pragma('synchronous', { simple: true })).toBe(2);
    outbox.enqueue(detection('cam1', 2));
    expect(levels).toHaveLength(2); // an enqueue keeps FULL
  });

  it('keeps committed rows and continues each stream seq across close and reopen', () => {
    const first = openOutbox();
    const a = first.enqueue(detection('cam1', 1));
    const b = first.enqueue(detection('cam1', 2));
    const c = first.enqueue(detection('cam2', 1));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 1]);
    first.ack(first.next(1, new Set())[0]!.rowid); // cam1 #1 delivered; its seq must still count
    first.close();

    const second = openOutbox();
    expect(second.depth().rows).toBe(2);
    expect(second.next(10, new Set()).map((r) => [r.id, r.seq])).toEqual([
      [b.id, 2],
      [c.id, 1],
    ]);
    expect(second.enqueue(detection('cam1', 3)).seq).toBe(3);
    expect(second.enqueue(detection('cam2', 2)).seq).toBe(2);
    expect(second.enqueue({ topic: 't', priority: 1, build: () => ({}) }).seq).toBeNull();
  });

  it('hands rows out oldest first with the payload build() made, skipping the excluded ones', () => {
    const outbox = openOutbox({}, { now: () => 1_700_000_000_000 });
    const ids = [1, 2, 3, 4].map(
      (n) => outbox.enqueue(detection(n % 2 ? 'a' : 'b', n, { retain: n === 4 })).id,
    );
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(body(rows[0]!.payload)).toEqual({ id: ids[0], seq: 1, ts: 1_700_000_000_000, n: 1 });
    expect(rows[3]).toMatchObject({ retain: true, priority: 0, stream: 'detections/b', seq: 2 });
    expect(rows[0]!.bytes).toBe(rows[0]!.payload.length + rows[0]!.topic.length);
    expect(outbox.next(2, new Set([rows[0]!.rowid, rows[2]!.rowid])).map((r) => r.id)).toEqual([
      ids[1],
      ids[3],
    ]);
  });

  it('removes a row on ack, once', () => {
    const outbox = openOutbox();
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue(detection('cam1', 2));
    const [first, second] = outbox.next(2, new Set());
    expect(outbox.ack(first!.rowid)).toBe(true);
    expect(outbox.ack(first!.rowid)).toBe(false);
    expect(outbox.next(10, new Set()).map((r) => r.rowid)).toEqual([second!.rowid]);
    expect(outbox.depth()).toMatchObject({ rows: 1, bytes: second!.bytes });
  });

  it('defers an ack or drop the full disk cannot write to the next commit, never losing or double-counting', () => {
    const outbox = openOutbox();
    for (let n = 1; n <= 3; n++) outbox.enqueue(detection('cam1', n));
    const [a, b] = outbox.next(2, new Set());
    // The delete's own commit fails as on a real full disk (test/e2e/full-disk.test.ts); in a transaction it works.
    const sql = (outbox as unknown as { sql: { delete: Database.Statement } }).sql;
    const real = sql.delete;
    const full = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    sql.delete = { all: full, get: (pk: number) => real.get(pk) } as unknown as Database.Statement;
    expect(outbox.ack(a!.rowid)).toBe(true);
    expect(outbox.drop(b!.rowid, 'expired')).toBe(true);
    expect(outbox.ack(a!.rowid)).toBe(false);
    expect(outbox.depth().rows).toBe(3); // still stored: a reconnect would re-send them
    expect(outbox.lastError()?.message).toBe('disk full: database or disk is full');
    outbox.enqueue(detection('cam1', 4)); // room again: the deferred deletes commit with it
    expect(outbox.next(10, new Set()).map((r) => r.rowid)).not.toContain(a!.rowid);
    expect(outbox.depth().rows).toBe(2);
    expect(outbox.dropDetail()).toEqual([{ reason: 'expired', priority: 0, count: 1 }]);
  });

  it('replaces an unsent row with the same coalesce key and never reuses its row id', () => {
    const outbox = openOutbox();
    const state = (s: string): OutboxMessage => ({
      topic: 'vigil/s/d/cameras/cam1/state',
      priority: 1,
      retain: true,
      coalesceKey: 'state/cam1',
      build: () => ({ state: s }),
    });
    outbox.enqueue(state('connecting'));
    const inFlight = outbox.next(1, new Set())[0]!;
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue(state('streaming'));
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => body(r.payload))).toEqual([
      expect.objectContaining({ n: 1 }),
      { state: 'streaming' },
    ]);
    expect(rows.every((r) => r.rowid > inFlight.rowid)).toBe(true);
    // A late PUBACK for the replaced row must not remove anything.
    expect(outbox.ack(inFlight.rowid)).toBe(false);
    expect(outbox.depth().rows).toBe(2);
  });
});
