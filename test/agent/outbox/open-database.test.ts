import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
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

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

const crashScript = `
const { module, file, sql, rows } = JSON.parse(process.env.VIGIL_CRASH);
const db = new (require(module))(file);
db.pragma('wal_autocheckpoint = 0');
db.exec(sql);
const insert = db.prepare(
  "INSERT INTO outbox (id, topic, payload, priority, created_at, bytes) VALUES (?, 't', zeroblob(10), 0, 0, 1)",
);
for (let i = 0; i < rows; i++) insert.run('crash-' + i);
process.stdout.write('ready');
setInterval(() => {}, 1000);
`;

/**
 * Runs `sql` and commits `rows` rows (one transaction each) from another process, which is then
 * killed with SIGKILL: no clean close, so no checkpoint, and the -wal and -shm stay behind.
 */
async function writeThenKill(opts: { rows?: number; sql?: string }): Promise<void> {
  const env = {
    ...process.env,
    VIGIL_CRASH: JSON.stringify({
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      sql: opts.sql ?? '',
      rows: opts.rows ?? 0,
    }),
  };
  const child = spawn(process.execPath, ['-e', crashScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
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

    const damaged = sha256(file);

    const { db, movedAside } = openDb();
    expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
    expect(movedAside?.reason).toMatch(/^quick_check: /);
    expect(sha256(expectedMovedTo())).toBe(damaged);
    // The check's reader creates an empty -wal and a -shm: they weren't there, so they aren't kept.
    expect(existsSync(`${expectedMovedTo()}-wal`)).toBe(false);
    expect(existsSync(`${expectedMovedTo()}-shm`)).toBe(false);
    expect(rowCount(db)).toBe(0);
  });

  describe('after a crash, with commits still in the WAL (not checkpointed)', () => {
    /** 500 checkpointed rows in the main file, then 40 commits in a -wal left by a killed writer. */
    async function crashed(): Promise<void> {
      seed(500, 300);
      await writeThenKill({ rows: 40 });
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(40 * 4096);
      expect(existsSync(`${file}-shm`)).toBe(true);
    }

    /** Table b-tree leaves holding early rows: in the main file only, not in the WAL. */
    function damageMainFile(): void {
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 8 * 4096);
      closeSync(fd);
    }

    it('opens a healthy database with every row, the committed ones in the WAL included', async () => {
      await crashed();
      const { db, movedAside } = openDb();
      expect(movedAside).toBeUndefined();
      expect(rowCount(db)).toBe(540);
      expect(db.prepare("SELECT count(*) AS n FROM outbox WHERE id LIKE 'crash-%'").pluck().get()).toBe(40);
      expect(readdirSync(path.dirname(file)).filter((f) => f.includes('corrupt'))).toEqual([]);
    });

    it.each([
      ['with its -shm', true],
      ['without its -shm (copied off the device without it)', false],
    ])(
      'moves a damaged database aside as found, %s: the WAL is not merged into the damaged file',
      async (_name, keepShm) => {
        await crashed();
        if (!keepShm) rmSync(`${file}-shm`);
        damageMainFile();
        const before = { main: sha256(file), wal: sha256(`${file}-wal`) };

        const { db, movedAside } = openDb();
        expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
        expect(movedAside?.reason).toMatch(/^quick_check: /);
        expect(sha256(expectedMovedTo())).toBe(before.main);
        expect(existsSync(`${expectedMovedTo()}-wal`)).toBe(true);
        expect(sha256(`${expectedMovedTo()}-wal`)).toBe(before.wal);
        expect(existsSync(`${expectedMovedTo()}-shm`)).toBe(keepShm);
        expect(rowCount(db)).toBe(0);
      },
    );
  });

  it('rolls back a hot rollback journal and opens, as before (a reader may not roll it back)', async () => {
    seed(200, 300);
    const rollbackMode = new Database(file);
    rollbackMode.pragma('journal_mode = DELETE');
    rollbackMode.close();
    // A small cache spills the uncommitted changes into the main file before the kill.
    await writeThenKill({ sql: "PRAGMA cache_size = 1; BEGIN; UPDATE outbox SET topic = 'uncommitted';" });
    expect(existsSync(`${file}-journal`)).toBe(true);

    const { db, movedAside } = openDb();
    expect(movedAside).toBeUndefined();
    expect(rowCount(db)).toBe(200);
    expect(db.prepare("SELECT count(*) AS n FROM outbox WHERE topic = 't'").pluck().get()).toBe(200);
    expect(existsSync(`${file}-journal`)).toBe(false);
  });

  it('still moves aside a damaged file that only the read-write open can check (hot journal)', async () => {
    seed(500, 300);
    const rollbackMode = new Database(file);
    rollbackMode.pragma('journal_mode = DELETE');
    rollbackMode.close();
    // Changes only the last rows, so the rollback doesn't restore the pages damaged below.
    await writeThenKill({
      sql: "PRAGMA cache_size = 1; BEGIN; UPDATE outbox SET topic = 'uncommitted' WHERE pk > 450;",
    });
    expect(statSync(`${file}-journal`).size).toBeGreaterThan(0);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 8 * 4096);
    closeSync(fd);

    const { db, movedAside } = openDb();
    expect(movedAside).toMatchObject({ file, movedTo: expectedMovedTo(), at });
    expect(movedAside?.reason).toMatch(/^quick_check: /);
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
