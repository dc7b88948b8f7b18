import { mkdtempSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriftAccumulator } from '../../../pipeline/drift/drift-accumulator.js';
import type { DriftKey, StoredWindow } from '../../../pipeline/drift/drift-records.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { syntheticEvent, syntheticImage } from './support.js';

const key: DriftKey = { camera: 'cam1', modelId: 'det', configRevision: 'rev-a' };
const dbFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'vigil-drift-')), 'drift.db');

function window(start: number, frames: number, people = 3): StoredWindow {
  const acc = new DriftAccumulator();
  for (let i = 0; i < frames; i++) {
    acc.addFrame(syntheticImage(i));
    acc.addDetections(syntheticEvent(i, people));
  }
  return {
    ...key,
    start,
    end: start + 1000,
    status: 'scored',
    state: 'ok',
    stateSince: 0,
    profile: acc.snapshot(),
  };
}

describe('ReferenceStore (a real SQLite file)', () => {
  it('stores windows and builds a reference from any stored range', () => {
    const file = dbFile();
    const store = ReferenceStore.open(file);
    for (let i = 0; i < 6; i++) store.saveWindow(window(i * 1000, 10 + i));
    store.saveWindow({ ...window(2000, 5), configRevision: 'rev-b' });
    expect(store.windows({ camera: 'cam1' })).toHaveLength(7);
    expect(store.span(key)).toEqual({ first: 0, last: 6000, windows: 6 });

    const ref = store.buildReference(key, { from: 1000, to: 4000 }, 'baseline', 123);
    // windows 1000, 2000 and 3000 of revision a: 11 + 12 + 13 frames
    expect(ref).toMatchObject({
      ...key,
      from: 1000,
      to: 4000,
      windows: 3,
      source: 'baseline',
      createdAt: 123,
    });
    expect(ref.profile.frames).toBe(36);
    expect(store.activeReference(key)!.profile).toEqual(ref.profile);
    expect(() => store.buildReference(key, { from: 50_000, to: 60_000 }, 'baseline', 0)).toThrow(
      /no drift windows/,
    );
    store.close();

    // it is all still there after reopening
    const again = ReferenceStore.open(file);
    expect(again.activeReferenceId(key)).toBe(ref.id);
    expect(again.lastWindow(key)).toMatchObject({ start: 5000, state: 'ok' });
    again.close();
  });

  // Ordered by start, a restart after the clock was stepped back resumed from the last window before the
  // step, not from the newest one.
  it('the last window is the last written, also when the clock was stepped back', () => {
    const store = ReferenceStore.open(dbFile());
    store.saveWindow(window(100_000, 10));
    store.saveWindow({ ...window(4000, 10), state: 'warn' }); // an hour-long step back, say
    expect(store.lastWindow(key)).toMatchObject({ start: 4000, state: 'warn' });
    store.saveWindow(window(100_000, 5)); // merged into the earlier one: written last again
    expect(store.lastWindow(key)).toMatchObject({ start: 100_000, state: 'ok' });
    store.close();
  });

  it('a window stored twice (restart mid-window) is merged, old windows are pruned', () => {
    const store = ReferenceStore.open(dbFile());
    store.saveWindow(window(0, 10));
    store.saveWindow(window(0, 5));
    expect(store.windows({ camera: 'cam1' })[0]!.profile.frames).toBe(15);
    store.saveWindow(window(1000, 3));
    expect(store.pruneWindows(1500)).toBe(1); // the window that ended at 1000
    expect(store.windows({ camera: 'cam1' }).map((w) => w.start)).toEqual([1000]);
    store.close();
  });

  it('exports a reference as JSON and imports it on another box, retargeted to a local camera', () => {
    const a = ReferenceStore.open(dbFile());
    a.saveWindow(window(0, 20));
    const ref = a.buildReference(key, { from: 0, to: 1000 }, 'baseline', 5);
    const json = JSON.parse(JSON.stringify(ReferenceStore.toExport(ref))) as unknown;
    a.close();

    const b = ReferenceStore.open(dbFile());
    const local = { camera: 'gate-3', modelId: 'det', configRevision: 'rev-local' };
    const imported = b.importReference(json, local, 99);
    expect(imported).toMatchObject({ ...local, source: 'import', origin: 'cam1/det/rev-a', createdAt: 99 });
    expect(b.activeReference(local)!.profile).toEqual(ref.profile);
    expect(b.listReferences('gate-3')).toHaveLength(1);
    expect(() => b.importReference({ format: 'something-else' })).toThrow();
    expect(() => b.importReference({ ...(json as object), binsVersion: 999 })).toThrow(/bins version 999/);
    b.close();
  });

  it('opens a version 1 file (before windows recorded their reference) and keeps its windows', () => {
    const file = dbFile();
    const v1 = new Database(file);
    v1.exec(`
      CREATE TABLE drift_windows (
        camera TEXT NOT NULL, model_id TEXT NOT NULL, config_rev TEXT NOT NULL,
        start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, frames INTEGER NOT NULL,
        status TEXT NOT NULL, state TEXT NOT NULL, state_since INTEGER NOT NULL, profile TEXT NOT NULL,
        PRIMARY KEY (camera, model_id, config_rev, start_ms)
      );
      CREATE TABLE drift_references (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        camera TEXT NOT NULL, model_id TEXT NOT NULL, config_rev TEXT NOT NULL,
        from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, windows INTEGER NOT NULL,
        source TEXT NOT NULL, created_at INTEGER NOT NULL, origin TEXT, bins_version INTEGER NOT NULL,
        profile TEXT NOT NULL
      );
      PRAGMA user_version = 1;
    `);
    const w = window(0, 10);
    v1.prepare(
      `INSERT INTO drift_windows VALUES ('cam1', 'det', 'rev-a', 0, 1000, 10, 'scored', 'warn', 0, ?)`,
    ).run(JSON.stringify(w.profile));
    v1.close();
    const store = ReferenceStore.open(file);
    expect(store.lastWindow(key)).toMatchObject({ state: 'warn', referenceId: null, profile: w.profile });
    store.saveWindow({ ...window(1000, 10), referenceId: 7 });
    expect(store.lastWindow(key)).toMatchObject({ start: 1000, referenceId: 7 });
    store.close();
  });
});
