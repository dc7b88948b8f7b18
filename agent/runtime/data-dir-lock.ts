import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** Another agent holds the data dir. */
export class DataDirInUseError extends Error {}

/**
 * One agent per data dir. Two agents on one outbox would each publish its rows (every result twice, seq
 * interleaved) and overwrite each other's PM2.5, drift and fleet state; nothing else stopped a second
 * `vigil run` on the same config. The lock is SQLite's exclusive lock on `<dataDir>/agent.lock`, held for the
 * agent's life: an fcntl lock, so the kernel releases it when the process dies, even by kill -9 (no stale
 * pid file to clean up after a power cut). `agent.pid` beside it only names the holder in the error.
 */
export class DataDirLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly pidFile: string,
  ) {}

  static acquire(dir: string): DataDirLock {
    const dataDir = path.resolve(dir); // the error names the directory, wherever vigil was started
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(path.join(dataDir, 'agent.lock'), { timeout: 0 });
    const pidFile = path.join(dataDir, 'agent.pid');
    try {
      db.pragma('journal_mode = OFF'); // nothing is written after creation: no journal file beside it
      // An empty file must be given its first page before it can be locked: done once, at the first start,
      // so that later starts lock it without writing a byte (an agent must start on a full disk).
      db.exec('CREATE TABLE IF NOT EXISTS held (since INTEGER)');
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      const pid = holder(pidFile);
      throw new DataDirInUseError(
        `data dir ${dataDir} is in use by another Vigil agent${pid ? ` (pid ${pid})` : ''}: two agents on one ` +
          'outbox would publish every result twice; stop it, or give this one its own dataDir',
      );
    }
    try {
      writeFileSync(pidFile, `${process.pid}\n`);
    } catch {
      // A full disk: the lock holds without it (the pid only names the holder in another agent's error),
      // and an agent must start on a full disk as it always did.
      rmSync(pidFile, { force: true });
    }
    return new DataDirLock(db, pidFile);
  }

  release(): void {
    if (!this.db.open) return;
    rmSync(this.pidFile, { force: true });
    this.db.close();
  }
}

function holder(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
