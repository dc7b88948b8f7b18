import type { Database } from 'better-sqlite3';
import type { OutboxConfig } from '../../config/schema.js';
import type { DeferredDeletes } from './deferred-deletes.js';
import type { DropCounts, DropReason } from './drop-counts.js';
import type { FullDisk } from './full-disk.js';
import type { OutboxStatements } from './outbox-sql.js';

/** A row deleted: its priority and the bytes the bounds counted for it. */
export interface RemovedRow {
  priority: number;
  bytes: number;
}

/**
 * The Outbox's deletes of one row (an ack, a drop), each in its own transaction and outside any commit: apart
 * from the Outbox because they share none of its commit path, only its totals (`removed`).
 */
export class RowDeletes {
  constructor(
    private readonly db: Database,
    private readonly sql: OutboxStatements,
    private readonly synchronous: OutboxConfig['synchronous'],
    private readonly unwritten: DeferredDeletes,
    private readonly full: FullDisk,
    private readonly dropped: DropCounts,
    /** A row is gone: the Outbox's totals follow. */
    private readonly removed: (row: RemovedRow) => void,
  ) {}

  /** The broker acknowledged the row: false when it was already gone; a full disk defers the delete. */
  ack(rowid: number): boolean {
    if (this.unwritten.has(rowid)) return false;
    try {
      return this.withoutFsync(() => this.remove(rowid)) !== undefined;
    } catch (err) {
      return this.full.deferDelete(rowid, undefined, err);
    }
  }

  /** A row that can never be delivered: removed and counted as dropped for `reason`. */
  drop(rowid: number, reason: DropReason): boolean {
    if (this.unwritten.has(rowid)) return false;
    let removed: RemovedRow | undefined;
    try {
      removed = this.remove(rowid);
    } catch (err) {
      return this.full.deferDelete(rowid, reason, err);
    }
    if (removed) this.dropped.add(reason, removed.priority);
    return removed !== undefined;
  }

  /**
   * Runs a write whose loss to a power cut is harmless without an fsync of its own: a lost delete of an
   * acknowledged row means one re-send, which at-least-once allows. The next FULL commit syncs it anyway
   * (the WAL is one file, written in order). Halves the fsyncs per message (ADR 0003).
   */
  private withoutFsync<T>(write: () => T): T {
    const level = this.synchronous;
    if (level !== 'FULL' && level !== 'EXTRA') return write();
    this.db.pragma('synchronous = NORMAL');
    try {
      return write();
    } finally {
      this.db.pragma(`synchronous = ${level}`);
    }
  }

  /**
   * A delete in its own (autocommit) transaction. all(), not get(): get() stops after the first RETURNING
   * row and SQLite commits when the statement is reset, where better-sqlite3 ignores a failure: on a full
   * disk the delete would be rolled back while the row counted as gone.
   */
  private remove(rowid: number): RemovedRow | undefined {
    const [removed] = this.sql.delete.all(rowid) as RemovedRow[];
    if (removed) this.removed(removed);
    return removed;
  }
}
