import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { OutboxConfig } from '../../config/schema.js';
import { DropCounts, tally, type DropReason, type DropTally, type OutboxPriority } from './drop-counts.js';
import { openOutboxDatabase, type MovedAside } from './open-database.js';
import type { EnqueueResult, OutboxEvent, OutboxMessage, OutboxOptions, OutboxRow } from './outbox-types.js';

export { dropReasons, type DropReason, type OutboxPriority } from './drop-counts.js';
export type { MovedAside } from './open-database.js';
export type * from './outbox-types.js';

/** Changes made inside a transaction, applied to the in-memory totals only once it has committed. */
interface Delta {
  rows: number;
  bytes: number;
  drops: DropTally;
}

const statements = {
  insert: `INSERT INTO outbox (id, topic, payload, retain, priority, stream, seq, coalesce_key, created_at, bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  nextSeq: `INSERT INTO streams (stream, seq) VALUES (?, 1)
            ON CONFLICT (stream) DO UPDATE SET seq = seq + 1 RETURNING seq`,
  coalesce: 'DELETE FROM outbox WHERE coalesce_key = ? RETURNING bytes',
  oldest: 'SELECT pk, priority, bytes, created_at AS createdAt FROM outbox ORDER BY pk LIMIT ?',
  oldestOf: 'SELECT pk, bytes FROM outbox WHERE priority = ? ORDER BY pk LIMIT ?',
  delete: 'DELETE FROM outbox WHERE pk = ? RETURNING priority, bytes',
  next: `SELECT pk AS rowid, id, topic, payload, retain, priority, stream, seq, created_at AS createdAt, bytes
         FROM outbox ORDER BY pk LIMIT ?`,
  setMeta: 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)',
};

const newDelta = (): Delta => ({ rows: 0, bytes: 0, drops: new Map() });
const ageCheckEveryMs = 1000;
const batch = 64;
const isDiskFull = (err: unknown) => (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The durable store-and-forward queue: every outbound message is committed here before it may be
 * published, and deleted only on the broker's PUBACK. Bounded by rows, bytes and age; the totals are
 * kept in memory so the bounds cost nothing per insert.
 */
export class Outbox {
  private rows: number;
  private bytes: number;
  private lastAgeCheck = -Infinity;
  private moved: MovedAside[];
  private closed = false;
  private readonly dropped: DropCounts;
  private readonly sql: Record<keyof typeof statements, Statement>;

  private constructor(
    private readonly db: Database,
    private readonly cfg: OutboxConfig,
    private readonly now: () => number,
    private readonly onEvent: (e: OutboxEvent) => void,
  ) {
    const q = (s: string) => db.prepare(s);
    this.sql = Object.fromEntries(
      Object.entries(statements).map(([k, text]) => [k, q(text)]),
    ) as Outbox['sql'];
    const totals = q('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox').get() as {
      n: number;
      b: number;
    };
    this.rows = totals.n;
    this.bytes = totals.b;
    this.dropped = new DropCounts(db);
    const moved = q("SELECT value FROM meta WHERE key = 'moved-aside'").get() as
      { value: string } | undefined;
    this.moved = moved ? (JSON.parse(moved.value) as MovedAside[]) : [];
  }

  static open(file: string, cfg: OutboxConfig, opts: OutboxOptions = {}): Outbox {
    const now = opts.now ?? Date.now;
    const onEvent = opts.onEvent ?? (() => {});
    const { db, movedAside } = openOutboxDatabase(file, cfg.synchronous, now);
    const outbox = new Outbox(db, cfg, now, onEvent);
    if (movedAside) {
      // Remembered in the fresh database, so it is reported even if the agent restarts first.
      outbox.moved.push(movedAside);
      outbox.sql.setMeta.run('moved-aside', JSON.stringify(outbox.moved));
      onEvent({ type: 'corrupt-moved-aside', ...movedAside });
    }
    return outbox;
  }

  /** Commits one message (or counts it as dropped). Never throws for a full disk. */
  enqueue(msg: OutboxMessage): EnqueueResult {
    const id = randomUUID();
    let error: unknown;
    try {
      return this.commit(id, msg);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      error = err;
    }
    const freedRows = this.freeRoutineRows();
    if (freedRows > 0) {
      try {
        return this.commit(id, msg);
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        error = err;
      }
    }
    this.dropped.add('disk-full', msg.priority);
    const { topic, priority } = msg;
    this.onEvent({ type: 'disk-full', topic, priority, freedRows, dropped: true, error: errorText(error) });
    return { id, seq: null, dropped: 'disk-full' };
  }

  /** Up to `limit` rows, oldest first, skipping `exclude` (the rows already in flight). */
  next(limit: number, exclude: ReadonlySet<number>): OutboxRow[] {
    if (limit <= 0) return [];
    const raw = this.sql.next.all(limit + exclude.size) as (Omit<OutboxRow, 'retain'> & { retain: number })[];
    const out: OutboxRow[] = [];
    for (const r of raw) {
      if (exclude.has(r.rowid)) continue;
      out.push({ ...r, retain: r.retain === 1 });
      if (out.length === limit) break;
    }
    return out;
  }

  /** The broker acknowledged the row: it is gone. False when it was already gone (coalesced or dropped). */
  ack(rowid: number): boolean {
    return this.remove(rowid) !== undefined;
  }

  /** Removes a row that can never be delivered (e.g. refused by the broker), counting it as dropped. */
  drop(rowid: number, reason: DropReason): boolean {
    const removed = this.remove(rowid);
    if (removed) this.dropped.add(reason, removed.priority);
    return removed !== undefined;
  }

  depth(): { rows: number; bytes: number; oldestAgeMs: number } {
    const oldest = this.sql.oldest.get(1) as { createdAt: number } | undefined;
    return {
      rows: this.rows,
      bytes: this.bytes,
      oldestAgeMs: oldest ? Math.max(0, this.now() - oldest.createdAt) : 0,
    };
  }

  /** Messages dropped since the counts were last cleared, by reason. */
  drops(): Record<DropReason, number> {
    return this.dropped.totals();
  }

  dropDetail(): { reason: DropReason; priority: OutboxPriority; count: number }[] {
    return this.dropped.detail();
  }

  /** Call once the counts are reported; called inside an enqueue's build() it commits with the report. */
  clearDrops(): void {
    this.dropped.clear();
  }

  /** Corrupt databases moved aside and not yet reported. */
  movedAside(): readonly MovedAside[] {
    return this.moved;
  }

  clearMovedAside(): void {
    this.db.prepare("DELETE FROM meta WHERE key = 'moved-aside'").run();
    this.moved = [];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropped.flush();
    this.db.close();
  }

  private commit(id: string, msg: OutboxMessage): EnqueueResult {
    const delta = newDelta();
    const result = this.db.transaction((): EnqueueResult => {
      this.expire(delta);
      if (msg.coalesceKey !== undefined) {
        for (const r of this.sql.coalesce.all(msg.coalesceKey) as { bytes: number }[]) {
          delta.rows -= 1;
          delta.bytes -= r.bytes;
        }
      }
      const seq = msg.stream === undefined ? null : (this.sql.nextSeq.get(msg.stream) as { seq: number }).seq;
      const ts = this.now();
      const payload = Buffer.from(JSON.stringify(msg.build({ id, seq, ts })));
      const bytes = payload.length + Buffer.byteLength(msg.topic);
      const refused = this.makeRoom(msg.priority, bytes, delta);
      if (refused) {
        // The seq stays used: subscribers see the gap.
        tally(delta.drops, refused, msg.priority);
      } else {
        const { topic, priority, stream = null, coalesceKey = null } = msg;
        this.sql.insert.run(
          id,
          topic,
          payload,
          msg.retain ? 1 : 0,
          priority,
          stream,
          seq,
          coalesceKey,
          ts,
          bytes,
        );
        delta.rows += 1;
        delta.bytes += bytes;
      }
      this.dropped.write(delta.drops);
      return refused ? { id, seq, dropped: refused } : { id, seq };
    })();
    this.committed(delta);
    return result;
  }

  private committed(delta: Delta): void {
    this.rows += delta.rows;
    this.bytes += delta.bytes;
    this.dropped.committed(delta.drops);
  }

  /**
   * Evicts the oldest rows of priority <= `priority`, lowest priority first, until the new row fits;
   * returns the bound that still refuses it. An alert never makes way for a routine message.
   */
  private makeRoom(priority: OutboxPriority, bytes: number, delta: Delta): DropReason | undefined {
    const { maxRows, maxBytes } = this.cfg;
    const over = (): DropReason | undefined =>
      this.rows + delta.rows + 1 > maxRows
        ? 'max-rows'
        : this.bytes + delta.bytes + bytes > maxBytes
          ? 'max-bytes'
          : undefined;
    if (bytes > maxBytes) return 'max-bytes';
    for (let p = 0; p <= priority && over(); p++) {
      let victims: { pk: number; bytes: number }[];
      do {
        victims = this.sql.oldestOf.all(p, batch) as { pk: number; bytes: number }[];
        for (const v of victims) {
          const reason = over();
          if (!reason) break;
          this.sql.delete.run(v.pk);
          delta.rows -= 1;
          delta.bytes -= v.bytes;
          tally(delta.drops, reason, p);
        }
      } while (victims.length === batch && over());
    }
    return over();
  }

  /** Drops rows older than maxAgeHours. Rows are in creation order, so it stops at the first young one. */
  private expire(delta: Delta): void {
    const now = this.now();
    if (now - this.lastAgeCheck < ageCheckEveryMs) return;
    this.lastAgeCheck = now;
    const cutoff = now - this.cfg.maxAgeHours * 3_600_000;
    for (;;) {
      const rows = this.sql.oldest.all(batch) as {
        pk: number;
        priority: number;
        bytes: number;
        createdAt: number;
      }[];
      const old = rows.filter((r) => r.createdAt < cutoff);
      for (const r of old) {
        this.sql.delete.run(r.pk);
        delta.rows -= 1;
        delta.bytes -= r.bytes;
        tally(delta.drops, 'max-age', r.priority);
      }
      if (old.length < batch) return;
    }
  }

  /** After SQLITE_FULL: deletes the oldest routine rows so their pages can be reused. Returns the count. */
  private freeRoutineRows(): number {
    const delta = newDelta();
    const target = Math.max(64 * 1024, Math.ceil(this.bytes / 100));
    try {
      this.db.transaction(() => {
        let freed = 0;
        for (const v of this.sql.oldestOf.all(0, 10_000) as { pk: number; bytes: number }[]) {
          if (freed >= target) break;
          this.sql.delete.run(v.pk);
          freed += v.bytes;
          delta.rows -= 1;
          delta.bytes -= v.bytes;
          tally(delta.drops, 'disk-full', 0);
        }
        this.dropped.write(delta.drops);
      })();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      return 0;
    }
    this.committed(delta);
    return -delta.rows;
  }

  private remove(rowid: number): { priority: OutboxPriority; bytes: number } | undefined {
    const removed = this.sql.delete.get(rowid) as { priority: OutboxPriority; bytes: number } | undefined;
    if (removed) {
      this.rows -= 1;
      this.bytes -= removed.bytes;
    }
    return removed;
  }
}
