import type { Database } from 'better-sqlite3';

/**
 * Migrations of the outbox database, indexed by `PRAGMA user_version`: entry i takes a database at
 * version i to version i + 1. Append only; never edit a migration that has shipped.
 */
const migrations: string[] = [
  `
  -- AUTOINCREMENT: a row id is never reused, so a late PUBACK for a coalesced or dropped row can't
  -- delete a newer row that happened to get the same id.
  CREATE TABLE outbox (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL,
    stream TEXT,
    seq INTEGER,
    coalesce_key TEXT,
    created_at INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  -- Eviction takes the oldest rows of the lowest priority.
  CREATE INDEX outbox_priority ON outbox (priority, pk);
  CREATE INDEX outbox_coalesce ON outbox (coalesce_key) WHERE coalesce_key IS NOT NULL;
  -- Last sequence number handed out per stream: survives the rows themselves.
  CREATE TABLE streams (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
  -- Messages dropped and not yet reported.
  CREATE TABLE drops (
    reason TEXT NOT NULL,
    priority INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (reason, priority)
  ) WITHOUT ROWID;
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `,
  `
  -- Epoch ms after which the message is worthless (a response nobody waits for any more).
  ALTER TABLE outbox ADD COLUMN expires_at INTEGER;
  -- MQTT 5 properties carried with the message (correlation data, user properties), JSON.
  ALTER TABLE outbox ADD COLUMN props TEXT;
  -- The drain keeps order per ordering key (the stream, else the topic): "has this key rows older
  -- than the connection?" must be an index seek, not a scan.
  CREATE INDEX outbox_key ON outbox (coalesce(stream, topic), pk);
  `,
];

export const schemaVersion = migrations.length;

/** Brings the database to the current schema in one transaction. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > schemaVersion) {
    throw new Error(
      `outbox schema version ${current} is newer than this Vigil (${schemaVersion}): upgrade Vigil`,
    );
  }
  if (current === schemaVersion) return;
  db.transaction(() => {
    for (let v = current; v < schemaVersion; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${schemaVersion}`);
  })();
}
