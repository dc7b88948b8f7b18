import { describe, expect, it } from 'vitest';
import { pageCount } from '../../../agent/outbox/disk-low-bound.js';
import {
  alert,
  at,
  capFile,
  commitOf,
  db,
  detection,
  diskFull,
  diskFullText,
  dropped,
  events,
  failed,
  full,
  pks,
  put,
  range,
  reading,
  refused,
  sql,
  sqliteFull,
  stored,
  storedDrops,
  thrownBy,
  told,
  unwritten,
  useFullDisk,
} from './full-disk-fixture.js';

// FullDisk.retryOrRefuse after a real SQLITE_FULL (agent/outbox/full-disk.ts): freeing routine rows and
// trying the commit again, and what happens when the second try or the freeing fails.

useFullDisk();

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
