import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { DeferredDeletes } from '../../../agent/outbox/deferred-deletes.js';
import { DiskLowRefusal, pageCount } from '../../../agent/outbox/disk-low-bound.js';
import { DropCounts, type OutboxPriority } from '../../../agent/outbox/drop-counts.js';
import { FullDisk, isDiskFull, type FailedCommit } from '../../../agent/outbox/full-disk.js';
import { newDelta, type Delta } from '../../../agent/outbox/outbox-bounds.js';
import type { OutboxStatements } from '../../../agent/outbox/outbox-sql.js';
import type { EnqueueResult, OutboxEvent, OutboxMessage } from '../../../agent/outbox/outbox-types.js';
import { storeRow } from '../../../agent/outbox/store-row.js';
import { insertRow, useOutboxDatabase } from '../../support/outbox-database.js';

// A real SQLite file; a full disk is a real SQLITE_FULL: max_page_count capped at the file's size.

const at = 5000;
const diskFullText = 'database or disk is full';

let db: Database.Database;
let sql: OutboxStatements;
let unwritten: DeferredDeletes;
let dropped: DropCounts;
let events: OutboxEvent[];
let full: FullDisk;

useOutboxDatabase('vigil-full-disk-', (o) => ({ db, sql } = o));

beforeEach(() => {
  unwritten = new DeferredDeletes();
  dropped = new DropCounts(db);
  events = [];
  const tell = (e: OutboxEvent) => void events.push(e);
  full = new FullDisk(db, sql, unwritten, dropped, () => at, tell);
});

/** Commits `count` rows of `bytes` each (payload and counted bytes alike); returns their pks. */
function put(count: number, priority: OutboxPriority, bytes = 1000): number[] {
  const payload = Buffer.alloc(bytes, 0x61);
  return Array.from({ length: count }, (_, i) => insertRow(sql, { id: `id-${i}`, priority, bytes, payload }));
}

const pks = () =>
  (db.prepare('SELECT pk FROM outbox ORDER BY pk').all() as { pk: number }[]).map((r) => r.pk);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const storedDrops = () => db.prepare('SELECT reason, priority, count FROM drops ORDER BY reason').all();
/** The events told so far (compared as they are: toEqual tells a -0 `freedRows` from 0). */
const told = (): OutboxEvent[] => [...events];

/** The disk is full from now on: SQLite fails (SQLITE_FULL) whatever would grow the file. */
const capFile = () => db.pragma(`max_page_count = ${pageCount(sql)}`);

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** A real SQLITE_FULL: a row the capped file has no room for. */
const sqliteFull = () => thrownBy(() => put(1, 0, 100_000));
const notNull = () => thrownBy(() => db.prepare('INSERT INTO meta (key, value) VALUES (?, NULL)').run('k'));

type PageLimitAt = (tryNo: number) => number | undefined;

/**
 * A commit of one row of `bytes` through storeRow, as the Outbox's; `pageLimitAt(try)` is the margin's page
 * limit at each try (none by default). `calls` counts the tries.
 */
function commitOf(msg: OutboxMessage, bytes: number, pageLimitAt: PageLimitAt = () => undefined) {
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
function failed(msg: OutboxMessage, commit: () => EnqueueResult, storedBytes: number, counted = true) {
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

const detection: OutboxMessage = { topic: 'vigil/s/d/detections', priority: 0, build: () => null };
const reading: OutboxMessage = { topic: 'vigil/s/d/pm25', priority: 1, build: () => null };
const alert: OutboxMessage = { topic: 'vigil/s/d/events', priority: 2, build: () => null };
const stored = { id: 'new', seq: 9 };
const refused = { id: 'new', seq: null, dropped: 'disk-full' };
function diskFull(msg: OutboxMessage, freedRows: number, dropped: boolean, error: string) {
  const { topic, priority } = msg;
  return { type: 'disk-full', topic, priority, freedRows, dropped, error };
}

describe('isDiskFull', () => {
  it('is true for the margin refusal and a real SQLITE_FULL, false for any other failure', () => {
    put(1, 0);
    capFile();
    const err = sqliteFull();
    expect(err).toBeInstanceOf(Database.SqliteError);
    expect(err).toMatchObject({ code: 'SQLITE_FULL', message: diskFullText });
    expect(isDiskFull(err)).toBe(true);
    expect(isDiskFull(new DiskLowRefusal('no room'))).toBe(true);

    expect(notNull()).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(isDiskFull(notNull())).toBe(false);
    for (const other of [new Error(diskFullText), 'SQLITE_FULL', null, undefined, { code: 'SQLITE_FULLY' }])
      expect(isDiskFull(other)).toBe(false);
  });
});

describe('FullDisk.deferDelete', () => {
  it('on a full disk keeps the delete for the next commit and records the failure', () => {
    const [pk] = put(1, 2) as [number];
    capFile();
    expect(full.deferDelete(pk, 'rejected', sqliteFull())).toBe(true);
    expect(unwritten.has(pk)).toBe(true);
    expect(pks()).toEqual([pk]); // still stored: nothing could be written
    expect(full.failure).toEqual({ message: `disk full: ${diskFullText}`, at });

    expect(full.deferDelete(pk + 1, undefined, new DiskLowRefusal('under the margin'))).toBe(true);
    expect(unwritten.has(pk + 1)).toBe(true);
    expect(full.failure?.message).toBe('disk full: under the margin');
  });

  it('rethrows any other failure as it was, deferring and recording nothing', () => {
    const err = notNull();
    expect(thrownBy(() => full.deferDelete(1, undefined, err))).toBe(err);
    expect(unwritten.has(1)).toBe(false);
    expect(full.failure).toBeUndefined();
  });
});

describe('FullDisk.retryOrRefuse after SQLITE_FULL', () => {
  it('frees the oldest routine rows (at least 64 KiB) and commits the message on its second try', () => {
    const [oldAlert] = put(1, 2);
    put(100, 0);
    capFile();
    const commit = commitOf(reading, 3000);
    const err = thrownBy(commit);
    expect(err).toMatchObject({ code: 'SQLITE_FULL' });

    const { attempt, deltas } = failed(reading, commit, 101_000);
    expect(full.retryOrRefuse(err, attempt)).toEqual(stored);
    expect(commit.calls).toBe(2);
    // 66 rows of 1000 bytes reach 64 KiB; the new row (pk 102) went into their pages.
    expect(pks()).toEqual([oldAlert, ...range(68, 101), 102]);
    expect(deltas).toEqual([{ rows: -66, bytes: -66_000, drops: new Map([['disk-full:0', 66]]) }]);
    expect(storedDrops()).toEqual([{ reason: 'disk-full', priority: 0, count: 66 }]);
    expect(events).toEqual([]);
    expect(full.failure).toBeUndefined();
  });

  it('frees a hundredth of what is stored when that is more, rounded up', () => {
    put(150, 0);
    capFile();
    const commit = commitOf(reading, 3000);
    const { attempt, deltas } = failed(reading, commit, 10_000_001);
    expect(full.retryOrRefuse(thrownBy(commit), attempt)).toEqual(stored);
    // A target of 100 001 bytes: 101 rows of 1000.
    expect(deltas.map((d) => d.rows)).toEqual([-101]);
  });

  it('applies the deferred deletes in the same transaction as the freeing', () => {
    const [rejected, acked] = put(2, 2) as [number, number];
    put(100, 0);
    capFile();
    const commit = commitOf(reading, 3000);
    const err = thrownBy(commit);
    full.deferDelete(rejected, 'rejected', err);
    full.deferDelete(acked, undefined, err);

    const { attempt, deltas } = failed(reading, commit, 102_000);
    expect(full.retryOrRefuse(err, attempt)).toEqual(stored);
    expect(pks()).toEqual([...range(69, 102), 103]);
    const drops = new Map([['rejected:2', 1], ['disk-full:0', 66]]); // prettier-ignore
    expect(deltas).toEqual([{ rows: -68, bytes: -68_000, drops }]);
    expect(unwritten.has(rejected)).toBe(false);
  });

  it('refuses with the latest error when the second try fails for the disk too', () => {
    put(20, 2);
    put(10, 0);
    capFile();
    // The first try hits SQLITE_FULL; by the second the disk has some room but is under the margin, and a
    // routine message finds no routine row left to displace.
    const commit = commitOf(detection, 40_000, (t) => {
      if (t === 1) return undefined;
      db.pragma('max_page_count = 1000000');
      return pageCount(sql);
    });
    const err = thrownBy(commit);
    expect(err).toMatchObject({ code: 'SQLITE_FULL' });

    const { attempt } = failed(detection, commit, 30_000);
    expect(full.retryOrRefuse(err, attempt)).toEqual(refused);
    expect(commit.calls).toBe(2);
    const why = 'no room under the free-space margin and no older message may make way';
    expect(events).toEqual([diskFull(detection, 10, true, why)]);
    expect(full.failure).toEqual({ message: `disk full: ${why}`, at });
    // The 10 freed and the refused message itself.
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 11 }]);
    expect(pks()).toEqual(range(1, 20));
  });

  it('rethrows a second try that fails otherwise, the freeing kept', () => {
    put(100, 0);
    capFile();
    const other = new Error('build threw');
    const throwOther = () => {
      throw other;
    };
    const { attempt, deltas } = failed(reading, throwOther, 100_000);
    expect(thrownBy(() => full.retryOrRefuse(sqliteFull(), attempt))).toBe(other);
    expect(deltas.map((d) => d.rows)).toEqual([-66]);
    expect(pks()).toEqual(range(67, 100));
    expect(events).toEqual([]);
  });

  it('with no routine row to free refuses at once, without a second try', () => {
    put(20, 2);
    capFile();
    const commit = commitOf(alert, 100_000);
    const { attempt } = failed(alert, commit, 20_000);
    expect(full.retryOrRefuse(thrownBy(commit), attempt)).toEqual(refused);
    expect(commit.calls).toBe(1);
    expect(pks()).toEqual(range(1, 20));
    expect(told()).toEqual([diskFull(alert, 0, true, diskFullText)]);
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 2, count: 1 }]);
    expect(full.failure).toEqual({ message: `disk full: ${diskFullText}`, at });
  });
});

describe('FullDisk.retryOrRefuse when the freeing cannot be written', () => {
  // A trigger makes every delete write a large row: the freeing itself then needs pages a full disk lacks.
  const onDelete = (action: string) => {
    db.exec('CREATE TABLE ballast (b BLOB)');
    db.exec(`CREATE TRIGGER ballast BEFORE DELETE ON outbox BEGIN ${action}; END`);
  };

  it('on SQLITE_FULL refuses with nothing freed, the deferred deletes kept for later', () => {
    onDelete('INSERT INTO ballast VALUES (zeroblob(100000))');
    const [acked] = put(1, 2) as [number];
    put(100, 0);
    capFile();
    const commit = commitOf(reading, 10_000);
    const err = thrownBy(commit);
    full.deferDelete(acked, undefined, err);
    const { attempt, deltas } = failed(reading, commit, 100_000);
    expect(full.retryOrRefuse(err, attempt)).toEqual(refused);
    expect(commit.calls).toBe(1);
    expect(deltas).toEqual([]);
    expect(pks()).toHaveLength(101);
    expect(unwritten.has(acked)).toBe(true);
    expect(events).toEqual([diskFull(reading, 0, true, diskFullText)]);
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 1, count: 1 }]);
  });

  it('rethrows any other failure of the freeing', () => {
    onDelete(`SELECT RAISE(ABORT, 'no deletes')`);
    put(100, 0);
    capFile();
    const commit = commitOf(reading, 10_000);
    const { attempt } = failed(reading, commit, 100_000);
    const err = thrownBy(commit);
    expect(thrownBy(() => full.retryOrRefuse(err, attempt))).toMatchObject({ message: 'no deletes' });
    expect(pks()).toHaveLength(100);
    expect(events).toEqual([]);
  });
});

describe('FullDisk.retryOrRefuse under the free-space margin', () => {
  it('refuses at once, freeing nothing: every row the message may displace was tried already', () => {
    put(5, 0, 100);
    // A real refusal: not even the 5 small routine rows make room for 40 kB without growing the file.
    const commit = commitOf(detection, 40_000, () => pageCount(sql));
    const err = thrownBy(commit);
    expect(err).toBeInstanceOf(DiskLowRefusal);

    const { attempt, deltas } = failed(detection, commit, 500);
    expect(full.retryOrRefuse(err, attempt)).toEqual(refused);
    expect(commit.calls).toBe(1);
    expect(deltas).toEqual([]);
    expect(pks()).toEqual(range(1, 5));
    const why = 'no room under the free-space margin even with 5 older messages evicted';
    expect(events).toEqual([diskFull(detection, 0, true, why)]);
    expect(full.failure).toEqual({ message: `disk full: ${why}`, at });
    expect(storedDrops()).toEqual([{ reason: 'disk-full', priority: 0, count: 1 }]);
  });
});

describe('FullDisk.retryOrRefuse for a message not counted (a drop report, rebuilt at its next try)', () => {
  it('counts no drop of its own: after SQLITE_FULL only the rows freed for it, under the margin none', () => {
    put(10, 0);
    capFile();
    const commit = commitOf(reading, 200_000);
    const { attempt } = failed(reading, commit, 10_000, false);
    expect(full.retryOrRefuse(thrownBy(commit), attempt)).toEqual(refused);
    expect(commit.calls).toBe(2);
    expect(events).toEqual([diskFull(reading, 10, false, diskFullText)]);
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 10 }]);

    const margin = failed(detection, commit, 0, false).attempt;
    expect(full.retryOrRefuse(new DiskLowRefusal('no room'), margin)).toEqual(refused);
    expect(commit.calls).toBe(2);
    expect(events.at(-1)).toEqual(diskFull(detection, 0, false, 'no room'));
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 10 }]);
    expect(full.failure).toEqual({ message: 'disk full: no room', at });
  });
});
