import type { Database, Statement } from 'better-sqlite3';
import type { OutboxPriority } from './drop-counts.js';
import type { OutboxProperties, OutboxRow } from './outbox-types.js';

/** Every statement the Outbox runs, prepared once per connection. */
const statements = {
  insert: `INSERT INTO outbox (id, topic, payload, retain, priority, stream, seq, coalesce_key, created_at, bytes,
                               expires_at, props)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  nextSeq: `INSERT INTO streams (stream, seq) VALUES (?, 1)
            ON CONFLICT (stream) DO UPDATE SET seq = seq + 1 RETURNING seq`,
  coalesce: 'DELETE FROM outbox WHERE coalesce_key = ? RETURNING bytes',
  oldest: 'SELECT pk, priority, bytes, created_at AS createdAt FROM outbox ORDER BY pk LIMIT ?',
  /** The newest row's (not max(created_at): that reads the whole table, payloads included). */
  newest: 'SELECT created_at AS createdAt FROM outbox ORDER BY pk DESC LIMIT 1',
  /** The oldest rows of one priority after a pk (0 for the very oldest), a page at a time. */
  oldestOf: 'SELECT pk, bytes FROM outbox WHERE priority = ? AND pk > ? ORDER BY pk LIMIT ?',
  delete: 'DELETE FROM outbox WHERE pk = ? RETURNING priority, bytes',
  next: `SELECT pk AS rowid, id, topic, payload, retain, priority, stream, seq, created_at AS createdAt, bytes,
                expires_at AS expiresAt, props
         FROM outbox ORDER BY pk LIMIT ?`,
  range: `SELECT pk AS rowid, id, topic, payload, retain, priority, stream, seq, created_at AS createdAt, bytes,
                 expires_at AS expiresAt, props
          FROM outbox WHERE pk > ? AND pk <= ? ORDER BY pk LIMIT ?`,
  lastRowid: 'SELECT coalesce(max(pk), 0) AS pk FROM outbox',
  countUpTo: 'SELECT count(*) AS n FROM outbox WHERE pk <= ?',
  // The expression must read exactly as in the outbox_key index for SQLite to use it.
  keysUpTo: 'SELECT DISTINCT coalesce(stream, topic) AS k FROM outbox WHERE pk <= ?',
  hasKeyUpTo: 'SELECT 1 AS x FROM outbox WHERE coalesce(stream, topic) = ? AND pk <= ? LIMIT 1',
  setMeta: 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)',
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  deleteMeta: 'DELETE FROM meta WHERE key = ?',
  /** Keys from ? (inclusive) to ? (exclusive): the notes under one prefix. */
  metaRange: 'SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key',
  totals: 'SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox',
  /** The database's size in pages, as this connection sees it (uncommitted changes included). */
  pageCount: 'PRAGMA page_count',
};

export type OutboxStatements = Record<keyof typeof statements, Statement>;

export function prepareStatements(db: Database): OutboxStatements {
  return Object.fromEntries(
    Object.entries(statements).map(([k, text]) => [k, db.prepare(text)]),
  ) as OutboxStatements;
}

export interface RawRow extends Omit<OutboxRow, 'retain' | 'key' | 'properties'> {
  retain: number;
  props: string | null;
}

interface StoredProperties {
  correlationData?: string;
  userProperties?: Record<string, string>;
}

/** Properties as stored: binary correlation data goes in base64 so the column stays JSON text. */
export function encodeProperties(p: OutboxProperties | undefined): string | null {
  if (!p || (p.correlationData === undefined && p.userProperties === undefined)) return null;
  const stored: StoredProperties = {};
  if (p.correlationData !== undefined) stored.correlationData = p.correlationData.toString('base64');
  if (p.userProperties !== undefined) stored.userProperties = p.userProperties;
  return JSON.stringify(stored);
}

export function decodeRow(r: RawRow): OutboxRow {
  const { props, retain, ...rest } = r;
  const row: OutboxRow = {
    ...rest,
    retain: retain === 1,
    priority: r.priority as OutboxPriority,
    key: r.stream ?? r.topic,
  };
  if (props) {
    const stored = JSON.parse(props) as StoredProperties;
    row.properties = {
      ...(stored.correlationData !== undefined && {
        correlationData: Buffer.from(stored.correlationData, 'base64'),
      }),
      ...(stored.userProperties !== undefined && { userProperties: stored.userProperties }),
    };
  }
  return row;
}
