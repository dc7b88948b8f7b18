import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { DiskLowRefusal, pageCount } from '../../../agent/outbox/disk-low-bound.js';
import type { OutboxPriority } from '../../../agent/outbox/drop-counts.js';
import { newDelta, type Delta } from '../../../agent/outbox/outbox-bounds.js';
import type { OutboxStatements } from '../../../agent/outbox/outbox-sql.js';
import type { OutboxMessage } from '../../../agent/outbox/outbox-types.js';
import { storeRow, type BuiltRow } from '../../../agent/outbox/store-row.js';
import { useOutboxDatabase } from '../../support/outbox-database.js';

let db: Database.Database;
let sql: OutboxStatements;
let n = 0;

useOutboxDatabase('vigil-store-row-', (o) => ({ db, sql } = o));

/** A message as the Outbox builds it inside its commit: `payloadBytes` of payload. */
function built(priority: OutboxPriority, payloadBytes: number, extra: Partial<OutboxMessage> = {}): BuiltRow {
  n++;
  const msg: OutboxMessage = { topic: `t/${priority}`, priority, build: () => null, ...extra };
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const bytes = payload.length + Buffer.byteLength(msg.topic);
  return { id: `id-${n}`, msg, seq: null, ts: 1_000_000 + n, storedAt: 1_000_000 + n, payload, bytes };
}

const cfg = (c: Partial<OutboxConfig> = {}) => OutboxConfig.parse(c);
const totals = () => {
  const t = sql.totals.get() as { n: number; b: number };
  return { rows: t.n, bytes: t.b };
};
const ids = () =>
  (db.prepare('SELECT id FROM outbox ORDER BY pk').all() as { id: string }[]).map((r) => r.id);

/** Stores the row in its own transaction, as the Outbox's commit does; `underMargin` sets the page limit. */
function store(row: BuiltRow, c: OutboxConfig, delta: Delta, underMargin = false) {
  return db.transaction(() => {
    const pageLimit = underMargin ? pageCount(sql) : undefined;
    return storeRow({ db, sql, cfg: c, totals: totals(), pageLimit }, row, delta);
  })();
}

/** Commits `rows` rows of `priority` straight away; returns their ids, oldest first. */
function fill(rows: number, priority: OutboxPriority, payloadBytes = 1000): string[] {
  return Array.from({ length: rows }, () => {
    const row = built(priority, payloadBytes);
    expect(store(row, cfg(), newDelta())).toBeUndefined();
    return row.id;
  });
}

describe('storeRow', () => {
  it('inserts the row with every column and adds it to the delta', () => {
    const row = built(2, 10, {
      stream: 'detections/c1',
      retain: true,
      coalesceKey: 'state/c1',
      expiryS: 0.0006, // rounded to the ms, not truncated
      properties: { correlationData: Buffer.from([1, 2]), userProperties: { k: 'v' } },
    });
    row.seq = 7;
    // The delta already holds an earlier change of the same transaction (a coalesced row): added to, not reset.
    const delta = { ...newDelta(), rows: -1, bytes: -50 };
    expect(store(row, cfg(), delta)).toBeUndefined();

    expect(db.prepare('SELECT * FROM outbox').all()).toEqual([
      {
        pk: 1,
        id: row.id,
        topic: 't/2',
        payload: row.payload,
        retain: 1,
        priority: 2,
        stream: 'detections/c1',
        seq: 7,
        coalesce_key: 'state/c1',
        created_at: row.ts,
        bytes: row.bytes,
        expires_at: row.ts + 1,
        props: JSON.stringify({ correlationData: 'AQI=', userProperties: { k: 'v' } }),
      },
    ]);
    expect(delta).toEqual({ rows: 0, bytes: row.bytes - 50, drops: new Map() });
  });

  it('stores the optional columns as NULL, retain as 0, when the message has none', () => {
    const row = built(0, 3);
    const delta = newDelta();
    expect(store(row, cfg(), delta)).toBeUndefined();
    expect(
      db.prepare('SELECT retain, stream, seq, coalesce_key, expires_at, props, bytes FROM outbox').get(),
    ).toEqual({
      retain: 0,
      stream: null,
      seq: null,
      coalesce_key: null,
      expires_at: null,
      props: null,
      bytes: 3 + 3,
    });
    expect(delta).toEqual({ rows: 1, bytes: 6, drops: new Map() });
  });

  it('refuses with max-rows when nothing it may displace makes room, counting the drop and storing nothing', () => {
    const alerts = fill(2, 2);
    const delta = newDelta();
    expect(store(built(0, 10), cfg({ maxRows: 2 }), delta)).toBe('max-rows');
    expect(ids()).toEqual(alerts);
    expect(delta).toEqual({ rows: 0, bytes: 0, drops: new Map([['max-rows:0', 1]]) });
  });

  it('refuses with max-bytes a row larger than the bound, counted at its own priority', () => {
    const kept = fill(1, 0);
    const delta = newDelta();
    const big = built(2, 2000);
    expect(store(big, cfg({ maxBytes: 2000 }), delta)).toBe('max-bytes');
    expect(ids()).toEqual(kept);
    expect(delta).toEqual({ rows: 0, bytes: 0, drops: new Map([['max-bytes:2', 1]]) });
  });

  it('within the bounds evicts the oldest rows it may displace, then inserts', () => {
    const [oldest, ...rest] = fill(3, 0, 100);
    const row = built(0, 500);
    const delta = newDelta();
    expect(store(row, cfg({ maxRows: 3 }), delta)).toBeUndefined();
    expect(ids()).toEqual([...rest, row.id]);
    expect(ids()).not.toContain(oldest);
    // One row out (103 bytes), one in.
    expect(delta).toEqual({ rows: 0, bytes: row.bytes - 103, drops: new Map([['max-rows:0', 1]]) });
  });
});

describe('storeRow under the free-space margin (a page limit)', () => {
  it('without a page limit the same row grows the file', () => {
    fill(40, 0);
    const before = pageCount(sql);
    const delta = newDelta();
    expect(store(built(0, 10_000), cfg(), delta)).toBeUndefined();
    expect(pageCount(sql)).toBeGreaterThan(before);
    expect(delta.drops.size).toBe(0);
  });

  it('stores the row in pages the file already has free, evicting nothing', () => {
    const stored = fill(40, 0);
    // Acks free pages without shrinking the file: they wait on the free list.
    db.transaction(() =>
      stored.slice(0, 20).forEach((id) => db.prepare('DELETE FROM outbox WHERE id = ?').run(id)),
    )();
    expect(db.pragma('freelist_count', { simple: true })).toBeGreaterThan(3);
    const before = pageCount(sql);
    const row = built(0, 10_000);
    const delta = newDelta();
    expect(store(row, cfg(), delta, true)).toBeUndefined();
    expect(pageCount(sql)).toBe(before);
    expect(ids()).toEqual([...stored.slice(20), row.id]);
    expect(delta).toEqual({ rows: 1, bytes: row.bytes, drops: new Map() });
  });

  it('with no free page evicts the oldest routine rows, counted disk-low, never an alert', () => {
    const alert = fill(1, 2);
    const routine = fill(40, 0);
    const before = pageCount(sql);
    const row = built(0, 10_000);
    const delta = newDelta();
    expect(store(row, cfg(), delta, true)).toBeUndefined();
    expect(pageCount(sql)).toBeLessThanOrEqual(before);

    const evicted = 40 - ids().filter((id) => routine.includes(id)).length;
    // Tried 1, 2, 4… oldest rows: a power of two went, the oldest ones, in order.
    expect([1, 2, 4, 8, 16, 32]).toContain(evicted);
    expect(ids()).toEqual([...alert, ...routine.slice(evicted), row.id]);
    expect(delta).toEqual({
      rows: 1 - evicted,
      bytes: row.bytes - evicted * 1003,
      drops: new Map([['disk-low:0', evicted]]),
    });
  });

  it('throws DiskLowRefusal, evicting nothing, when nothing it may displace makes room', () => {
    const alerts = fill(40, 2);
    const delta = newDelta();
    expect(() => store(built(0, 10_000), cfg(), delta, true)).toThrow(DiskLowRefusal);
    expect(ids()).toEqual(alerts);
    expect(delta).toEqual(newDelta());
  });

  it('applies the row and byte bounds first: a row they refuse is refused, not thrown', () => {
    const alerts = fill(2, 2);
    const delta = newDelta();
    expect(store(built(0, 10_000), cfg({ maxRows: 2 }), delta, true)).toBe('max-rows');
    expect(ids()).toEqual(alerts);
    expect(delta.drops).toEqual(new Map([['max-rows:0', 1]]));
  });
});
