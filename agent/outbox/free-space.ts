import { statfsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';

/** Bytes an unprivileged writer may still use on the filesystem holding `dir`. */
export type FreeBytesOf = (dir: string) => number;

export const statfsFreeBytes: FreeBytesOf = (dir) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

export interface FreeSpaceOptions {
  /** Default: statfs of the directory. Tests inject their own. */
  freeBytes?: FreeBytesOf;
  /** How long a reading is trusted; default 1000 ms (a statfs per commit would be waste). */
  everyMs?: number;
  /** Monotonic ms; default performance.now. */
  clock?: () => number;
}

/** What a transition was read from: the free bytes, or why the disk could not be read. */
export type FreeSpaceReading = { freeBytes: number } | { readError: string };

/**
 * Whether the disk holding the outbox is below its free-space margin (`outbox.minFreeMiB`), read at most
 * once per `everyMs`. A reading that fails (the directory gone) counts as not low: SQLite then reports
 * what is really wrong.
 */
export class FreeSpace {
  private readonly freeBytesOf: FreeBytesOf;
  private readonly everyMs: number;
  private readonly clock: () => number;
  private readAt = -Infinity;
  private free: number | undefined;
  private wasLow = false;

  constructor(
    private readonly dir: string,
    readonly minFreeBytes: number,
    private readonly onChange: (low: boolean, reading: FreeSpaceReading) => void = () => {},
    opts: FreeSpaceOptions = {},
  ) {
    this.freeBytesOf = opts.freeBytes ?? statfsFreeBytes;
    this.everyMs = opts.everyMs ?? 1000;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** True while the free space is under the margin (never with a margin of 0). */
  low(): boolean {
    if (this.minFreeBytes <= 0) return false;
    const t = this.clock();
    if (t - this.readAt < this.everyMs) return this.wasLow;
    this.readAt = t;
    let reading: FreeSpaceReading;
    try {
      this.free = this.freeBytesOf(this.dir);
      reading = { freeBytes: this.free };
    } catch (err) {
      this.free = undefined;
      reading = { readError: err instanceof Error ? err.message : String(err) };
    }
    const low = this.free !== undefined && this.free < this.minFreeBytes;
    // A failed reading is told as what it is, not as 0 free bytes (which would read as a full disk).
    if (low !== this.wasLow) this.onChange(low, reading);
    this.wasLow = low;
    return low;
  }

  /** The latest reading, bytes (undefined before the first or after a failed one). */
  lastFreeBytes(): number | undefined {
    return this.free;
  }
}

const defaultWalPages = 1000;
/** The smallest checkpoint period: more often would cost a checkpoint per commit or two. */
const minWalPages = 16;
const maxJournalBytes = 64 * 1024 * 1024;

/**
 * Keeps the WAL inside the margin: it is checkpointed (and then rewritten from its start, taking no new
 * space) once it holds a quarter of the margin, and a WAL grown past half of it by a burst is truncated
 * back. The other half covers a checkpoint extending the database file by what the WAL held, and the
 * other writers on the disk. A margin of 0: SQLite's defaults (1000 pages) and a 64 MiB limit.
 * `low`: the disk is under the margin already, so what is left may be less than a quarter of it; a WAL
 * that has not yet reached its size (every start begins with none) would grow into the last free bytes
 * and, once the disk is full, could not be checkpointed any more. It is checkpointed every 16 pages.
 */
export function limitWal(db: Database, minFreeBytes: number, low = false): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const quarter = Math.floor(minFreeBytes / 4 / pageSize);
  const pages =
    minFreeBytes <= 0
      ? defaultWalPages
      : low
        ? minWalPages
        : Math.max(minWalPages, Math.min(defaultWalPages, quarter));
  const journal =
    minFreeBytes > 0 ? Math.min(maxJournalBytes, Math.floor(minFreeBytes / 2)) : maxJournalBytes;
  db.pragma(`wal_autocheckpoint = ${pages}`);
  db.pragma(`journal_size_limit = ${journal}`);
}
