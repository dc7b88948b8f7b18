import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { OutboxConfig } from '../../config/schema.js';
import { migrate } from './outbox-schema.js';

/** A corrupt outbox that was renamed so a fresh one could start; kept for forensics and reported. */
export interface MovedAside {
  file: string;
  movedTo: string;
  reason: string;
  /** Epoch ms. */
  at: number;
}

class CorruptDatabase extends Error {}

/** SQLite's own words for "this file is damaged" (extended codes such as SQLITE_CORRUPT_INDEX included). */
function isCorruption(err: unknown): boolean {
  if (err instanceof CorruptDatabase) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

const sqliteHeader = Buffer.from('SQLite format 3\0');

/**
 * Checked before SQLite opens the file: a connection that fails on a foreign file may delete its
 * -wal and -shm on close, and those belong with the file that is kept for forensics.
 */
function checkHeader(file: string): void {
  if (!existsSync(file)) return;
  const head = Buffer.alloc(sqliteHeader.length);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n > 0 && !head.equals(sqliteHeader)) throw new CorruptDatabase('not an SQLite database (bad header)');
}

/**
 * quick_check on a read-only connection first: closing the last read-write connection checkpoints
 * the WAL into the main file and deletes the WAL, which would destroy the evidence when the file is
 * damaged. A reader never checkpoints. Returns whether it reached a verdict ("ok"); throws when the
 * file is corrupt, leaving the main file and its -wal byte for byte as they were found.
 */
function checkReadOnly(file: string): boolean {
  if (!existsSync(file)) return false; // fresh start: the read-write open creates it
  const had = { wal: existsSync(`${file}-wal`), shm: existsSync(`${file}-shm`) };
  let failure: unknown;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') failure = new CorruptDatabase(`quick_check: ${String(check)}`);
    } finally {
      db.close();
    }
  } catch (err) {
    // Anything else (a hot rollback journal, which a reader may not roll back) is left to the
    // read-write open to settle, as before.
    if (!isCorruption(err)) return false;
    failure = err;
  }
  if (failure === undefined) return true;
  // A reader of a WAL-mode file creates an empty -wal and a -shm when they are missing: not part of
  // what was found, so they don't go into the forensic copy.
  if (!had.wal && existsSync(`${file}-wal`) && statSync(`${file}-wal`).size === 0) rmSync(`${file}-wal`);
  if (!had.shm) rmSync(`${file}-shm`, { force: true });
  throw failure;
}

function openVerified(file: string, synchronous: OutboxConfig['synchronous']): Database.Database {
  checkHeader(file);
  const checked = checkReadOnly(file);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
    // WAL files otherwise keep their high-water size after a burst.
    db.pragma('journal_size_limit = 67108864');
    if (!checked) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CorruptDatabase(`quick_check: ${String(check)}`);
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Opens (creating it and its directory if needed) the outbox database in WAL mode and checks it. A
 * corrupt file is renamed `<file>.corrupt-<timestamp>` with its -wal/-shm and a fresh one started:
 * losing the backlog is better than an agent that can't start. Other errors (permissions, a newer
 * schema) are thrown.
 */
export function openOutboxDatabase(
  file: string,
  synchronous: OutboxConfig['synchronous'],
  now: () => number,
): { db: Database.Database; movedAside?: MovedAside } {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  try {
    return { db: openVerified(file, synchronous) };
  } catch (err) {
    if (!isCorruption(err)) throw err;
    const at = now();
    // Colons are replaced so the name survives being copied to FAT media or a Windows share.
    const movedTo = `${file}.corrupt-${new Date(at).toISOString().replace(/:/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix);
    }
    const reason = err instanceof Error ? err.message : String(err);
    return { db: openVerified(file, synchronous), movedAside: { file, movedTo, reason, at } };
  }
}
