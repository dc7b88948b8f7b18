import type Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeferredDeletes } from '../../../agent/outbox/deferred-deletes.js';
import { DropCounts } from '../../../agent/outbox/drop-counts.js';
import { FullDisk } from '../../../agent/outbox/full-disk.js';
import type { OutboxStatements } from '../../../agent/outbox/outbox-sql.js';
import { RowDeletes, type RemovedRow } from '../../../agent/outbox/row-deletes.js';
import { insertRow, useOutboxDatabase } from '../../support/outbox-database.js';

// A real, migrated SQLite file (test/support/outbox-database.ts).

let db: Database.Database;
let sql: OutboxStatements;
let unwritten: DeferredDeletes;
let dropped: DropCounts;
let removed: RemovedRow[];

useOutboxDatabase('vigil-row-deletes-', (o) => ({ db, sql } = o));

beforeEach(() => {
  unwritten = new DeferredDeletes();
  dropped = new DropCounts(db);
  removed = [];
});

function deletes(synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' = 'FULL'): RowDeletes {
  db.pragma(`synchronous = ${synchronous}`);
  const full = new FullDisk(
    db,
    sql,
    unwritten,
    dropped,
    () => 5000,
    () => {},
  );
  return new RowDeletes(db, sql, synchronous, unwritten, full, dropped, (r) => void removed.push(r));
}

const pks = () =>
  (db.prepare('SELECT pk FROM outbox ORDER BY pk').all() as { pk: number }[]).map((r) => r.pk);

describe('RowDeletes', () => {
  it('acks a row once, tells its bytes, and leaves the synchronous level as configured', () => {
    const d = deletes('FULL');
    const a = insertRow(sql, { id: 'a', priority: 0, bytes: 120 });
    const b = insertRow(sql, { id: 'b', priority: 2, bytes: 300 });
    expect(d.ack(a)).toBe(true);
    expect(d.ack(a)).toBe(false); // already gone
    expect(pks()).toEqual([b]);
    expect(removed).toEqual([{ priority: 0, bytes: 120 }]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again after the NORMAL delete
    expect(dropped.totals().rejected).toBe(0);
  });

  it('drops a row with its reason and priority, counting nothing for a row already gone', () => {
    const d = deletes('NORMAL');
    const a = insertRow(sql, { id: 'a', priority: 1, bytes: 50 });
    expect(d.drop(a, 'rejected')).toBe(true);
    expect(d.drop(a, 'rejected')).toBe(false);
    expect(pks()).toEqual([]);
    expect(removed).toEqual([{ priority: 1, bytes: 50 }]);
    expect(dropped.detail()).toEqual([{ reason: 'rejected', priority: 1, count: 1 }]);
  });

  it('leaves a row whose delete a full disk deferred: the next commit deletes it, not a second ack or drop', () => {
    const d = deletes('FULL');
    const a = insertRow(sql, { id: 'a', priority: 0, bytes: 10 });
    unwritten.add(a, undefined);
    expect(d.ack(a)).toBe(false);
    expect(d.drop(a, 'expired')).toBe(false);
    expect(pks()).toEqual([a]);
    expect(removed).toEqual([]);
    expect(dropped.detail()).toEqual([]);
  });
});
