import type { OutboxConfig } from '../../config/schema.js';
import { tally, type DropReason, type DropTally, type OutboxPriority } from './drop-counts.js';
import type { OutboxStatements } from './outbox-sql.js';

/** Changes made inside a transaction, applied to the in-memory totals only once it has committed. */
export interface Delta {
  rows: number;
  bytes: number;
  drops: DropTally;
}

export const newDelta = (): Delta => ({ rows: 0, bytes: 0, drops: new Map() });

const batch = 64;

function remove(sql: OutboxStatements, delta: Delta, pk: number, bytes: number): void {
  sql.delete.run(pk);
  delta.rows -= 1;
  delta.bytes -= bytes;
}

/**
 * Evicts the oldest rows of priority <= `priority`, lowest priority first, until a new row of `bytes`
 * fits; returns the bound that still refuses it. An alert never makes way for a routine message.
 */
export function makeRoom(
  sql: OutboxStatements,
  cfg: OutboxConfig,
  totals: { rows: number; bytes: number },
  priority: OutboxPriority,
  bytes: number,
  delta: Delta,
): DropReason | undefined {
  const { maxRows, maxBytes } = cfg;
  const over = (): DropReason | undefined =>
    totals.rows + delta.rows + 1 > maxRows
      ? 'max-rows'
      : totals.bytes + delta.bytes + bytes > maxBytes
        ? 'max-bytes'
        : undefined;
  if (bytes > maxBytes) return 'max-bytes';
  for (let p = 0; p <= priority && over(); p++) {
    let victims: { pk: number; bytes: number }[];
    do {
      victims = sql.oldestOf.all(p, batch) as { pk: number; bytes: number }[];
      for (const v of victims) {
        const reason = over();
        if (!reason) break;
        remove(sql, delta, v.pk, v.bytes);
        tally(delta.drops, reason, p);
      }
    } while (victims.length === batch && over());
  }
  return over();
}

/** Drops rows created before `cutoff`. Rows are in creation order, so it stops at the first young one. */
export function expireOld(sql: OutboxStatements, cutoff: number, delta: Delta): void {
  for (;;) {
    const rows = sql.oldest.all(batch) as {
      pk: number;
      priority: number;
      bytes: number;
      createdAt: number;
    }[];
    const old = rows.filter((r) => r.createdAt < cutoff);
    for (const r of old) {
      remove(sql, delta, r.pk, r.bytes);
      tally(delta.drops, 'max-age', r.priority);
    }
    if (old.length < batch) return;
  }
}

/** After SQLITE_FULL: deletes the oldest routine rows, about `targetBytes` of them, so their pages can be reused. */
export function freeRoutine(sql: OutboxStatements, targetBytes: number, delta: Delta): void {
  let freed = 0;
  for (const v of sql.oldestOf.all(0, 10_000) as { pk: number; bytes: number }[]) {
    if (freed >= targetBytes) break;
    remove(sql, delta, v.pk, v.bytes);
    freed += v.bytes;
    tally(delta.drops, 'disk-full', 0);
  }
}
