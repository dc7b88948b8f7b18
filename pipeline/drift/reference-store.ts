import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, toReference, toWindow, type ReferenceRow, type WindowRow } from './drift-database.js';
import {
  ReferenceExport,
  type DriftKey,
  type DriftReference,
  type StoredWindow,
  type WindowStatus,
} from './drift-records.js';
import { DriftProfile, mergeAll, mergeProfiles } from './profile.js';
import { binsVersion } from './statistics.js';

/**
 * Drift's SQLite file: every closed window's histograms (kept `retainDays`, so a baseline can be built
 * from any past range) and the reference profiles, keyed by camera + model + config revision. The newest
 * reference of a key is the active one.
 */
export class ReferenceStore {
  /** The file's name inside the agent's data dir. */
  static readonly fileName = 'drift.db';

  private constructor(private readonly db: Database.Database) {}

  static open(file: string): ReferenceStore {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new ReferenceStore(db);
  }

  /** Stores a closed window; a window stored twice (a restart mid-window) is merged with the first. */
  saveWindow(w: StoredWindow): void {
    this.db.transaction(() => {
      const old = this.db
        .prepare(
          'SELECT profile FROM drift_windows WHERE camera = ? AND model_id = ? AND config_rev = ? AND start_ms = ?',
        )
        .get(w.camera, w.modelId, w.configRevision, w.start) as { profile: string } | undefined;
      const profile = old ? mergeProfiles(DriftProfile.parse(JSON.parse(old.profile)), w.profile) : w.profile;
      this.db
        .prepare(
          `INSERT OR REPLACE INTO drift_windows
             (camera, model_id, config_rev, start_ms, end_ms, frames, status, state, state_since, profile,
              reference_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          w.camera,
          w.modelId,
          w.configRevision,
          w.start,
          w.end,
          profile.frames,
          w.status,
          w.state,
          w.stateSince,
          JSON.stringify(profile),
          w.referenceId ?? null,
        );
    })();
  }

  /** Windows of a camera that lie inside [from, to), oldest first; model and revision optional. */
  windows(q: {
    camera: string;
    modelId?: string;
    configRevision?: string;
    from?: number;
    to?: number;
  }): StoredWindow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM drift_windows WHERE camera = ? AND start_ms >= ? AND end_ms <= ?
           AND (? IS NULL OR model_id = ?) AND (? IS NULL OR config_rev = ?) ORDER BY start_ms`,
      )
      .all(
        q.camera,
        q.from ?? -1e15,
        q.to ?? 1e15,
        q.modelId ?? null,
        q.modelId ?? null,
        q.configRevision ?? null,
        q.configRevision ?? null,
      ) as WindowRow[];
    return rows.map(toWindow);
  }

  /** The first and last stored window of a key, or null: how long the key has been seen. */
  span(key: DriftKey): { first: number; last: number; windows: number } | null {
    const row = this.db
      .prepare(
        `SELECT min(start_ms) AS first, max(end_ms) AS last, count(*) AS windows FROM drift_windows
          WHERE camera = ? AND model_id = ? AND config_rev = ?`,
      )
      .get(key.camera, key.modelId, key.configRevision) as {
      first: number | null;
      last: number;
      windows: number;
    };
    return row.first === null ? null : { first: row.first, last: row.last, windows: row.windows };
  }

  /**
   * The last stored window of a key (of one status if given): where the state machine resumes after a
   * restart. Last written, not latest start: after the clock was stepped back, the newest window starts
   * earlier than the ones before the step (INSERT OR REPLACE gives a merged window a new rowid too).
   */
  lastWindow(key: DriftKey, status?: WindowStatus): StoredWindow | null {
    const row = this.db
      .prepare(
        `SELECT * FROM drift_windows WHERE camera = ? AND model_id = ? AND config_rev = ?
           AND (? IS NULL OR status = ?) ORDER BY rowid DESC LIMIT 1`,
      )
      .get(key.camera, key.modelId, key.configRevision, status ?? null, status ?? null) as
      WindowRow | undefined;
    return row ? toWindow(row) : null;
  }

  /** Deletes windows that ended before `before` (epoch ms); returns how many. */
  pruneWindows(before: number): number {
    return this.db.prepare('DELETE FROM drift_windows WHERE end_ms < ?').run(before).changes;
  }

  /** Merges the stored windows of a key inside [from, to) into a reference and stores it as the active one. */
  buildReference(
    key: DriftKey,
    range: { from: number; to: number },
    source: 'baseline' | 'auto',
    createdAt: number,
  ): DriftReference {
    const windows = this.windows({ ...key, ...range });
    if (!windows.length) {
      throw new Error(
        `no drift windows for camera "${key.camera}" (model ${key.modelId}, revision ${key.configRevision}) ` +
          `between ${new Date(range.from).toISOString()} and ${new Date(range.to).toISOString()}`,
      );
    }
    return this.saveReference({
      ...key,
      binsVersion,
      from: windows[0]!.start,
      to: windows.at(-1)!.end,
      windows: windows.length,
      source,
      createdAt,
      profile: mergeAll(windows.map((w) => w.profile)),
    });
  }

  saveReference(ref: Omit<DriftReference, 'id'>): DriftReference {
    const info = this.db
      .prepare(
        `INSERT INTO drift_references
           (camera, model_id, config_rev, from_ms, to_ms, windows, source, created_at, origin, bins_version, profile)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        ref.camera,
        ref.modelId,
        ref.configRevision,
        ref.from,
        ref.to,
        ref.windows,
        ref.source,
        ref.createdAt,
        ref.origin ?? null,
        ref.binsVersion,
        JSON.stringify(ref.profile),
      );
    return { ...ref, id: Number(info.lastInsertRowid) };
  }

  /** Id of the active reference of a key (cheap: lets a caller reload only when it changed). */
  activeReferenceId(key: DriftKey): number | null {
    const row = this.db
      .prepare(
        'SELECT max(id) AS id FROM drift_references WHERE camera = ? AND model_id = ? AND config_rev = ?',
      )
      .get(key.camera, key.modelId, key.configRevision) as { id: number | null };
    return row.id;
  }

  reference(id: number): DriftReference | null {
    const row = this.db.prepare('SELECT * FROM drift_references WHERE id = ?').get(id) as
      ReferenceRow | undefined;
    return row ? toReference(row) : null;
  }

  activeReference(key: DriftKey): DriftReference | null {
    const id = this.activeReferenceId(key);
    return id === null ? null : this.reference(id);
  }

  /** References of a camera (or all), newest first, without their histograms. */
  listReferences(camera?: string): Omit<DriftReference, 'profile'>[] {
    const rows = this.db
      .prepare('SELECT * FROM drift_references WHERE (? IS NULL OR camera = ?) ORDER BY id DESC')
      .all(camera ?? null, camera ?? null) as ReferenceRow[];
    return rows.map((r) => {
      const { profile: _profile, ...rest } = toReference(r);
      return rest;
    });
  }

  static toExport(ref: DriftReference): ReferenceExport {
    const { id: _id, ...rest } = ref;
    return { format: 'vigil-drift-reference', version: 1, ...rest };
  }

  /** Stores an exported reference, retargeted to a local key where given; it becomes the active one. */
  importReference(json: unknown, target: Partial<DriftKey> = {}, createdAt = Date.now()): DriftReference {
    const ref = ReferenceExport.parse(json);
    if (ref.binsVersion !== binsVersion) {
      throw new Error(
        `reference uses bins version ${ref.binsVersion}, this agent ${binsVersion}: rebuild it`,
      );
    }
    const origin = ref.origin ?? `${ref.camera}/${ref.modelId}/${ref.configRevision}`;
    const { format: _f, version: _v, ...rest } = ref;
    return this.saveReference({ ...rest, ...target, source: 'import', origin, createdAt });
  }

  close(): void {
    this.db.close();
  }
}
