import type { Database } from 'better-sqlite3';
import { tally, type OutboxPriority } from './drop-counts.js';
import type { Delta } from './outbox-bounds.js';
import type { OutboxStatements } from './outbox-sql.js';

/** The disk is under the margin and no row the message may displace would make room: it is refused. */
export class DiskLowRefusal extends Error {}

interface Victim {
  pk: number;
  bytes: number;
  priority: OutboxPriority;
}

/** The `n` oldest rows a message of `priority` may displace: lowest priority first, then oldest. */
function oldestVictims(sql: OutboxStatements, priority: OutboxPriority, n: number): Victim[] {
  const out: Victim[] = [];
  for (let p = 0; p <= priority && out.length < n; p++) {
    for (const v of sql.oldestOf.all(p, 0, n - out.length) as { pk: number; bytes: number }[])
      out.push({ ...v, priority: p as OutboxPriority });
  }
  return out;
}

export const pageCount = (sql: OutboxStatements) =>
  (sql.pageCount.get() as { page_count: number }).page_count;

const grew = new Error('the database file grew');

/**
 * Inside the commit, while the disk is under the margin: stores the row only in pages the database file
 * already has (`pageLimit`, its size when the transaction began), so the disk loses nothing more to the
 * outbox. First the row alone (pages freed by acks and earlier evictions), then after evicting the 1, 2,
 * 4… oldest rows it may displace (an alert never makes way for a routine message), each try in a savepoint
 * undone if the file grew. Freed pages are reused within the transaction; the extra ones an eviction
 * freed stay on the free list for the next rows. Evictions count as `disk-low`. Throws DiskLowRefusal,
 * having evicted nothing, when even every such row would not make room.
 */
export function insertWithoutGrowing(
  db: Database,
  sql: OutboxStatements,
  pageLimit: number,
  priority: OutboxPriority,
  insert: () => void,
  delta: Delta,
): void {
  const attempt = (victims: Victim[]): boolean => {
    try {
      db.transaction(() => {
        for (const v of victims) sql.delete.run(v.pk);
        insert();
        if (pageCount(sql) > pageLimit) throw grew;
      })();
      return true;
    } catch (err) {
      if (err === grew) return false;
      throw err;
    }
  };
  let tried = -1;
  for (let k = 0; ; k = k * 2 || 1) {
    const victims = k ? oldestVictims(sql, priority, k) : [];
    if (victims.length === tried) break; // none left to try
    tried = victims.length;
    if (!attempt(victims)) continue;
    for (const v of victims) {
      delta.rows -= 1;
      delta.bytes -= v.bytes;
      tally(delta.drops, 'disk-low', v.priority);
    }
    return;
  }
  throw new DiskLowRefusal(
    tried > 0
      ? `no room under the free-space margin even with ${tried} older messages evicted`
      : 'no room under the free-space margin and no older message may make way',
  );
}
