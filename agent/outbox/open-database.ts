import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync } from 'node:fs';
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

function openVerified(file: string, synchronous: OutboxConfig['synchronous']): Database.Database {
  checkHeader(file);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
    // WAL files otherwise keep their high-water size after a burst.
    db.pragma('journal_size_limit = 67108864');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CorruptDatabase(`quick_check: ${String(check)}`);
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
