import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  migrate,
  toReference,
  toWindow,
  type ReferenceRow,
  type WindowRow,
} from '../../../pipeline/drift/drift-database.js';
import type { DriftKey, StoredWindow } from '../../../pipeline/drift/drift-records.js';
import type { DriftProfile } from '../../../pipeline/drift/profile.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { binsVersion, imageStatSpecs } from '../../../pipeline/drift/statistics.js';

const dbFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'vigil-driftdb-')), 'drift.db');
const key: DriftKey = { camera: 'gate', modelId: 'det', configRevision: '0840e8904565' };

const profile = (frames: number): DriftProfile => ({
  frames,
  imageFrames: frames,
  hists: {
    'image.dark': {
      spec: imageStatSpecs['image.dark'],
      counts: [frames, ...new Array<number>(24).fill(0)],
    },
  },
  keyed: { 'det.labels': { person: 2 * frames } },
});

const storedWindow = (start: number, over: Partial<StoredWindow> = {}): StoredWindow => ({
  ...key,
  start,
  end: start + 1000,
  status: 'scored',
  state: 'warn',
  stateSince: start - 5000,
  profile: profile(10),
  referenceId: 7,
  ...over,
});

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

describe('drift database rows', () => {
  const windowRow = (over: Partial<WindowRow> = {}): WindowRow => ({
    camera: 'gate',
    model_id: 'det',
    config_rev: 'abc',
    start_ms: 60_000,
    end_ms: 120_000,
    status: 'too-few-samples',
    state: 'alarm',
    state_since: 1234,
    profile: JSON.stringify(profile(3)),
    reference_id: 9,
    ...over,
  });

  it('maps a window row to its record', () => {
    expect(toWindow(windowRow())).toEqual({
      camera: 'gate',
      modelId: 'det',
      configRevision: 'abc',
      start: 60_000,
      end: 120_000,
      status: 'too-few-samples',
      state: 'alarm',
      stateSince: 1234,
      profile: profile(3),
      referenceId: 9,
    });
    expect(toWindow(windowRow({ reference_id: null })).referenceId).toBeNull();
  });

  it('reads a state it does not know as ok, and refuses a profile that is not one', () => {
    for (const state of ['ok', 'warn', 'alarm'] as const)
      expect(toWindow(windowRow({ state })).state).toBe(state);
    expect(toWindow(windowRow({ state: 'critical' as never })).state).toBe('ok');
    expect(() => toWindow(windowRow({ profile: JSON.stringify({ frames: -1 }) }))).toThrow();
    expect(() => toWindow(windowRow({ profile: JSON.stringify({ ...profile(3), extra: 1 }) }))).toThrow();
  });

  it('maps a reference row, with origin only when there is one', () => {
    const row: ReferenceRow = {
      id: 5,
      camera: 'dock',
      model_id: 'det',
      config_rev: 'abc',
      from_ms: 0,
      to_ms: 7_200_000,
      windows: 8,
      source: 'import',
      created_at: 99,
      origin: 'gate/det/0840e8904565',
      bins_version: binsVersion,
      profile: JSON.stringify(profile(4)),
    };
    expect(toReference(row)).toEqual({
      id: 5,
      camera: 'dock',
      modelId: 'det',
      configRevision: 'abc',
      binsVersion,
      from: 0,
      to: 7_200_000,
      windows: 8,
      source: 'import',
      createdAt: 99,
      origin: 'gate/det/0840e8904565',
      profile: profile(4),
    });
    const own = toReference({ ...row, source: 'auto', origin: null });
    expect(own).not.toHaveProperty('origin');
    expect(own.source).toBe('auto');
  });
});

describe('drift database through the store (a real file, reopened)', () => {
  it('returns windows inside [from, to), keeps them across a reopen, prunes strictly before a bound', () => {
    const file = dbFile();
    let store = ReferenceStore.open(file);
    for (let i = 0; i < 5; i++) store.saveWindow(storedWindow(i * 1000, { state: i % 2 ? 'alarm' : 'ok' }));
    store.close();
    store = ReferenceStore.open(file);
    const all = store.windows({ camera: key.camera });
    expect(all.map((w) => [w.start, w.end, w.state])).toEqual([
      [0, 1000, 'ok'],
      [1000, 2000, 'alarm'],
      [2000, 3000, 'ok'],
      [3000, 4000, 'alarm'],
      [4000, 5000, 'ok'],
    ]);
    expect(all[0]).toEqual(storedWindow(0, { state: 'ok' }));
    // a window starting at `from` is in; one ending after `to` is out; one ending at `to` is in
    expect(store.windows({ camera: key.camera, from: 1000, to: 3000 }).map((w) => w.start)).toEqual([
      1000, 2000,
    ]);
    expect(store.windows({ camera: key.camera, from: 1001, to: 3999 }).map((w) => w.start)).toEqual([2000]);
    expect(store.windows({ camera: 'other' })).toEqual([]);
    expect(store.lastWindow(key)?.start).toBe(4000);
    expect(store.span(key)).toEqual({ first: 0, last: 5000, windows: 5 });
    // end_ms < before: the window ending exactly at the bound stays
    expect(store.pruneWindows(2000)).toBe(1);
    store.close();
    store = ReferenceStore.open(file);
    expect(store.windows({ camera: key.camera }).map((w) => w.start)).toEqual([1000, 2000, 3000, 4000]);
    store.close();
  });

  it('keeps references across a reopen; the newest of a key is the active one', () => {
    const file = dbFile();
    let store = ReferenceStore.open(file);
    for (let i = 0; i < 4; i++) store.saveWindow(storedWindow(i * 1000));
    const first = store.buildReference(key, { from: 0, to: 2000 }, 'auto', 10);
    const second = store.buildReference(key, { from: 1000, to: 4000 }, 'baseline', 20);
    store.close();
    store = ReferenceStore.open(file);
    expect(store.activeReferenceId(key)).toBe(second.id);
    expect(second.id).toBeGreaterThan(first.id);
    expect(store.activeReference(key)).toEqual(second);
    expect(second).toMatchObject({ from: 1000, to: 4000, windows: 3, source: 'baseline', createdAt: 20 });
    expect(second.profile.frames).toBe(30);
    expect(store.reference(first.id)).toEqual(first);
    expect(store.activeReference({ ...key, configRevision: 'other' })).toBeNull();
    store.close();
  });
});
