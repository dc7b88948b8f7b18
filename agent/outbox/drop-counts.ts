import type { Database, Statement } from 'better-sqlite3';

export const dropReasons = [
  'max-rows',
  'max-bytes',
  'max-age',
  'disk-low',
  'disk-full',
  'rejected',
  'expired',
] as const;
export type DropReason = (typeof dropReasons)[number];
/** 0 routine (detections), 1 readings, 2 alerts and command responses. Lower priorities are dropped first. */
export type OutboxPriority = 0 | 1 | 2;

export type DropTally = Map<string, number>;
export interface DropDetail {
  reason: DropReason;
  priority: OutboxPriority;
  count: number;
}

const key = (reason: DropReason, priority: number) => `${reason}:${priority}`;

/** Adds one (or n) drops of `reason` at `priority` to a tally. */
export function tally(t: DropTally, reason: DropReason, priority: number, n = 1): void {
  const k = key(reason, priority);
  t.set(k, (t.get(k) ?? 0) + n);
}

function merge(into: DropTally, from: DropTally): void {
  for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
}

function totalsOf(t: DropTally): Record<DropReason, number> {
  const out = Object.fromEntries(dropReasons.map((r) => [r, 0])) as Record<DropReason, number>;
  for (const [k, n] of t) out[k.split(':')[0] as DropReason] += n;
  return out;
}

function detailOf(t: DropTally): DropDetail[] {
  return [...t].map(([k, count]) => {
    const [reason, priority] = k.split(':') as [DropReason, string];
    return { reason, priority: Number(priority) as OutboxPriority, count };
  });
}

const isDiskFull = (err: unknown) => (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';

/**
 * Counts of dropped messages by reason and priority, persisted in the outbox database so they survive
 * a restart until reported. Counts taken while the disk is full wait in memory for the next commit.
 */
export class DropCounts {
  private readonly saved: DropTally = new Map();
  private readonly pending: DropTally = new Map();
  /** Every drop counted by this process, reported or not (for health). */
  private readonly lifetime: DropTally = new Map();
  /** Set by reset() inside a transaction: the stored counts are being reported and deleted. */
  private resetting = false;
  private readonly upsert: Statement;

  constructor(private readonly db: Database) {
    this.upsert = db.prepare(`INSERT INTO drops (reason, priority, count) VALUES (?, ?, ?)
                              ON CONFLICT (reason, priority) DO UPDATE SET count = count + excluded.count`);
    const rows = db.prepare('SELECT reason, priority, count FROM drops').all() as DropDetail[];
    for (const r of rows) tally(this.saved, r.reason, r.priority, r.count);
  }

  /** Inside the caller's transaction: writes the pending counts plus `extra`. Call committed() after. */
  write(extra: DropTally): void {
    for (const t of this.resetting ? [extra] : [this.pending, extra]) {
      for (const [k, n] of t) {
        const [reason, priority] = k.split(':');
        this.upsert.run(reason, Number(priority), n);
      }
    }
  }

  /** Inside the caller's transaction, before write(): deletes every stored count (they are being reported). */
  reset(): void {
    this.db.prepare('DELETE FROM drops').run();
    this.resetting = true;
  }

  /** The transaction that called write(extra) committed. */
  committed(extra: DropTally): void {
    if (this.resetting) {
      this.saved.clear();
      this.pending.clear();
      this.resetting = false;
    } else {
      merge(this.saved, this.pending);
      this.pending.clear();
    }
    merge(this.saved, extra);
    merge(this.lifetime, extra);
  }

  /** The transaction rolled back: memory is as it was before it. */
  rolledBack(): void {
    this.resetting = false;
  }

  /** Counts a drop now, writing it in its own transaction when the disk allows. */
  add(reason: DropReason, priority: number): void {
    tally(this.pending, reason, priority);
    tally(this.lifetime, reason, priority);
    this.flush();
  }

  /** Writes the pending counts; false when the disk is still full (they stay pending). */
  flush(): boolean {
    if (this.pending.size === 0) return true;
    const none: DropTally = new Map();
    try {
      this.db.transaction(() => this.write(none))();
    } catch (err) {
      this.rolledBack();
      if (!isDiskFull(err)) throw err;
      return false;
    }
    this.committed(none);
    return true;
  }

  /** Counts not yet reported, by reason and priority. */
  detail(): DropDetail[] {
    const all = new Map(this.saved);
    merge(all, this.pending);
    return detailOf(all);
  }

  /** Counts taken while the disk was full and not written yet (lost if the process ends now). */
  pendingDetail(): DropDetail[] {
    return detailOf(this.pending);
  }

  /** Counts not yet reported, by reason. */
  totals(): Record<DropReason, number> {
    const all = new Map(this.saved);
    merge(all, this.pending);
    return totalsOf(all);
  }

  /** Every drop this process counted, by reason, whether reported or not. */
  sinceStart(): Record<DropReason, number> {
    return totalsOf(this.lifetime);
  }

  clear(): void {
    this.db.prepare('DELETE FROM drops').run();
    this.saved.clear();
    this.pending.clear();
  }
}
