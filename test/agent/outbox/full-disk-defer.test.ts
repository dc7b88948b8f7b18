import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DiskLowRefusal } from '../../../agent/outbox/disk-low-bound.js';
import { isDiskFull } from '../../../agent/outbox/full-disk.js';
import {
  at,
  capFile,
  diskFullText,
  full,
  notNull,
  pks,
  put,
  sqliteFull,
  thrownBy,
  unwritten,
  useFullDisk,
} from './full-disk-fixture.js';

// Telling a full disk from other failures, and the deletes a full disk defers (agent/outbox/full-disk.ts).
// Retrying a commit: full-disk-retry.test.ts; refusing one: full-disk-refusal.test.ts.

useFullDisk();

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
