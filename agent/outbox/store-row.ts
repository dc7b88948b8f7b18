import type { Database } from 'better-sqlite3';
import type { OutboxConfig } from '../../config/schema.js';
import { insertWithoutGrowing } from './disk-low-bound.js';
import { tally, type DropReason } from './drop-counts.js';
import { makeRoom, type Delta } from './outbox-bounds.js';
import { encodeProperties, type OutboxStatements } from './outbox-sql.js';
import type { OutboxMessage } from './outbox-types.js';

/** A message built inside its commit, ready to be stored. */
export interface BuiltRow {
  id: string;
  msg: OutboxMessage;
  seq: number | null;
  /** Wall clock: the payload's `ts`. */
  ts: number;
  /** The outbox's clock (OutboxClock): what ages and expiries are measured by. */
  storedAt: number;
  payload: Buffer;
  /** Payload plus topic: what the byte bound counts. */
  bytes: number;
}

export interface StoreContext {
  db: Database;
  sql: OutboxStatements;
  cfg: OutboxConfig;
  /** The committed totals (the delta holds this transaction's changes to them). */
  totals: { rows: number; bytes: number };
  /** Set while the disk is under the margin: the file's size in pages when the transaction began. */
  pageLimit: number | undefined;
}

/**
 * Inside the commit: applies the bounds (rows and bytes, then the free-space margin) and inserts the row.
 * Returns the bound that refused it; throws DiskLowRefusal when the margin does (the caller treats that
 * as a full disk).
 */
export function storeRow(ctx: StoreContext, row: BuiltRow, delta: Delta): DropReason | undefined {
  const { msg } = row;
  const refused = makeRoom(ctx.sql, ctx.cfg, ctx.totals, msg.priority, row.bytes, delta);
  if (refused) {
    // The seq stays used: subscribers see the gap.
    tally(delta.drops, refused, msg.priority);
    return refused;
  }
  const insert = () => {
    const { topic, priority, stream = null, coalesceKey = null } = msg;
    const expiresAt = msg.expiryS === undefined ? null : row.storedAt + Math.round(msg.expiryS * 1000);
    const retain = msg.retain ? 1 : 0;
    const props = encodeProperties(msg.properties);
    const { id, payload, seq, storedAt, bytes } = row;
    ctx.sql.insert.run(
      id,
      topic,
      payload,
      retain,
      priority,
      stream,
      seq,
      coalesceKey,
      storedAt,
      bytes,
      expiresAt,
      props,
    );
  };
  if (ctx.pageLimit === undefined) insert();
  else insertWithoutGrowing(ctx.db, ctx.sql, ctx.pageLimit, msg.priority, insert, delta);
  delta.rows += 1;
  delta.bytes += row.bytes;
  return undefined;
}
