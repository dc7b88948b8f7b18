import type Database from 'better-sqlite3';
import { driftStates, type DriftState } from './drift-state.js';
import type { DriftReference, ReferenceExport, StoredWindow, WindowStatus } from './drift-records.js';
import { DriftProfile } from './profile.js';

/** The drift database's tables and the mapping of their rows (reference-store.ts is the API). */
const schemaVersion = 2;

export interface WindowRow {
  camera: string;
  model_id: string;
  config_rev: string;
  start_ms: number;
  end_ms: number;
  status: WindowStatus;
  state: DriftState;
  state_since: number;
  profile: string;
  reference_id: number | null;
}

export interface ReferenceRow {
  id: number;
  camera: string;
  model_id: string;
  config_rev: string;
  from_ms: number;
  to_ms: number;
  windows: number;
  source: ReferenceExport['source'];
  created_at: number;
  origin: string | null;
  bins_version: number;
  profile: string;
}

export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion)
    throw new Error(`drift database schema ${version} is newer than this agent (${schemaVersion})`);
  if (version === schemaVersion) return;
  if (version === 1) {
    // v2: the reference a window was compared with, so a restart knows whether its state still holds.
    db.transaction(() =>
      db.exec(`ALTER TABLE drift_windows ADD COLUMN reference_id INTEGER; PRAGMA user_version = 2;`),
    )();
    return;
  }
  const create = `
    CREATE TABLE drift_windows (
      camera TEXT NOT NULL, model_id TEXT NOT NULL, config_rev TEXT NOT NULL,
      start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, frames INTEGER NOT NULL,
      status TEXT NOT NULL, state TEXT NOT NULL, state_since INTEGER NOT NULL, profile TEXT NOT NULL,
      reference_id INTEGER,
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
    CREATE INDEX drift_references_by_key ON drift_references (camera, model_id, config_rev, id);
    PRAGMA user_version = ${schemaVersion};
  `;
  db.transaction(() => db.exec(create))();
}

export function toWindow(r: WindowRow): StoredWindow {
  return {
    camera: r.camera,
    modelId: r.model_id,
    configRevision: r.config_rev,
    start: r.start_ms,
    end: r.end_ms,
    status: r.status,
    state: (driftStates as readonly string[]).includes(r.state) ? r.state : 'ok',
    stateSince: r.state_since,
    profile: DriftProfile.parse(JSON.parse(r.profile)),
    referenceId: r.reference_id ?? null,
  };
}

export function toReference(r: ReferenceRow): DriftReference {
  return {
    id: r.id,
    camera: r.camera,
    modelId: r.model_id,
    configRevision: r.config_rev,
    binsVersion: r.bins_version,
    from: r.from_ms,
    to: r.to_ms,
    windows: r.windows,
    source: r.source,
    createdAt: r.created_at,
    ...(r.origin ? { origin: r.origin } : {}),
    profile: DriftProfile.parse(JSON.parse(r.profile)),
  };
}
