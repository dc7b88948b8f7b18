import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SafetyConfig } from '../../../config/safety-schema.js';
import { SnapshotStore } from '../../../pipeline/safety/snapshot-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-snapshot-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const roomy = { maxCount: 100, maxBytes: 1 << 30, maxAgeMs: 3600_000 };
const files = (dir: string) => readdirSync(dir).sort();

/** A clock the test moves. */
function clock(start = 1_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('SnapshotStore', () => {
  it('stores <dir>/<eventId>.jpg byte for byte and serves it back', async () => {
    const dir = path.join(tempDir(), 'data', 'snapshots'); // created, parents too
    const store = SnapshotStore.open(dir, roomy);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    await store.put('0b7e4f2a-6c1d-4a8e-b3f5-9d2c7e1a4b60', jpeg);
    expect(files(dir)).toEqual(['0b7e4f2a-6c1d-4a8e-b3f5-9d2c7e1a4b60.jpg']);
    expect(readFileSync(path.join(dir, '0b7e4f2a-6c1d-4a8e-b3f5-9d2c7e1a4b60.jpg'))).toEqual(jpeg);
    expect(await store.get('0b7e4f2a-6c1d-4a8e-b3f5-9d2c7e1a4b60')).toEqual(jpeg);
    expect(store.has('0b7e4f2a-6c1d-4a8e-b3f5-9d2c7e1a4b60')).toBe(true);
    expect([store.count, store.totalBytes, store.dir]).toEqual([1, jpeg.length, dir]);
  });

  it('get: undefined for an id never stored, or whose file has gone', async () => {
    const dir = tempDir();
    const store = SnapshotStore.open(dir, roomy);
    expect(await store.get('nope')).toBeUndefined();
    await store.put('gone', Buffer.from('x'));
    unlinkSync(path.join(dir, 'gone.jpg'));
    expect(await store.get('gone')).toBeUndefined();
    // a file that is there but not in the index is not served either
    writeFileSync(path.join(dir, 'stray.jpg'), 'x');
    expect(await store.get('stray')).toBeUndefined();
  });

  it('keeps exactly maxCount: the oldest go first, files and index alike', async () => {
    const dir = tempDir();
    const c = clock();
    const store = SnapshotStore.open(dir, { ...roomy, maxCount: 3 }, c.fn, c.fn);
    for (const id of ['a', 'b', 'c']) {
      c.now += 10;
      await store.put(id, Buffer.from(id));
    }
    expect(files(dir)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']); // at the bound: nothing goes
    c.now += 10;
    await store.put('d', Buffer.from('d'));
    expect(files(dir)).toEqual(['b.jpg', 'c.jpg', 'd.jpg']);
    expect([store.has('a'), store.count, store.totalBytes]).toEqual([false, 3, 3]);
  });

  it('keeps at most maxBytes (exactly maxBytes fits), oldest out first', async () => {
    const dir = tempDir();
    const c = clock();
    const store = SnapshotStore.open(dir, { ...roomy, maxBytes: 30 }, c.fn, c.fn);
    for (const id of ['a', 'b', 'c']) {
      c.now += 10;
      await store.put(id, Buffer.alloc(10, id));
    }
    expect([store.count, store.totalBytes]).toEqual([3, 30]);
    c.now += 10;
    await store.put('d', Buffer.alloc(15));
    // 45 bytes: a goes (35), then b (25)
    expect(files(dir)).toEqual(['c.jpg', 'd.jpg']);
    expect(store.totalBytes).toBe(25);
    // one snapshot larger than the bound does not stay either
    await store.put('huge', Buffer.alloc(31));
    expect([files(dir), store.count, store.totalBytes]).toEqual([[], 0, 0]);
  });

  it('drops what is older than maxAge on the next put or prune; exactly maxAge old stays', async () => {
    const dir = tempDir();
    const c = clock(0);
    const store = SnapshotStore.open(dir, { ...roomy, maxAgeMs: 1000 }, c.fn, c.fn);
    await store.put('a', Buffer.from('a')); // at 0
    c.now = 500;
    await store.put('b', Buffer.from('b')); // at 500
    c.now = 1000;
    expect(await store.prune()).toBe(0);
    expect(files(dir)).toEqual(['a.jpg', 'b.jpg']);
    c.now = 1001;
    expect(await store.prune()).toBe(1);
    expect(files(dir)).toEqual(['b.jpg']);
    expect([store.has('a'), store.count, store.totalBytes]).toEqual([false, 1, 1]);
    c.now = 5000;
    await store.put('c', Buffer.from('cc'));
    expect(files(dir)).toEqual(['c.jpg']);
    expect(store.totalBytes).toBe(2);
    expect(await store.prune()).toBe(0);
  });

  it('ages by elapsed time: NTP stepping the wall clock 56 years ahead or a year back changes no age', async () => {
    const dir = tempDir();
    const wall = clock(Date.UTC(1970, 0, 1, 0, 1)); // a box booted without RTC
    const mono = clock(0);
    const store = SnapshotStore.open(dir, { ...roomy, maxAgeMs: 1000 }, wall.fn, mono.fn);
    await store.put('a', Buffer.from('a'));
    wall.now = Date.UTC(2026, 11, 3); // NTP
    mono.now = 500;
    await store.put('b', Buffer.from('b'));
    expect(files(dir)).toEqual(['a.jpg', 'b.jpg']);
    wall.now -= 365 * 86_400_000;
    mono.now = 1001;
    expect(await store.prune()).toBe(1);
    expect(files(dir)).toEqual(['b.jpg']);
  });

  it('a file dated after the opening (the clock went back since it was written) ages from the opening', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'late.jpg'), 'x'); // written now, read by a box whose clock reads 1970
    const mono = clock(0);
    const store = SnapshotStore.open(dir, { ...roomy, maxAgeMs: 1000 }, () => Date.UTC(1970, 0, 1), mono.fn);
    mono.now = 1001;
    expect(await store.prune()).toBe(1);
  });

  it('storing an id again replaces it: counted once, and it is now the newest', async () => {
    const dir = tempDir();
    const c = clock();
    const store = SnapshotStore.open(dir, { ...roomy, maxCount: 2 }, c.fn, c.fn);
    await store.put('a', Buffer.alloc(5));
    c.now += 10;
    await store.put('b', Buffer.alloc(5));
    c.now += 10;
    await store.put('a', Buffer.alloc(7));
    expect([store.count, store.totalBytes]).toEqual([2, 12]);
    c.now += 10;
    await store.put('c', Buffer.alloc(1));
    expect(files(dir)).toEqual(['a.jpg', 'c.jpg']);
    expect((await store.get('a'))!.length).toBe(7);
  });

  it('refuses ids that are not plain names, before touching the disk', async () => {
    const dir = path.join(tempDir(), 'store'); // what escapes it lands in the temp dir, removed after
    const store = SnapshotStore.open(dir, roomy);
    for (const bad of ['../escape', 'a/b', 'a.b', '', 'x'.repeat(65), 'sp ace', '..'])
      await expect(store.put(bad, Buffer.alloc(1)), bad).rejects.toThrow(/not a snapshot id/);
    expect(readdirSync(path.dirname(dir)).filter((f) => f.startsWith('escape'))).toEqual([]);
    expect(files(dir)).toEqual([]);
    expect(await store.get('../../etc/passwd')).toBeUndefined();
    await store.put('A-z_09'.padEnd(64, 'x'), Buffer.alloc(1));
    expect(store.count).toBe(1);
  });

  it('indexes what is on disk when it opens, oldest by mtime, so the bounds hold across restarts', async () => {
    const dir = tempDir();
    const t = 1_700_000_000; // s
    // names in the opposite order of age
    for (const [id, age] of [
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ] as const) {
      writeFileSync(path.join(dir, `${id}.jpg`), Buffer.alloc(4));
      utimesSync(path.join(dir, `${id}.jpg`), t - age, t - age);
    }
    // not snapshots: left alone and not counted
    writeFileSync(path.join(dir, 'notes.txt'), 'keep');
    writeFileSync(path.join(dir, 'bad name.jpg'), 'keep');
    writeFileSync(path.join(dir, 'c.jpg.tmp'), 'keep');
    const c = clock(t * 1000);
    const store = SnapshotStore.open(dir, { ...roomy, maxCount: 3 }, c.fn, c.fn);
    expect([store.count, store.totalBytes]).toEqual([3, 12]);
    expect([store.has('a'), store.has('b'), store.has('c'), store.has('notes')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    await store.put('d', Buffer.alloc(4));
    await store.put('e', Buffer.alloc(4));
    // c (oldest) then b went
    expect(files(dir)).toEqual(['a.jpg', 'bad name.jpg', 'c.jpg.tmp', 'd.jpg', 'e.jpg', 'notes.txt']);
    // and the age bound counts from each file's mtime
    const aged = SnapshotStore.open(dir, { ...roomy, maxAgeMs: 5000 }, () => t * 1000);
    expect(await aged.prune()).toBe(1); // a, 10 s old
    expect(aged.has('a')).toBe(false);
    expect(existsSync(path.join(dir, 'a.jpg'))).toBe(false);
  });

  it('concurrent puts (one per event of a frame) keep the bounds and leave no file behind', async () => {
    const dir = tempDir();
    const store = SnapshotStore.open(dir, { ...roomy, maxCount: 4, maxBytes: 1000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`e${i}`, Buffer.alloc(100 + i))));
    expect(store.count).toBeLessThanOrEqual(4);
    const onDisk = files(dir);
    expect(onDisk).toHaveLength(store.count);
    for (const f of onDisk) expect(store.has(f.slice(0, -4))).toBe(true);
    expect(store.totalBytes).toBe(onDisk.reduce((n, f) => n + readFileSync(path.join(dir, f)).length, 0));
  });

  it('works with the limits the agent derives from safety.snapshots', async () => {
    const s = SafetyConfig.parse({ snapshots: { maxCount: 2, maxMiB: 0.0001, maxAgeHours: 1 } }).snapshots;
    const dir = tempDir();
    const c = clock();
    const store = SnapshotStore.open(
      dir,
      {
        maxCount: s.maxCount,
        maxBytes: Math.round(s.maxMiB * 1024 * 1024),
        maxAgeMs: s.maxAgeHours * 3600_000,
      },
      c.fn,
      c.fn,
    );
    await store.put('a', Buffer.alloc(50));
    await store.put('b', Buffer.alloc(50)); // 100 bytes < 105
    expect(store.count).toBe(2);
    await store.put('c', Buffer.alloc(60)); // 160 > 105 bytes: a goes, 110 still > 105: b goes
    expect(files(dir)).toEqual(['c.jpg']);
    c.now += 3600_001;
    expect(await store.prune()).toBe(1);
  });
});
