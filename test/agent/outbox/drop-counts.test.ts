import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropCounts, tally, type DropTally } from '../../../agent/outbox/drop-counts.js';
import { migrate } from '../../../agent/outbox/outbox-schema.js';

let dir: string;
let file: string;
const open: Database.Database[] = [];

/** A real outbox database (schema included), as DropCounts finds it in the agent. */
function openDb(): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  open.push(db);
  return db;
}

const stored = (db: Database.Database) =>
  db.prepare('SELECT reason, priority, count FROM drops ORDER BY reason, priority').all();

const tallyOf = (...entries: [Parameters<typeof tally>[1], number, number][]): DropTally => {
  const t: DropTally = new Map();
  for (const [reason, priority, n] of entries) tally(t, reason, priority, n);
  return t;
};

/** Fills the drops table's only page and caps the file at its size: the next new count hits SQLITE_FULL. */
function fillDisk(db: Database.Database): void {
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const junk = db.prepare('INSERT INTO drops (reason, priority, count) VALUES (?, 0, 1)');
  let n = 0;
  // Large rows first, then ever smaller ones, until not even a one-character row fits.
  for (const size of [200, 40, 8, 1]) {
    for (;;) {
      try {
        junk.run(`${n++}`.padStart(size, 'j'));
      } catch (err) {
        expect((err as { code?: string }).code).toBe('SQLITE_FULL');
        break;
      }
    }
  }
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-drops-'));
  file = path.join(dir, 'outbox.db');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tally', () => {
  it('adds to the count of one reason and priority, one by default', () => {
    const t: DropTally = new Map();
    tally(t, 'max-rows', 0);
    tally(t, 'max-rows', 0, 4);
    tally(t, 'max-rows', 2);
    tally(t, 'expired', 0);
    expect(t).toEqual(
      new Map([
        ['max-rows:0', 5],
        ['max-rows:2', 1],
        ['expired:0', 1],
      ]),
    );
  });
});

describe('DropCounts', () => {
  it('starts with every reason at zero and no detail', () => {
    const counts = new DropCounts(openDb());
    expect(counts.detail()).toEqual([]);
    expect(counts.totals()).toEqual({
      'max-rows': 0,
      'max-bytes': 0,
      'max-age': 0,
      'disk-low': 0,
      'disk-full': 0,
      rejected: 0,
      expired: 0,
    });
  });

  it('commits each add at once, so the counts survive a restart', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('rejected', 2);
    counts.add('rejected', 2);
    counts.add('expired', 1);
    expect(stored(db)).toEqual([
      { reason: 'expired', priority: 1, count: 1 },
      { reason: 'rejected', priority: 2, count: 2 },
    ]);
    db.close();

    const again = new DropCounts(openDb());
    expect(again.detail()).toEqual(
      expect.arrayContaining([
        { reason: 'rejected', priority: 2, count: 2 },
        { reason: 'expired', priority: 1, count: 1 },
      ]),
    );
    expect(again.detail()).toHaveLength(2);
    expect(again.totals()).toMatchObject({ rejected: 2, expired: 1, 'max-rows': 0 });
    // Lifetime counts are this process's own: a restart starts them again.
    expect(again.sinceStart()).toMatchObject({ rejected: 0, expired: 0 });
  });

  it('adds the counts of a committed transaction to what is stored and in memory', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('max-rows', 0);
    const extra = tallyOf(['max-rows', 0, 3], ['max-bytes', 1, 2]);
    db.transaction(() => counts.write(extra))();
    counts.committed(extra);
    expect(stored(db)).toEqual([
      { reason: 'max-bytes', priority: 1, count: 2 },
      { reason: 'max-rows', priority: 0, count: 4 },
    ]);
    expect(counts.totals()).toMatchObject({ 'max-rows': 4, 'max-bytes': 2 });
    expect(counts.sinceStart()).toMatchObject({ 'max-rows': 4, 'max-bytes': 2 });
  });

  it('forgets a rolled-back transaction: nothing stored, memory as before', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('expired', 0);
    const extra = tallyOf(['max-age', 0, 5]);
    expect(() =>
      db.transaction(() => {
        counts.write(extra);
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    counts.rolledBack();
    expect(stored(db)).toEqual([{ reason: 'expired', priority: 0, count: 1 }]);
    expect(counts.totals()).toMatchObject({ expired: 1, 'max-age': 0 });
    expect(counts.sinceStart()).toMatchObject({ 'max-age': 0 });
  });

  it('reset() in the reporting transaction leaves only the drops of that transaction', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('rejected', 2);
    counts.add('max-rows', 0);
    const extra = tallyOf(['max-rows', 0, 1]);
    db.transaction(() => {
      counts.reset();
      counts.write(extra);
    })();
    counts.committed(extra);
    expect(stored(db)).toEqual([{ reason: 'max-rows', priority: 0, count: 1 }]);
    expect(counts.detail()).toEqual([{ reason: 'max-rows', priority: 0, count: 1 }]);
    // Reported is not forgotten: health still sees every drop of this process.
    expect(counts.sinceStart()).toMatchObject({ rejected: 1, 'max-rows': 2 });

    // The next write is an ordinary one again.
    counts.add('expired', 1);
    expect(stored(db)).toContainEqual({ reason: 'max-rows', priority: 0, count: 1 });
    expect(stored(db)).toContainEqual({ reason: 'expired', priority: 1, count: 1 });
  });

  it('a report includes the counts pending on a full disk, and reset() keeps them from being stored', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    fillDisk(db);
    counts.add('disk-full', 0); // pending: the disk had no room for it
    db.pragma('max_page_count = 1000000');
    expect(counts.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 1 }]); // what is reported
    const none: DropTally = new Map();
    db.transaction(() => {
      counts.reset();
      counts.write(none);
    })();
    counts.committed(none);
    // Reported once: neither stored for a second report nor still pending.
    expect(stored(db)).toEqual([]);
    expect(counts.detail()).toEqual([]);
    counts.flush();
    expect(stored(db)).toEqual([]);
  });

  it('a rolled-back reset keeps the stored counts and the next write is an ordinary one', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('rejected', 2);
    expect(() =>
      db.transaction(() => {
        counts.reset();
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    counts.rolledBack();
    expect(stored(db)).toEqual([{ reason: 'rejected', priority: 2, count: 1 }]);
    expect(counts.detail()).toEqual([{ reason: 'rejected', priority: 2, count: 1 }]);
    counts.add('rejected', 2);
    expect(stored(db)).toEqual([{ reason: 'rejected', priority: 2, count: 2 }]);
    expect(counts.totals().rejected).toBe(2);
  });

  it('keeps drops counted on a full disk in memory and writes them once there is room', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    fillDisk(db);
    const before = stored(db);
    expect(() => counts.add('disk-full', 2)).not.toThrow();
    expect(stored(db)).toEqual(before);
    expect(counts.detail()).toEqual([{ reason: 'disk-full', priority: 2, count: 1 }]);
    expect(counts.sinceStart()['disk-full']).toBe(1);

    db.pragma('max_page_count = 1000000');
    counts.flush();
    expect(stored(db)).toContainEqual({ reason: 'disk-full', priority: 2, count: 1 });
    // Written once: a second flush has nothing pending.
    counts.flush();
    expect(stored(db)).toContainEqual({ reason: 'disk-full', priority: 2, count: 1 });
    expect(counts.detail()).toEqual([{ reason: 'disk-full', priority: 2, count: 1 }]);
  });

  it('counts pending on a full disk go into the next transaction that writes', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    fillDisk(db);
    counts.add('disk-full', 0);
    db.pragma('max_page_count = 1000000');
    const extra = tallyOf(['max-bytes', 0, 1]);
    db.transaction(() => counts.write(extra))();
    counts.committed(extra);
    expect(stored(db)).toContainEqual({ reason: 'disk-full', priority: 0, count: 1 });
    expect(stored(db)).toContainEqual({ reason: 'max-bytes', priority: 0, count: 1 });
    counts.flush(); // nothing left pending: no second copy
    expect(stored(db)).toContainEqual({ reason: 'disk-full', priority: 0, count: 1 });
  });

  it('throws a storage error other than a full disk, keeping the count pending', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON drops BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    expect(() => counts.add('expired', 0)).toThrow('refused');
    expect(counts.detail()).toEqual([{ reason: 'expired', priority: 0, count: 1 }]);
    db.exec('DROP TRIGGER refuse');
    counts.flush();
    expect(stored(db)).toEqual([{ reason: 'expired', priority: 0, count: 1 }]);
  });

  it('clear() forgets stored and pending counts but not the lifetime ones', () => {
    const db = openDb();
    const counts = new DropCounts(db);
    counts.add('max-age', 1);
    fillDisk(db);
    counts.add('disk-full', 0); // pending
    db.pragma('max_page_count = 1000000');
    counts.clear();
    expect(stored(db)).toEqual([]);
    expect(counts.detail()).toEqual([]);
    expect(counts.sinceStart()).toMatchObject({ 'max-age': 1, 'disk-full': 1 });
    counts.flush();
    expect(stored(db)).toEqual([]);
  });
});
