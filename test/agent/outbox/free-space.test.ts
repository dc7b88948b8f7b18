import { mkdirSync, mkdtempSync, rmSync, rmdirSync, statfsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FreeSpace,
  limitWal,
  statfsFreeBytes,
  type FreeSpaceReading,
} from '../../../agent/outbox/free-space.js';
import { cannotMount, fillLeaving, mountTmpfs, unmount } from '../../support/tmpfs.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const mountRefused = cannotMount();
/** Blocks reserved for root on the temp dir's filesystem (ext4 keeps 5 %), bytes; a tmpfs has none. */
const reserved = (({ bfree, bavail, bsize }) => (bfree - bavail) * bsize)(statfsSync(tmpdir()));

/** A transition as the tests write it: the free bytes read, or the reading's error message. */
type Told = [boolean, number | string];
const told = (low: boolean, r: FreeSpaceReading): Told => [low, 'freeBytes' in r ? r.freeBytes : r.readError];

let dir: string;
const cleanup: (() => void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-free-space-'));
});

afterEach(() => {
  for (const undo of cleanup.splice(0).reverse()) undo();
  rmSync(dir, { recursive: true, force: true });
});

/** A made-up disk: what it says is free, how often it was read, and the transitions told. */
function fakeDisk(initialFree: number) {
  const disk = {
    free: initialFree as number | Error,
    reads: 0,
    now: 0,
    changes: [] as Told[],
    freeBytes: () => {
      disk.reads++;
      if (disk.free instanceof Error) throw disk.free;
      return disk.free;
    },
  };
  return disk;
}

function watch(disk: ReturnType<typeof fakeDisk>, minFreeBytes: number, everyMs = 0): FreeSpace {
  const onChange = (low: boolean, r: FreeSpaceReading) => disk.changes.push(told(low, r));
  return new FreeSpace(dir, minFreeBytes, onChange, {
    freeBytes: disk.freeBytes,
    everyMs,
    clock: () => disk.now,
  });
}

describe('FreeSpace', () => {
  it('trusts a reading for everyMs: the disk is read again only once the period has passed', () => {
    const disk = fakeDisk(10 * MiB);
    const space = watch(disk, MiB, 1000);
    expect(space.low()).toBe(false);
    expect(disk.reads).toBe(1);

    // The disk fills within the period: the cached verdict stands, nothing is read or told.
    disk.free = 100;
    disk.now = 999;
    expect(space.low()).toBe(false);
    expect(space.lastFreeBytes()).toBe(10 * MiB);
    expect(disk.reads).toBe(1);

    disk.now = 1000;
    expect(space.low()).toBe(true);
    expect(disk.reads).toBe(2);
    expect(space.lastFreeBytes()).toBe(100);

    // The period counts from the latest reading, not from the first.
    disk.free = 10 * MiB;
    disk.now = 1999;
    expect(space.low()).toBe(true);
    expect(disk.reads).toBe(2);
    disk.now = 2000;
    expect(space.low()).toBe(false);
    expect(disk.reads).toBe(3);
  });

  it('by default trusts a reading for a second of performance.now', () => {
    const disk = fakeDisk(10 * MiB);
    const space = new FreeSpace(dir, MiB, () => {}, { freeBytes: disk.freeBytes });
    for (let i = 0; i < 100; i++) space.low();
    expect(disk.reads).toBe(1);
  });

  it('tells onChange only on a transition, with the free bytes of the reading that made it', () => {
    const disk = fakeDisk(2 * MiB);
    const space = watch(disk, MiB);
    const readings = [2 * MiB, 3 * MiB, MiB - 1, 1000, MiB, 5 * MiB, 10];
    const verdicts = readings.map((free) => {
      disk.free = free;
      return space.low();
    });
    // Exactly the margin is not under it.
    expect(verdicts).toEqual([false, false, true, true, false, false, true]);
    expect(disk.changes).toEqual([
      [true, MiB - 1],
      [false, MiB],
      [true, 10],
    ]);
  });

  it('with a margin of 0 is never low and never reads the disk', () => {
    const disk = fakeDisk(0);
    const space = watch(disk, 0);
    for (let i = 0; i < 3; i++) expect(space.low()).toBe(false);
    expect(disk.reads).toBe(0);
    expect(disk.changes).toEqual([]);
    expect(space.lastFreeBytes()).toBeUndefined();
  });

  it('counts a reading that fails as not low, and forgets the last free bytes', () => {
    const disk = fakeDisk(10);
    const space = watch(disk, MiB);
    expect(space.lastFreeBytes()).toBeUndefined(); // before the first reading
    expect(space.low()).toBe(true);
    expect(space.lastFreeBytes()).toBe(10);

    disk.free = new Error('EIO');
    expect(space.low()).toBe(false);
    expect(space.lastFreeBytes()).toBeUndefined();
    // Leaving "low" is a transition: told with the reading's error, not as 0 free bytes (a full disk).
    expect(disk.changes).toEqual([
      [true, 10],
      [false, 'EIO'],
    ]);

    // A failing reading while not low tells nothing.
    expect(space.low()).toBe(false);
    expect(disk.changes).toHaveLength(2);
  });

  it('reads the real disk by default; a directory that is gone counts as not low', () => {
    const changes: Told[] = [];
    const huge = new FreeSpace(dir, 2 ** 60, (low, r) => changes.push(told(low, r)), { everyMs: 0 });
    expect(huge.low()).toBe(true); // no disk has an exbibyte free
    const read = huge.lastFreeBytes();
    expect(read).toBeGreaterThan(0);
    expect(changes).toEqual([[true, read]]);

    const gone = path.join(dir, 'gone');
    mkdirSync(gone);
    const goneChanges: Told[] = [];
    const space = new FreeSpace(gone, 2 ** 60, (low, r) => goneChanges.push(told(low, r)), { everyMs: 0 });
    expect(space.low()).toBe(true);
    rmdirSync(gone);
    expect(() => statfsFreeBytes(gone)).toThrow(/ENOENT/);
    expect(space.low()).toBe(false);
    expect(space.lastFreeBytes()).toBeUndefined();
    expect(goneChanges).toEqual([
      [true, expect.any(Number)],
      [false, expect.stringMatching(/^ENOENT.*statfs/)],
    ]);
  });

  it.skipIf(reserved < 1024 * MiB)(
    "counts only the space an unprivileged writer may use, not root's reserve",
    () => {
      // Halfway into the reserve: over the margin if the reserve counted, under it as it must be.
      const { bavail, bsize } = statfsSync(dir);
      const space = new FreeSpace(dir, bavail * bsize + reserved / 2, () => {}, { everyMs: 0 });
      expect(space.low()).toBe(true);
      expect(space.lastFreeBytes()).toBeLessThan(bavail * bsize + reserved / 4);
    },
  );

  it.skipIf(mountRefused)(
    `follows a real tmpfs filling and emptying${mountRefused ? ` (skipped: ${mountRefused})` : ''}`,
    () => {
      const mounted = mountTmpfs(dir, '1m');
      expect(mounted.status, mounted.stderr).toBe(0);
      cleanup.push(() => unmount(dir));
      const changes: Told[] = [];
      const space = new FreeSpace(dir, 512 * KiB, (low, r) => changes.push(told(low, r)), {
        everyMs: 0,
      });

      // statfs: blocks available to an unprivileged writer, times the block size.
      const { bavail, bsize } = statfsSync(dir);
      expect(statfsFreeBytes(dir)).toBe(bavail * bsize);
      expect(space.low()).toBe(false);
      expect(space.lastFreeBytes()).toBe(MiB);

      const filler = path.join(dir, 'filler');
      fillLeaving(filler, 100 * KiB);
      expect(space.low()).toBe(true);
      const whenFull = statfsFreeBytes(dir);
      expect(whenFull).toBeLessThanOrEqual(100 * KiB);
      expect(space.lastFreeBytes()).toBe(whenFull);

      unlinkSync(filler);
      expect(space.low()).toBe(false);
      expect(changes).toEqual([
        [true, whenFull],
        [false, MiB],
      ]);
    },
  );
});

describe('limitWal', () => {
  let db: Database.Database;
  const pragma = (name: string) => db.pragma(name, { simple: true }) as number;

  function openDb(pageSize = 4096): void {
    db = new Database(path.join(dir, 'outbox.db'));
    cleanup.push(() => db.close());
    db.pragma(`page_size = ${pageSize}`); // takes effect only before the file's first write
    db.pragma('journal_mode = WAL');
    // Not SQLite's defaults: limitWal must set both pragmas, not rely on what was there.
    db.pragma('wal_autocheckpoint = 7');
    db.pragma('journal_size_limit = 12345');
  }

  it('with a margin of 0 sets SQLite defaults: 1000 pages and a 64 MiB WAL', () => {
    openDb();
    limitWal(db, 0);
    expect(pragma('wal_autocheckpoint')).toBe(1000);
    expect(pragma('journal_size_limit')).toBe(64 * MiB);
  });

  it('checkpoints at a quarter of the margin and truncates the WAL back to half of it', () => {
    openDb();
    limitWal(db, MiB);
    expect(pragma('wal_autocheckpoint')).toBe(64); // 256 KiB of 4 KiB pages
    expect(pragma('journal_size_limit')).toBe(512 * KiB);
  });

  it('counts in the pages of the file: smaller pages, more of them', () => {
    openDb(1024);
    expect(pragma('page_size')).toBe(1024);
    limitWal(db, MiB);
    expect(pragma('wal_autocheckpoint')).toBe(256);
    expect(pragma('journal_size_limit')).toBe(512 * KiB);
  });

  it('a small margin checkpoints no more often than every 16 pages', () => {
    openDb();
    limitWal(db, 100 * KiB); // a quarter is 6 pages
    expect(pragma('wal_autocheckpoint')).toBe(16);
    expect(pragma('journal_size_limit')).toBe(50 * KiB);
    limitWal(db, 1); // the odd byte rounds down
    expect(pragma('wal_autocheckpoint')).toBe(16);
    expect(pragma('journal_size_limit')).toBe(0);
  });

  it('a large margin keeps the SQLite defaults as the ceiling', () => {
    openDb();
    limitWal(db, 64 * MiB); // a quarter is 4096 pages, half is 32 MiB
    expect(pragma('wal_autocheckpoint')).toBe(1000);
    expect(pragma('journal_size_limit')).toBe(32 * MiB);
    limitWal(db, 1024 * MiB);
    expect(pragma('wal_autocheckpoint')).toBe(1000);
    expect(pragma('journal_size_limit')).toBe(64 * MiB);
  });
});
