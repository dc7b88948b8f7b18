import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import type { OutboxPriority } from '../../../agent/outbox/drop-counts.js';
import { expireOld, freeRoutine, makeRoom, newDelta } from '../../../agent/outbox/outbox-bounds.js';
import type { OutboxStatements } from '../../../agent/outbox/outbox-sql.js';
import { insertRow, useOutboxDatabase } from '../../support/outbox-database.js';

let db: Database.Database;
let sql: OutboxStatements;
let n = 0;

/** Stores a row as the Outbox would; returns its pk. `bytes` is what the bounds count. */
function put(priority: OutboxPriority, bytes: number, createdAt = 0): number {
  n++;
  return insertRow(sql, { id: `id-${n}`, priority, bytes, createdAt });
}

const pks = () =>
  (db.prepare('SELECT pk FROM outbox ORDER BY pk').all() as { pk: number }[]).map((r) => r.pk);
const totals = () => {
  const t = sql.totals.get() as { n: number; b: number };
  return { rows: t.n, bytes: t.b };
};
const cfg = (c: Partial<OutboxConfig>) => OutboxConfig.parse(c);

useOutboxDatabase('vigil-bounds-', (o) => ({ db, sql } = o));

describe('makeRoom', () => {
  it('within both bounds removes nothing', () => {
    put(0, 100);
    put(0, 100);
    const delta = newDelta();
    // Exactly at the bounds once the new row is in: still fits.
    expect(makeRoom(sql, cfg({ maxRows: 3, maxBytes: 300 }), totals(), 0, 100, delta)).toBeUndefined();
    expect(delta).toEqual(newDelta());
    expect(pks()).toHaveLength(2);
  });

  it('evicts nothing for a row that would be refused anyway: no other row is lost for it', () => {
    const alert = put(2, 1500);
    const routine = put(0, 100);
    const delta = newDelta();
    // Routine rows hold only 100 of the 2000 bytes: even all of them cannot make room for 600.
    expect(makeRoom(sql, cfg({ maxBytes: 2000 }), totals(), 0, 600, delta)).toBe('max-bytes');
    expect(pks()).toEqual([alert, routine]);
    expect(delta).toEqual(newDelta());
    // The same on the row bound (a limit lowered below what is stored): the one routine row is not enough.
    const second = put(2, 10);
    expect(makeRoom(sql, cfg({ maxRows: 2 }), totals(), 0, 10, delta)).toBe('max-rows');
    expect(pks()).toEqual([alert, routine, second]);
    expect(delta).toEqual(newDelta());
  });

  it('refuses a row larger than maxBytes on its own without evicting anything', () => {
    put(0, 10);
    const delta = newDelta();
    expect(makeRoom(sql, cfg({ maxBytes: 1000 }), totals(), 2, 1001, delta)).toBe('max-bytes');
    expect(pks()).toHaveLength(1);
    expect(delta.drops.size).toBe(0);
    // Exactly maxBytes is allowed: the small row makes way for it.
    expect(makeRoom(sql, cfg({ maxBytes: 1000 }), totals(), 2, 1000, delta)).toBeUndefined();
    expect(pks()).toEqual([]);
    expect(delta.drops).toEqual(new Map([['max-bytes:0', 1]]));
  });

  it('at the row bound evicts the oldest routine row and counts it under max-rows', () => {
    const [a, b, c] = [put(0, 10), put(0, 20), put(0, 30)];
    const delta = newDelta();
    expect(makeRoom(sql, cfg({ maxRows: 3 }), totals(), 0, 5, delta)).toBeUndefined();
    expect(pks()).toEqual([b, c]);
    expect(pks()).not.toContain(a);
    expect(delta).toEqual({ rows: -1, bytes: -10, drops: new Map([['max-rows:0', 1]]) });
  });

  it('evicts the lowest priority first, oldest first within it, never above the new row', () => {
    const reading = put(1, 10);
    const alert = put(2, 10);
    const det1 = put(0, 10);
    const det2 = put(0, 10);
    const delta = newDelta();
    // A reading needs two rows of room: both detections go, the older reading stays.
    expect(makeRoom(sql, cfg({ maxRows: 3 }), totals(), 1, 10, delta)).toBeUndefined();
    expect(pks()).toEqual([reading, alert]);
    expect([det1, det2].every((pk) => !pks().includes(pk))).toBe(true);
    expect(delta.drops).toEqual(new Map([['max-rows:0', 2]]));

    // Next a reading evicts the reading; a routine message finds nothing it may evict.
    const d2 = newDelta();
    expect(makeRoom(sql, cfg({ maxRows: 2 }), totals(), 1, 10, d2)).toBeUndefined();
    expect(pks()).toEqual([alert]);
    expect(d2.drops).toEqual(new Map([['max-rows:1', 1]]));
    const d3 = newDelta();
    expect(makeRoom(sql, cfg({ maxRows: 1 }), totals(), 0, 10, d3)).toBe('max-rows');
    expect(pks()).toEqual([alert]);
    expect(d3).toEqual(newDelta());
  });

  it('an alert makes way by evicting every lower priority, alerts last', () => {
    put(2, 10);
    put(1, 10);
    put(0, 10);
    const delta = newDelta();
    expect(makeRoom(sql, cfg({ maxRows: 1 }), totals(), 2, 10, delta)).toBeUndefined();
    expect(pks()).toEqual([]);
    expect(delta.drops).toEqual(
      new Map([
        ['max-rows:0', 1],
        ['max-rows:1', 1],
        ['max-rows:2', 1],
      ]),
    );
  });

  it('at the byte bound evicts until the new row fits, counting each under the bound it broke', () => {
    put(0, 100);
    put(0, 100);
    const keep = put(0, 100);
    const delta = newDelta();
    // 3 rows + 1 > maxRows 3 (one eviction for rows), then 200 + 250 > 400 (one more for bytes).
    expect(makeRoom(sql, cfg({ maxRows: 3, maxBytes: 400 }), totals(), 0, 250, delta)).toBeUndefined();
    expect(pks()).toEqual([keep]);
    expect(delta.rows).toBe(-2);
    expect(delta.bytes).toBe(-200);
    expect(delta.drops).toEqual(
      new Map([
        ['max-rows:0', 1],
        ['max-bytes:0', 1],
      ]),
    );
  });

  it('counts changes already made in the transaction (the delta) against the bounds', () => {
    put(0, 100);
    put(0, 100);
    // A coalesced row was already removed in this transaction: the totals still count it.
    const delta = { ...newDelta(), rows: -1, bytes: -100 };
    const bounds = cfg({ maxRows: 3, maxBytes: 300 });
    expect(makeRoom(sql, bounds, { rows: 3, bytes: 300 }, 0, 100, delta)).toBeUndefined();
    expect(pks()).toHaveLength(2);
    // Without it the same totals are full: a row has to go.
    const fresh = newDelta();
    expect(makeRoom(sql, bounds, { rows: 3, bytes: 300 }, 0, 100, fresh)).toBeUndefined();
    expect(fresh.drops).toEqual(new Map([['max-rows:0', 1]]));
    expect(pks()).toHaveLength(1);
  });

  it('evicts more than one batch of rows when it takes that many', () => {
    for (let i = 0; i < 150; i++) put(0, 10);
    const delta = newDelta();
    // 1500 + 1000 > 1600: 90 rows of 10 bytes must go, beyond one batch of 64.
    expect(makeRoom(sql, cfg({ maxBytes: 1600 }), totals(), 0, 1000, delta)).toBeUndefined();
    expect(pks()).toHaveLength(60);
    expect(pks()[0]).toBe(91);
    expect(delta.drops).toEqual(new Map([['max-bytes:0', 90]]));
  });
});

describe('expireOld', () => {
  it('drops rows created before the cutoff, counted as max-age at their own priority', () => {
    put(0, 10, 100);
    put(2, 20, 199);
    const atCutoff = put(1, 30, 200);
    const young = put(0, 40, 300);
    const delta = newDelta();
    expireOld(sql, 200, delta);
    expect(pks()).toEqual([atCutoff, young]);
    expect(delta).toEqual({
      rows: -2,
      bytes: -30,
      drops: new Map([
        ['max-age:0', 1],
        ['max-age:2', 1],
      ]),
    });
  });

  it('goes on past one batch of old rows', () => {
    for (let i = 0; i < 200; i++) put(0, 1, i);
    const delta = newDelta();
    expireOld(sql, 150, delta);
    expect(pks()).toHaveLength(50);
    expect(delta.rows).toBe(-150);
    expect(delta.drops).toEqual(new Map([['max-age:0', 150]]));
  });

  it('with nothing old removes nothing', () => {
    put(0, 10, 500);
    const delta = newDelta();
    expireOld(sql, 500, delta);
    expect(pks()).toHaveLength(1);
    expect(delta).toEqual(newDelta());
  });
});

describe('freeRoutine', () => {
  it('deletes the oldest routine rows until about the target is freed, and nothing else', () => {
    const alert = put(2, 1000);
    const reading = put(1, 1000);
    put(0, 100);
    put(0, 100);
    put(0, 100);
    const d4 = put(0, 100);
    const delta = newDelta();
    freeRoutine(sql, 250, delta);
    // 100 + 100 < 250, so a third goes: the target is reached or passed, never fallen short of.
    expect(pks()).toEqual([alert, reading, d4]);
    expect(delta).toEqual({ rows: -3, bytes: -300, drops: new Map([['disk-full:0', 3]]) });
  });

  it('stops when there are no routine rows left, and frees nothing for a zero target', () => {
    put(0, 10);
    put(1, 10);
    const none = newDelta();
    freeRoutine(sql, 0, none);
    expect(pks()).toHaveLength(2);
    expect(none).toEqual(newDelta());

    const delta = newDelta();
    freeRoutine(sql, 10_000, delta);
    expect(pks()).toHaveLength(1);
    expect(delta.drops).toEqual(new Map([['disk-full:0', 1]]));
  });
});
