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
 * fits; returns the bound that still refuses it. An alert never makes way for a routine message. The
 * victims are chosen first and deleted only if the row then fits: a row refused anyway costs no other row.
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
  let rows = totals.rows + delta.rows;
  let stored = totals.bytes + delta.bytes;
  const over = (): DropReason | undefined =>
    rows + 1 > maxRows ? 'max-rows' : stored + bytes > maxBytes ? 'max-bytes' : undefined;
  if (bytes > maxBytes) return 'max-bytes';
  const victims: { pk: number; bytes: number; reason: DropReason; priority: OutboxPriority }[] = [];
  for (let p = 0; p <= priority && over(); p++) {
    let after = 0;
    let page: { pk: number; bytes: number }[];
    do {
      page = sql.oldestOf.all(p, after, batch) as { pk: number; bytes: number }[];
      for (const v of page) {
        const reason = over();
        if (!reason) break;
        victims.push({ ...v, reason, priority: p as OutboxPriority });
        rows -= 1;
        stored -= v.bytes;
        after = v.pk;
      }
    } while (page.length === batch && over());
  }
  const refused = over();
  if (refused) return refused;
  for (const v of victims) {
    remove(sql, delta, v.pk, v.bytes);
    tally(delta.drops, v.reason, v.priority);
  }
  return undefined;
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
  for (const v of sql.oldestOf.all(0, 0, 10_000) as { pk: number; bytes: number }[]) {
    if (freed >= targetBytes) break;
    remove(sql, delta, v.pk, v.bytes);
    freed += v.bytes;
    tally(delta.drops, 'disk-full', 0);
  }
}
