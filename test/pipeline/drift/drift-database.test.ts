import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, toWindow, type WindowRow } from '../../../pipeline/drift/drift-database.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { dbFile, key, profile } from './drift-database-fixture.js';

// The schema and its migrations. Rows mapped to records: drift-database-rows.test.ts; records through
// the store: drift-database-store.test.ts.

/** The v1 schema, as agents before reference_id created it. */
const v1Schema = `
  CREATE TABLE drift_windows (
    camera TEXT NOT NULL, model_id TEXT NOT NULL, config_rev TEXT NOT NULL,
    start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, frames INTEGER NOT NULL,
    status TEXT NOT NULL, state TEXT NOT NULL, state_since INTEGER NOT NULL, profile TEXT NOT NULL,
    PRIMARY KEY (camera, model_id, config_rev, start_ms)
  );
  CREATE INDEX drift_windows_by_camera_time ON drift_windows (camera, start_ms);
  CREATE INDEX drift_windows_by_end ON drift_windows (end_ms);
  CREATE TABLE drift_references (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera TEXT NOT NULL, model_id TEXT NOT NULL, config_rev TEXT NOT NULL,
    from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, windows INTEGER NOT NULL,
    source TEXT NOT NULL, created_at INTEGER NOT NULL, origin TEXT, bins_version INTEGER NOT NULL,
    profile TEXT NOT NULL
  );
  PRAGMA user_version = 1;
`;

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; notnull: number; pk: number }[]).map(
    (c) => `${c.name}${c.notnull ? '!' : ''}${c.pk ? `#${c.pk}` : ''}`,
  );

const insertWindow = (db: Database.Database, start: number, state = 'alarm', referenceId?: number | null) => {
  const cols = 'camera, model_id, config_rev, start_ms, end_ms, frames, status, state, state_since, profile';
  if (referenceId === undefined) {
    db.prepare(`INSERT INTO drift_windows (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      key.camera,
      key.modelId,
      key.configRevision,
      start,
      start + 1000,
      10,
      'scored',
      state,
      start - 1,
      JSON.stringify(profile(10)), // prettier-ignore
    );
  } else {
    db.prepare(
      `INSERT INTO drift_windows (${cols}, reference_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      key.camera,
      key.modelId,
      key.configRevision,
      start,
      start + 1000,
      10,
      'scored',
      state,
      start - 1,
      JSON.stringify(profile(10)),
      referenceId, // prettier-ignore
    );
  }
};

describe('drift database schema (real SQLite files)', () => {
  it('creates the v2 tables, keys and indexes in a fresh file', () => {
    const file = dbFile();
    const db = new Database(file);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(columns(db, 'drift_windows')).toEqual([
      'camera!#1',
      'model_id!#2',
      'config_rev!#3',
      'start_ms!#4',
      'end_ms!',
      'frames!',
      'status!',
      'state!',
      'state_since!',
      'profile!',
      'reference_id',
    ]);
    expect(columns(db, 'drift_references')).toEqual([
      'id#1',
      'camera!',
      'model_id!',
      'config_rev!',
      'from_ms!',
      'to_ms!',
      'windows!',
      'source!',
      'created_at!',
      'origin',
      'bins_version!',
      'profile!',
    ]);
    const indexes = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
        .all() as {
        name: string;
      }[]
    )
      .map((r) => r.name)
      .sort();
    expect(indexes).toEqual([
      'drift_references_by_key',
      'drift_windows_by_camera_time',
      'drift_windows_by_end',
    ]);
    // one window per key and start
    insertWindow(db, 0, 'ok', null);
    expect(() => insertWindow(db, 0, 'ok', null)).toThrow(/UNIQUE constraint failed/);
    // ids are never reused (AUTOINCREMENT): a window recorded against a deleted reference cannot point at a new one
    const addRef = () =>
      Number(
        db
          .prepare(
            `INSERT INTO drift_references (camera, model_id, config_rev, from_ms, to_ms, windows, source, created_at,
               bins_version, profile) VALUES ('gate', 'det', 'r', 0, 1, 1, 'auto', 0, 1, '{}')`,
          )
          .run().lastInsertRowid,
      );
    const a = addRef();
    db.prepare('DELETE FROM drift_references WHERE id = ?').run(a);
    expect(addRef()).toBe(a + 1);
    db.close();
  });

  it('keeps what was written across a reopen, and migrating again changes nothing', () => {
    const file = dbFile();
    let db = new Database(file);
    migrate(db);
    insertWindow(db, 1000, 'warn', 3);
    db.close();
    db = new Database(file);
    migrate(db);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const rows = db.prepare('SELECT * FROM drift_windows').all() as WindowRow[];
    expect(rows.map(toWindow)).toEqual([
      { ...key, start: 1000, end: 2000, status: 'scored', state: 'warn', stateSince: 999, profile: profile(10), referenceId: 3 }, // prettier-ignore
    ]);
    db.close();
  });

  it('upgrades a v1 file in place: its windows stay, with no reference recorded', () => {
    const file = dbFile();
    let db = new Database(file);
    db.exec(v1Schema);
    insertWindow(db, 0);
    db.close();
    db = new Database(file);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(columns(db, 'drift_windows').at(-1)).toBe('reference_id');
    const [old] = (db.prepare('SELECT * FROM drift_windows').all() as WindowRow[]).map(toWindow);
    expect(old).toMatchObject({ start: 0, state: 'alarm', referenceId: null });
    insertWindow(db, 1000, 'ok', 4);
    db.close();
    // and the upgraded file opens through the store, with both windows
    const store = ReferenceStore.open(file);
    expect(store.windows({ camera: key.camera }).map((w) => [w.start, w.referenceId])).toEqual([
      [0, null],
      [1000, 4],
    ]);
    store.close();
  });

  it('refuses a file from a newer agent and leaves it as it was', () => {
    const file = dbFile();
    let db = new Database(file);
    db.exec('CREATE TABLE future (x); PRAGMA user_version = 3;');
    expect(() => migrate(db)).toThrow('drift database schema 3 is newer than this agent (2)');
    db.close();
    expect(() => ReferenceStore.open(file)).toThrow(/newer than this agent/);
    db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([
      { name: 'future' },
    ]);
    db.close();
  });
});
