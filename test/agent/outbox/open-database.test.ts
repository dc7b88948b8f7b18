import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOutboxDatabase } from '../../../agent/outbox/open-database.js';
import { schemaVersion } from '../../../agent/outbox/outbox-schema.js';

let dir: string;
let file: string;
const open: Database.Database[] = [];
const at = Date.UTC(2025, 5, 7, 8, 9, 10, 11);
const clock = () => at;
const expectedMovedTo = () => `${file}.corrupt-2025-06-07T08-09-10.011Z`;

function openDb(synchronous: 'OFF' | 'NORMAL' | 'FULL' = 'NORMAL') {
  const result = openOutboxDatabase(file, synchronous, clock);
  open.push(result.db);
  return result;
}

/** A real outbox database with rows, closed (checkpointed: no -wal left). */
function seed(rows: number, pad = 10): void {
  const { db } = openDb();
  const insert = db.prepare(
    "INSERT INTO outbox (id, topic, payload, priority, created_at, bytes) VALUES (?, 't', ?, 0, 0, 1)",
  );
  for (let i = 0; i < rows; i++) insert.run(String(i), Buffer.alloc(pad, 1));
  db.close();
}

const rowCount = (db: Database.Database) =>
  (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-open-db-'));
  file = path.join(dir, 'a', 'b', 'outbox.db');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openOutboxDatabase', () => {
  it('creates the directory and a migrated WAL database with the configured synchronous level', () => {
    const { db, movedAside } = openDb('FULL');
    expect(movedAside).toBeUndefined();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('journal_size_limit', { simple: true })).toBe(64 * 1024 * 1024);
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(rowCount(db)).toBe(0);
    db.close();
    expect(openOutboxDatabase(file, 'OFF', clock).db.pragma('synchronous', { simple: true })).toBe(0);
  });

  it('reopens an existing database with its rows, moving nothing', () => {
    seed(25);
    const { db, movedAside } = openDb();
    expect(movedAside).toBeUndefined();
    expect(rowCount(db)).toBe(25);
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('corrupt'))).toEqual([]);
  });

  it('treats an empty file as a new database (no header to check yet)', () => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
    const { db, movedAside } = openDb();
    expect(movedAside).toBeUndefined();
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
  });

  it('moves a foreign file aside unchanged, with its -wal and -shm, and opens a fresh one', () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const originals = {
      '': Buffer.alloc(8192, 0x5a),
      '-wal': Buffer.from('wal evidence'),
      '-shm': Buffer.from('shm evidence'),
    };
    for (const [suffix, bytes] of Object.entries(originals)) writeFileSync(file + suffix, bytes);

    const { db, movedAside } = openDb();
    expect(movedAside).toEqual({
      file,
      movedTo: expectedMovedTo(),
      reason: 'not an SQLite database (bad header)',
      at,
    });
    for (const [suffix, bytes] of Object.entries(originals)) {
      expect(readFileSync(expectedMovedTo() + suffix), `moved${suffix}`).toEqual(bytes);
    }
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(rowCount(db)).toBe(0);
  });

  it('moves aside a file shorter than the header', () => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'SQLite');
    const { movedAside } = openDb();
    expect(movedAside?.reason).toBe('not an SQLite database (bad header)');
    expect(readFileSync(expectedMovedTo(), 'utf8')).toBe('SQLite');
  });

  it('moves aside a file with a valid header whose pages fail quick_check', () => {
    seed(500, 300);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 8 * 4096); // table b-tree pages
    closeSync(fd);

    const { db, movedAside } = openDb();
    expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
    expect(movedAside?.reason).toMatch(/^quick_check: /);
    expect(existsSync(expectedMovedTo())).toBe(true);
    expect(rowCount(db)).toBe(0);
  });

  it('moves aside a file SQLite itself refuses (a valid magic string, an impossible page size)', () => {
    seed(5);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([0x00, 0x03]), 0, 2, 16); // page size 3: SQLITE_NOTADB
    closeSync(fd);
    const damaged = readFileSync(file);

    const { db, movedAside } = openDb();
    expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
    expect(movedAside?.reason).toBe('file is not a database');
    expect(readFileSync(expectedMovedTo())).toEqual(damaged);
    expect(rowCount(db)).toBe(0);
  });

  it('moves aside a file whose schema page SQLite reports as malformed (SQLITE_CORRUPT)', () => {
    seed(5);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096 - 100, 0xa5), 0, 4096 - 100, 100); // page 1 after the file header
    closeSync(fd);

    const { db, movedAside } = openDb();
    expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
    expect(movedAside?.reason).toMatch(/malformed/);
    expect(rowCount(db)).toBe(0);
  });

  it('throws other errors and leaves the file where it is: a newer schema', () => {
    seed(3);
    const newer = new Database(file);
    newer.pragma(`user_version = ${schemaVersion + 1}`);
    newer.close();
    expect(() => openOutboxDatabase(file, 'NORMAL', clock)).toThrow(
      `outbox schema version ${schemaVersion + 1} is newer than this Vigil (${schemaVersion}): upgrade Vigil`,
    );
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('corrupt'))).toEqual([]);
    const kept = new Database(file, { readonly: true });
    open.push(kept);
    expect(rowCount(kept)).toBe(3);
  });

  it('throws other errors and leaves the file where it is: a directory in its place', () => {
    mkdirSync(file, { recursive: true });
    expect(() => openOutboxDatabase(file, 'NORMAL', clock)).toThrow(/EISDIR/);
    expect(readdirSync(path.dirname(file))).toEqual(['outbox.db']);
  });
});
