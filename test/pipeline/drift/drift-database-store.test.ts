import { describe, expect, it } from 'vitest';
import type { StoredWindow } from '../../../pipeline/drift/drift-records.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { dbFile, key, profile } from './drift-database-fixture.js';

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
