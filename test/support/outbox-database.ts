import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import type { OutboxPriority } from '../../agent/outbox/drop-counts.js';
import { migrate } from '../../agent/outbox/outbox-schema.js';
import { prepareStatements, type OutboxStatements } from '../../agent/outbox/outbox-sql.js';

export interface OutboxDatabase {
  /** This test's temp folder; the database is `outbox.db` in it. */
  dir: string;
  db: Database.Database;
  /** The statements the Outbox runs, prepared on `db`. */
  sql: OutboxStatements;
}

/**
 * For the tests of the Outbox's parts: before each test a real, migrated SQLite file in a temp folder of its
 * own (handed to `opened`), closed and removed after it. Register it before the file's own hooks that use it.
 */
export function useOutboxDatabase(prefix: string, opened: (o: OutboxDatabase) => void): void {
  let current: OutboxDatabase | undefined;
  beforeEach(() => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    const db = new Database(path.join(dir, 'outbox.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF'); // durability is not under these tests; fsyncs would only slow the inserts
    migrate(db);
    current = { dir, db, sql: prepareStatements(db) };
    opened(current);
  });
  afterEach(() => {
    if (!current) return;
    current.db.close();
    rmSync(current.dir, { recursive: true, force: true });
    current = undefined;
  });
}

export interface TestRow {
  id: string;
  priority: OutboxPriority;
  /** What the bounds count for it. */
  bytes: number;
  /** Default `{}`. */
  payload?: Buffer;
  createdAt?: number;
}

/** Stores a row as the Outbox would (no stream, seq, coalescing key or expiry); returns its pk. */
export function insertRow(sql: OutboxStatements, row: TestRow): number {
  const { id, priority, bytes, payload = Buffer.from('{}'), createdAt = 0 } = row;
  const info = sql.insert.run(id, 't', payload, 0, priority, null, null, null, createdAt, bytes, null, null);
  return Number(info.lastInsertRowid);
}
