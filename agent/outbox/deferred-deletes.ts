import { tally, type DropReason } from './drop-counts.js';
import type { Delta } from './outbox-bounds.js';
import type { OutboxStatements } from './outbox-sql.js';

/**
 * Rows acknowledged (no reason) or dropped (a reason) whose delete could not be written: a full disk. They
 * stay in the table until the next commit that can be written deletes them; a new connection re-sends them
 * meanwhile, which at-least-once allows.
 */
export class DeferredDeletes {
  private readonly rows = new Map<number, DropReason | undefined>();

  has(rowid: number): boolean {
    return this.rows.has(rowid);
  }

  add(rowid: number, reason: DropReason | undefined): void {
    this.rows.set(rowid, reason);
  }

  /** Inside a transaction: deletes them into `delta`, a drop counted for each dropped one. */
  applyIn(sql: OutboxStatements, delta: Delta): void {
    for (const [rowid, reason] of this.rows) {
      const r = sql.delete.get(rowid) as { priority: number; bytes: number } | undefined;
      if (!r) continue;
      delta.rows -= 1;
      delta.bytes -= r.bytes;
      if (reason) tally(delta.drops, reason, r.priority);
    }
  }

  /** After the transaction that applied them has committed. */
  clear(): void {
    this.rows.clear();
  }
}
