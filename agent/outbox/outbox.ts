import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { OutboxConfig } from '../../config/schema.js';
import { DeferredDeletes } from './deferred-deletes.js';
import { pageCount } from './disk-low-bound.js';
import { encodePayload } from './empty-payload.js';
import { DropCounts, type DropDetail, type DropReason } from './drop-counts.js';
import { FreeSpace, limitWal, type FreeSpaceReading } from './free-space.js';
import { FullDisk, isDiskFull } from './full-disk.js';
import { openOutboxDatabase, type MovedAside } from './open-database.js';
import { OutboxClock } from './outbox-clock.js';
import { expireOld, newDelta, type Delta } from './outbox-bounds.js';
import { writeNote } from './outbox-notes.js';
import { OutboxReader } from './outbox-reader.js';
import { prepareStatements } from './outbox-sql.js';
import { RowDeletes } from './row-deletes.js';
import { storeRow } from './store-row.js';
import type {
  EnqueueResult,
  OutboxEvent,
  OutboxMessage,
  OutboxOptions,
  ReportMessage,
} from './outbox-types.js';

export { dropReasons, type DropDetail, type DropReason, type OutboxPriority } from './drop-counts.js';
export type { MovedAside } from './open-database.js';
export { emptyPayload, retainedClear } from './empty-payload.js';
export type * from './outbox-types.js';

/** Work a report does inside the message's own transaction, and once it has committed. */
interface CommitHooks {
  inTx?: (stored: boolean) => void;
  afterCommit?: (stored: boolean) => void;
  /** Built again from what it reports at the next try (drop counts): a full disk counts no drop for it. */
  retried?: boolean;
}

const ageCheckEveryMs = 1000;

/**
 * The durable store-and-forward queue: every outbound message is committed here before it may be
 * published, and deleted only on the broker's PUBACK. Bounded by rows, bytes and age, and by the free
 * space of its disk (docs/adr/0007-outbox-free-space-margin.md); the totals are kept in memory and the free
 * space is read at most once a second, so the bounds cost next to nothing per insert.
 */
export class Outbox extends OutboxReader {
  private rows: number;
  private bytes: number;
  private lastAgeCheck = -Infinity;
  private moved: MovedAside[];
  /** Deletes a full disk would not let us write (acks and drops): done with the next commit. */
  private readonly unwritten = new DeferredDeletes();
  private closed = false;
  private readonly dropped: DropCounts;
  private readonly full: FullDisk;
  /** Acks and drops (row-deletes.ts). */
  private readonly deletes: RowDeletes;
  /** Ages and expiries: elapsed time, whatever the wall clock does (`now` stamps the payloads). */
  private readonly ageClock: OutboxClock;

  private constructor(
    private readonly db: Database,
    private readonly cfg: OutboxConfig,
    private readonly now: () => number,
    monotonic: () => number,
    private readonly onEvent: (e: OutboxEvent) => void,
    private readonly freeSpace: FreeSpace,
  ) {
    super(prepareStatements(db));
    this.ageClock = new OutboxClock(this.sql, now, monotonic);
    const totals = this.sql.totals.get() as { n: number; b: number };
    this.rows = totals.n;
    this.bytes = totals.b;
    this.dropped = new DropCounts(db);
    this.full = new FullDisk(db, this.sql, this.unwritten, this.dropped, now, onEvent);
    this.deletes = new RowDeletes(
      db,
      this.sql,
      cfg.synchronous,
      this.unwritten,
      this.full,
      this.dropped,
      (r) => {
        this.rows -= 1;
        this.bytes -= r.bytes;
      },
    );
    const moved = this.sql.getMeta.get('moved-aside') as { value: string } | undefined;
    this.moved = moved ? (JSON.parse(moved.value) as MovedAside[]) : [];
  }

  static open(file: string, cfg: OutboxConfig, opts: OutboxOptions = {}): Outbox {
    const now = opts.now ?? Date.now;
    const onEvent = opts.onEvent ?? (() => {});
    const { db, movedAside } = openOutboxDatabase(file, cfg.synchronous, now);
    const minFreeBytes = Math.round(cfg.minFreeMiB * 1024 * 1024);
    limitWal(db, minFreeBytes);
    const onChange = (low: boolean, reading: FreeSpaceReading) => {
      limitWal(db, minFreeBytes, low);
      onEvent({ type: 'free-space', low, ...reading, minFreeBytes });
    };
    const freeSpace = new FreeSpace(path.dirname(path.resolve(file)), minFreeBytes, onChange, opts.freeSpace);
    const monotonic = opts.monotonic ?? (() => performance.now());
    const outbox = new Outbox(db, cfg, now, monotonic, onEvent, freeSpace);
    if (movedAside) {
      // Remembered in the fresh database, so it is reported even if the agent restarts first.
      outbox.moved.push(movedAside);
      outbox.sql.setMeta.run('moved-aside', JSON.stringify(outbox.moved));
      onEvent({ type: 'corrupt-moved-aside', ...movedAside });
    }
    return outbox;
  }

  /** Its bounds and settings (the link reads the drain rate here). */
  get config(): OutboxConfig {
    return this.cfg;
  }

  /** Commits one message (or counts it as dropped). Never throws for a full disk. */
  enqueue(msg: OutboxMessage): EnqueueResult {
    return this.enqueueWith(msg, {});
  }

  /**
   * When drops are counted: commits a report of them (built by `msg.build(detail)`) and clears the counts
   * in the same transaction, so a crash can neither lose them unreported nor report them twice.
   */
  reportDrops(msg: ReportMessage<DropDetail[]>): EnqueueResult | undefined {
    if (this.dropped.detail().length === 0) return undefined;
    // The detail is read inside the transaction: a retry after a full disk includes what it dropped.
    const build: OutboxMessage['build'] = (meta) => msg.build(this.dropped.detail(), meta);
    return this.enqueueWith(
      { ...msg, build },
      { inTx: (stored) => stored && this.dropped.reset(), retried: true },
    );
  }

  /** Commits one message per corrupt file moved aside, each forgotten in the transaction that reports it. */
  reportMovedAside(msg: ReportMessage<MovedAside>): EnqueueResult[] {
    return [...this.moved].map((record) => {
      const rest = () => this.moved.filter((m) => m !== record);
      return this.enqueueWith(
        { ...msg, build: (meta) => msg.build(record, meta) },
        {
          inTx: (stored) => {
            if (!stored) return;
            const left = rest();
            if (left.length) this.sql.setMeta.run('moved-aside', JSON.stringify(left));
            else this.sql.deleteMeta.run('moved-aside');
          },
          afterCommit: (stored) => {
            if (stored) this.moved = rest();
          },
        },
      );
    });
  }

  /**
   * The broker acknowledged the row: it is gone. False when it was already gone (coalesced or dropped).
   * On a full disk the delete waits for the next commit that can be written; it never throws for that.
   */
  ack(rowid: number): boolean {
    return this.deletes.ack(rowid);
  }

  /** Removes a row that can never be delivered (refused by the broker, expired), counting it as dropped. */
  drop(rowid: number, reason: DropReason): boolean {
    return this.deletes.drop(rowid, reason);
  }

  depth(): { rows: number; bytes: number; oldestAgeMs: number } {
    const oldest = this.sql.oldest.get(1) as { createdAt: number } | undefined;
    return {
      rows: this.rows,
      bytes: this.bytes,
      oldestAgeMs: oldest ? Math.max(0, this.clock() - oldest.createdAt) : 0,
    };
  }

  /** What rows' `createdAt` and `expiresAt` are measured against: not the wall clock (see OutboxClock). */
  clock(): number {
    return this.ageClock.now();
  }

  /** Messages dropped since the counts were last cleared, by reason. */
  drops(): Record<DropReason, number> {
    return this.dropped.totals();
  }

  dropDetail(): DropDetail[] {
    return this.dropped.detail();
  }

  /** Every drop this process counted, reported or not. */
  dropsSinceStart(): Record<DropReason, number> {
    return this.dropped.sinceStart();
  }

  /** Prefer reportDrops(); called inside an enqueue's build() it commits with the report. */
  clearDrops(): void {
    this.dropped.clear();
  }

  /** Corrupt databases moved aside and not yet reported. */
  movedAside(): readonly MovedAside[] {
    return this.moved;
  }

  /** Deletes a note (OutboxMessage.note) outside any message, e.g. one that can no longer be read. */
  forgetNote(key: string): void {
    writeNote(this.sql, { key, value: null });
  }

  clearMovedAside(): void {
    this.sql.deleteMeta.run('moved-aside');
    this.moved = [];
  }

  /** The latest storage failure (a full disk), for health. */
  lastError(): { message: string; at: number } | undefined {
    return this.full.failure;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Counts the full disk never let us write die with the process: said once, in the log, at least.
    if (!this.dropped.flush())
      this.onEvent({ type: 'drop-counts-lost', counts: this.dropped.pendingDetail() });
    this.db.close();
  }

  private enqueueWith(msg: OutboxMessage, hooks: CommitHooks): EnqueueResult {
    const id = randomUUID();
    const commit = () => this.commit(id, msg, hooks);
    try {
      return commit();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const counted = !hooks.retried;
      const committed = (delta: Delta) => this.committed(delta);
      return this.full.retryOrRefuse(err, { id, msg, counted, storedBytes: this.bytes, commit, committed });
    }
  }

  private commit(id: string, msg: OutboxMessage, hooks: CommitHooks): EnqueueResult {
    const delta = newDelta();
    const low = this.freeSpace.low();
    let stepped = 0;
    let result: EnqueueResult;
    try {
      result = this.db.transaction((): EnqueueResult => {
        const ts = this.now();
        const storedAt = this.clock();
        // Under the margin the file may not grow: its size now is the limit.
        const pageLimit = low ? pageCount(this.sql) : undefined;
        this.unwritten.applyIn(this.sql, delta);
        if (storedAt - this.lastAgeCheck >= ageCheckEveryMs) {
          this.lastAgeCheck = storedAt;
          expireOld(this.sql, storedAt - this.cfg.maxAgeHours * 3_600_000, delta);
          const stepMs = this.ageClock.save(this.sql);
          if (stepMs) stepped = stepMs;
        }
        if (msg.coalesceKey !== undefined) {
          for (const r of this.sql.coalesce.all(msg.coalesceKey) as { bytes: number }[]) {
            delta.rows -= 1;
            delta.bytes -= r.bytes;
          }
        }
        const seq =
          msg.stream === undefined ? null : (this.sql.nextSeq.get(msg.stream) as { seq: number }).seq;
        const payload = encodePayload(msg.build({ id, seq, ts }));
        const bytes = payload.length + Buffer.byteLength(msg.topic);
        const totals = { rows: this.rows, bytes: this.bytes };
        const ctx = { db: this.db, sql: this.sql, cfg: this.cfg, totals, pageLimit };
        const refused = storeRow(ctx, { id, msg, seq, ts, storedAt, payload, bytes }, delta);
        hooks.inTx?.(!refused);
        // A refused row leaves the notes as they were: a refused end keeps its event noted as open.
        if (msg.note && !refused) writeNote(this.sql, msg.note);
        this.dropped.write(delta.drops);
        return refused ? { id, seq, dropped: refused } : { id, seq };
      })();
    } catch (err) {
      this.dropped.rolledBack();
      throw err;
    }
    this.committed(delta);
    if (stepped) this.onEvent({ type: 'clock-step', stepMs: stepped, wallNow: this.now() });
    hooks.afterCommit?.(!result.dropped);
    return result;
  }

  private committed(delta: Delta): void {
    this.rows += delta.rows;
    this.bytes += delta.bytes;
    this.dropped.committed(delta.drops);
    this.unwritten.clear();
  }
}
