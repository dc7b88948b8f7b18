import type Database from 'better-sqlite3';
import { beforeEach, expect } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { DeferredDeletes } from '../../../agent/outbox/deferred-deletes.js';
import { pageCount } from '../../../agent/outbox/disk-low-bound.js';
import { DropCounts, type OutboxPriority } from '../../../agent/outbox/drop-counts.js';
import { FullDisk, type FailedCommit } from '../../../agent/outbox/full-disk.js';
import { newDelta, type Delta } from '../../../agent/outbox/outbox-bounds.js';
import type { OutboxStatements } from '../../../agent/outbox/outbox-sql.js';
import type { EnqueueResult, OutboxEvent, OutboxMessage } from '../../../agent/outbox/outbox-types.js';
import { storeRow } from '../../../agent/outbox/store-row.js';
import { insertRow, useOutboxDatabase } from '../../support/outbox-database.js';

// What the full-disk-*.test.ts files share. A real SQLite file; a full disk is a real SQLITE_FULL:
// max_page_count capped at the file's size.

export const at = 5000;
export const diskFullText = 'database or disk is full';

// This test's database and the FullDisk on it (made before each test by useFullDisk).
export let db: Database.Database;
export let sql: OutboxStatements;
export let unwritten: DeferredDeletes;
export let dropped: DropCounts;
export let events: OutboxEvent[];
export let full: FullDisk;

/** Registers the file's hooks: before each test a fresh database, and a FullDisk on it that tells `events`. */
export function useFullDisk(): void {
  useOutboxDatabase('vigil-full-disk-', (o) => ({ db, sql } = o));

  beforeEach(() => {
    unwritten = new DeferredDeletes();
    dropped = new DropCounts(db);
    events = [];
    const tell = (e: OutboxEvent) => void events.push(e);
    full = new FullDisk(db, sql, unwritten, dropped, () => at, tell);
  });
}

/** Commits `count` rows of `bytes` each (payload and counted bytes alike); returns their pks. */
export function put(count: number, priority: OutboxPriority, bytes = 1000): number[] {
  const payload = Buffer.alloc(bytes, 0x61);
  return Array.from({ length: count }, (_, i) => insertRow(sql, { id: `id-${i}`, priority, bytes, payload }));
}

export const pks = () =>
  (db.prepare('SELECT pk FROM outbox ORDER BY pk').all() as { pk: number }[]).map((r) => r.pk);
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
export const storedDrops = () =>
  db.prepare('SELECT reason, priority, count FROM drops ORDER BY reason').all();
/** The events told so far (compared as they are: toEqual tells a -0 `freedRows` from 0). */
export const told = (): OutboxEvent[] => [...events];

/** The disk is full from now on: SQLite fails (SQLITE_FULL) whatever would grow the file. */
export const capFile = () => db.pragma(`max_page_count = ${pageCount(sql)}`);

export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** A real SQLITE_FULL: a row the capped file has no room for. */
export const sqliteFull = () => thrownBy(() => put(1, 0, 100_000));
export const notNull = () =>
  thrownBy(() => db.prepare('INSERT INTO meta (key, value) VALUES (?, NULL)').run('k'));

export type PageLimitAt = (tryNo: number) => number | undefined;

/**
 * A commit of one row of `bytes` through storeRow, as the Outbox's; `pageLimitAt(try)` is the margin's page
 * limit at each try (none by default). `calls` counts the tries.
 */
export function commitOf(msg: OutboxMessage, bytes: number, pageLimitAt: PageLimitAt = () => undefined) {
  const cfg = OutboxConfig.parse({});
  const commit = Object.assign(
    (): EnqueueResult =>
      db.transaction(() => {
        const pageLimit = pageLimitAt(++commit.calls);
        const t = sql.totals.get() as { n: number; b: number };
        const ctx = { db, sql, cfg, totals: { rows: t.n, bytes: t.b }, pageLimit };
        const row = { id: 'new', msg, seq: 9, ts: 0, storedAt: 0, payload: Buffer.alloc(bytes, 0x61), bytes };
        expect(storeRow(ctx, row, newDelta())).toBeUndefined();
        return { id: 'new', seq: 9 };
      })(),
    { calls: 0 },
  );
  return commit;
}

/** What the Outbox hands over after a failed commit; `deltas` records what the freeing committed. */
export function failed(msg: OutboxMessage, commit: () => EnqueueResult, storedBytes: number, counted = true) {
  const deltas: Delta[] = [];
  const committed = (delta: Delta) => {
    // As Outbox.committed: the counts and the deferred deletes are settled once the freeing committed.
    deltas.push(delta);
    dropped.committed(delta.drops);
    unwritten.clear();
  };
  const attempt: FailedCommit = { id: 'new', msg, counted, storedBytes, commit, committed };
  return { attempt, deltas };
}

export const detection: OutboxMessage = { topic: 'vigil/s/d/detections', priority: 0, build: () => null };
export const reading: OutboxMessage = { topic: 'vigil/s/d/pm25', priority: 1, build: () => null };
export const alert: OutboxMessage = { topic: 'vigil/s/d/events', priority: 2, build: () => null };
export const stored = { id: 'new', seq: 9 };
export const refused = { id: 'new', seq: null, dropped: 'disk-full' };
export function diskFull(msg: OutboxMessage, freedRows: number, dropped: boolean, error: string) {
  const { topic, priority } = msg;
  return { type: 'disk-full', topic, priority, freedRows, dropped, error };
}
