import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../agent/outbox/outbox-schema.js';

// Real SQLite files in a temp dir: a fresh create, an upgrade from the first shipped schema, a refusal.
let dir: string;
let file: string;
const open: Database.Database[] = [];

function openFile(f = file): Database.Database {
  const db = new Database(f);
  open.push(db);
  return db;
}

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
const indexes = (db: Database.Database) =>
  (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'outbox_%' ORDER BY name")
      .all() as { name: string }[]
  ).map((r) => r.name);
const version = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;
const plan = (db: Database.Database, sql: string, ...args: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);

/** The schema as version 1 shipped it (migration 0 only), with rows in it. */
const version1 = `
  CREATE TABLE outbox (
    pk INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0, priority INTEGER NOT NULL, stream TEXT, seq INTEGER,
    coalesce_key TEXT, created_at INTEGER NOT NULL, bytes INTEGER NOT NULL
  );
  CREATE INDEX outbox_priority ON outbox (priority, pk);
  CREATE INDEX outbox_coalesce ON outbox (coalesce_key) WHERE coalesce_key IS NOT NULL;
  CREATE TABLE streams (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE drops (
    reason TEXT NOT NULL, priority INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (reason, priority)
  ) WITHOUT ROWID;
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  PRAGMA user_version = 1;
`;

function seedVersion1(): void {
  const db = openFile();
  db.exec(version1);
  const insert = db.prepare(
    'INSERT INTO outbox (id, topic, payload, priority, stream, seq, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  insert.run(
    'a',
    'vigil/s/d/cameras/gate/detections',
    Buffer.from('{"n":1}'),
    1,
    'detections/gate',
    7,
    1000,
    7,
  );
  insert.run('b', 'vigil/s/d/state', Buffer.from('{}'), 2, null, null, 1001, 2);
  db.prepare('INSERT INTO streams (stream, seq) VALUES (?, ?)').run('detections/gate', 7);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('k', 'v');
  db.close();
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-outbox-schema-'));
  file = path.join(dir, 'outbox.db');
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('outbox schema migrations', () => {
  it('the current version is 2 (two migrations shipped)', () => {
    expect(schemaVersion).toBe(2);
  });

  it('creates every table, column and index on a fresh file and sets user_version', () => {
    const db = openFile();
    migrate(db);
    expect(version(db)).toBe(schemaVersion);
    expect(columns(db, 'outbox')).toEqual([
      'pk',
      'id',
      'topic',
      'payload',
      'retain',
      'priority',
      'stream',
      'seq',
      'coalesce_key',
      'created_at',
      'bytes',
      'expires_at',
      'props',
    ]);
    expect(columns(db, 'streams')).toEqual(['stream', 'seq']);
    expect(columns(db, 'drops')).toEqual(['reason', 'priority', 'count']);
    expect(columns(db, 'meta')).toEqual(['key', 'value']);
    expect(indexes(db)).toEqual(['outbox_coalesce', 'outbox_key', 'outbox_priority']);
    db.close();
    // Persisted in the file, not only in this connection.
    expect(version(openFile())).toBe(schemaVersion);
  });

  it('outbox.pk is AUTOINCREMENT: an id is never reused after the newest row is deleted', () => {
    const db = openFile();
    migrate(db);
    const insert = db.prepare(
      "INSERT INTO outbox (id, topic, payload, priority, created_at, bytes) VALUES ('x', 't', x'00', 0, 0, 1)",
    );
    const first = Number(insert.run().lastInsertRowid);
    db.prepare('DELETE FROM outbox WHERE pk = ?').run(first);
    expect(Number(insert.run().lastInsertRowid)).toBe(first + 1);
  });

  it('is a no-op on a current file (run at every open)', () => {
    const db = openFile();
    migrate(db);
    db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
    db.close();
    const before = readFileSync(file);
    const again = openFile();
    migrate(again);
    again.close();
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('upgrades a version 1 file and keeps its rows, sequences and meta', () => {
    seedVersion1();
    const db = openFile();
    migrate(db);
    expect(version(db)).toBe(2);
    expect(columns(db, 'outbox')).toContain('expires_at');
    expect(columns(db, 'outbox')).toContain('props');
    expect(indexes(db)).toEqual(['outbox_coalesce', 'outbox_key', 'outbox_priority']);
    expect(db.prepare('SELECT id, stream, seq, expires_at, props FROM outbox ORDER BY pk').all()).toEqual([
      { id: 'a', stream: 'detections/gate', seq: 7, expires_at: null, props: null },
      { id: 'b', stream: null, seq: null, expires_at: null, props: null },
    ]);
    expect(db.prepare('SELECT seq FROM streams').get()).toEqual({ seq: 7 });
    expect(db.prepare('SELECT value FROM meta').get()).toEqual({ value: 'v' });
    // The new index covers the rows that were already there.
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('a migration that fails leaves the file at its old version, untouched (one transaction)', () => {
    seedVersion1();
    const setup = openFile();
    // Something in the way of migration 2's last statement: the columns must not be left half added.
    setup.exec('CREATE TABLE outbox_key (x)');
    setup.close();
    const db = openFile();
    expect(() => migrate(db)).toThrow(/outbox_key/);
    expect(version(db)).toBe(1);
    expect(columns(db, 'outbox')).not.toContain('expires_at');
    expect(columns(db, 'outbox')).not.toContain('props');
  });

  it('refuses a file from a newer Vigil and leaves it byte for byte as it was', () => {
    const db = openFile();
    migrate(db);
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    const copy = path.join(dir, 'copy.db');
    copyFileSync(file, copy);
    const newer = openFile();
    expect(() => migrate(newer)).toThrow(
      `outbox schema version ${schemaVersion + 1} is newer than this Vigil (${schemaVersion}): upgrade Vigil`,
    );
    newer.close();
    expect(readFileSync(file).equals(readFileSync(copy))).toBe(true);
  });

  it('indexes serve the queries their comments name (EXPLAIN QUERY PLAN)', () => {
    const db = openFile();
    migrate(db);
    // "Eviction takes the oldest rows of the lowest priority."
    expect(
      plan(db, 'SELECT pk, bytes FROM outbox WHERE priority = ? AND pk > ? ORDER BY pk LIMIT ?', 0, 0, 10),
    ).toEqual(['SEARCH outbox USING INDEX outbox_priority (priority=? AND pk>?)']);
    // Coalescing finds the row by key (the partial index applies: `= ?` implies NOT NULL).
    expect(plan(db, 'DELETE FROM outbox WHERE coalesce_key = ?', 'k')).toEqual([
      'SEARCH outbox USING INDEX outbox_coalesce (coalesce_key=?)',
    ]);
    // "has this key rows older than the connection?" must be an index seek, not a scan.
    expect(
      plan(db, 'SELECT 1 FROM outbox WHERE coalesce(stream, topic) = ? AND pk <= ? LIMIT 1', 'k', 5),
    ).toEqual(['SEARCH outbox USING COVERING INDEX outbox_key (<expr>=? AND pk<?)']);
  });
});
