import type { Database } from 'better-sqlite3';
import type { DeferredDeletes } from './deferred-deletes.js';
import { DiskLowRefusal } from './disk-low-bound.js';
import type { DropCounts, DropReason } from './drop-counts.js';
import { freeRoutine, newDelta, type Delta } from './outbox-bounds.js';
import type { OutboxStatements } from './outbox-sql.js';
import type { EnqueueResult, OutboxEvent, OutboxMessage } from './outbox-types.js';

/** SQLite found the disk full, or the free-space margin left no room for the row. */
export const isDiskFull = (err: unknown) =>
  err instanceof DiskLowRefusal || (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** An enqueue whose commit failed for a full disk. */
export interface FailedCommit {
  id: string;
  msg: OutboxMessage;
  /** False for a drop report: rebuilt from the counts at its next try, it counts no drop of its own. */
  counted: boolean;
  /** The outbox's committed bytes (what to free is a share of them). */
  storedBytes: number;
  /** Tries the commit again. */
  commit: () => EnqueueResult;
  /** Applies what the freeing committed to the outbox's totals. */
  committed: (delta: Delta) => void;
}

/**
 * What the outbox does when its disk is full: a delete that cannot be written waits for the next commit, a
 * message that cannot be committed is counted and told, and the latest failure is kept for health.
 */
export class FullDisk {
  /** The latest storage failure. */
  failure: { message: string; at: number } | undefined;

  constructor(
    private readonly db: Database,
    private readonly sql: OutboxStatements,
    private readonly unwritten: DeferredDeletes,
    private readonly dropped: DropCounts,
    private readonly now: () => number,
    private readonly onEvent: (e: OutboxEvent) => void,
  ) {}

  /** A delete that hit a full disk: done inside the next commit that can be written. */
  deferDelete(rowid: number, reason: DropReason | undefined, err: unknown): boolean {
    if (!isDiskFull(err)) throw err;
    this.unwritten.add(rowid, reason);
    this.failed(err);
    return true;
  }

  /**
   * `attempt.commit` failed for a full disk: after SQLITE_FULL, frees the oldest routine rows and tries once
   * more; then (or at once for the margin, where every row the message may displace was tried already and
   * freeing more would only lose them) refuses the message.
   */
  retryOrRefuse(error: unknown, attempt: FailedCommit): EnqueueResult {
    const { storedBytes, commit } = attempt;
    const freed =
      error instanceof DiskLowRefusal
        ? undefined
        : this.freeRoutineRows(Math.max(64 * 1024, Math.ceil(storedBytes / 100)));
    if (freed) attempt.committed(freed);
    const freedRows = freed ? Math.max(0, -freed.rows) : 0; // never -0 in the event
    if (freedRows > 0) {
      try {
        return commit();
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        error = err;
      }
    }
    return this.refuse(attempt.id, attempt.msg, attempt.counted, freedRows, error);
  }

  /**
   * After SQLITE_FULL: deletes about `targetBytes` of the oldest routine rows so their pages can be reused.
   * Returns what it committed, for the caller's totals; undefined when even that could not be written.
   */
  private freeRoutineRows(targetBytes: number): Delta | undefined {
    const delta = newDelta();
    try {
      this.db.transaction(() => {
        this.unwritten.applyIn(this.sql, delta);
        freeRoutine(this.sql, targetBytes, delta);
        this.dropped.write(delta.drops);
      })();
    } catch (err) {
      this.dropped.rolledBack();
      if (!isDiskFull(err)) throw err;
      return undefined;
    }
    return delta;
  }

  /** A message that could not be committed: counted as a `disk-full` drop (see `counted`) and told. */
  private refuse(
    id: string,
    msg: OutboxMessage,
    counted: boolean,
    freedRows: number,
    error: unknown,
  ): EnqueueResult {
    const { topic, priority } = msg;
    if (counted) this.dropped.add('disk-full', priority);
    this.failed(error);
    this.onEvent({
      type: 'disk-full',
      topic,
      priority,
      freedRows,
      dropped: counted,
      error: errorText(error),
    });
    return { id, seq: null, dropped: 'disk-full' };
  }

  private failed(err: unknown): void {
    this.failure = { message: `disk full: ${errorText(err)}`, at: this.now() };
  }
}
