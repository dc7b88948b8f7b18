import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { config, info, opened, runScene, tempDir, useSafetyHubs } from './safety-hub-fixture.js';

// The hub's event snapshots (agent/safety/safety-hub.ts, docs/safety.md): the store under the data dir
// within `safety.snapshots` bounds. Real SnapshotStore files, real JPEG encoding (sharp).

useSafetyHubs();

describe('SafetyHub snapshots', () => {
  it('an event that starts gets its JPEG under dataDir/<dir>, served by snapshot(id); unknown ids are none', async () => {
    const dataDir = tempDir();
    const cfg = config(dataDir, { snapshots: { dir: 'events/jpeg' } });
    const hub = opened(cfg);
    expect(existsSync(path.join(dataDir, 'events', 'jpeg'))).toBe(true);
    const { eventId, start } = await runScene(hub.forCamera(cfg.cameras[0]!, info())!);
    expect(start.snapshot).toBe(`/api/events/${eventId}/snapshot.jpg`);
    const file = path.join(dataDir, 'events', 'jpeg', `${eventId}.jpg`);
    const jpeg = await hub.snapshot(eventId);
    expect(jpeg).toEqual(readFileSync(file));
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect(await hub.snapshot('never-taken')).toBeUndefined();
    expect(hub.snapshotErrors).toBe(0);
  });

  it('snapshots off: no store, events carry no snapshot link, snapshot(id) is none', async () => {
    const dataDir = tempDir();
    const cfg = config(dataDir, { snapshots: { enabled: false } });
    const hub = opened(cfg);
    const { eventId, start } = await runScene(hub.forCamera(cfg.cameras[0]!, info())!);
    expect(start.snapshot).toBeNull();
    expect(existsSync(path.join(dataDir, 'snapshots'))).toBe(false);
    expect(await hub.snapshot(eventId)).toBeUndefined();
  });

  // Two snapshots from an earlier run (older `a`, newer `b`: the store indexes them on open), then one new
  // event: each bound, in its config unit, removes exactly `a`.
  const hour = 3600_000;
  it.each([
    ['maxAgeHours', { maxAgeHours: 1 }, [2 * hour, 1], [0.5 * hour, 1]],
    ['maxMiB', { maxMiB: 1 }, [0.2 * hour, 800 * 1024], [0.1 * hour, 300 * 1024]],
    ['maxCount', { maxCount: 2 }, [0.2 * hour, 1], [0.1 * hour, 1]],
  ] as const)('the store holds safety.snapshots.%s', async (_, bound, [ageA, sizeA], [ageB, sizeB]) => {
    const dataDir = tempDir();
    const dir = path.join(dataDir, 'snapshots');
    mkdirSync(dir);
    for (const [id, age, size] of [
      ['a', ageA, sizeA],
      ['b', ageB, sizeB],
    ] as const) {
      writeFileSync(path.join(dir, `${id}.jpg`), Buffer.alloc(size));
      const t = (Date.now() - age) / 1000;
      utimesSync(path.join(dir, `${id}.jpg`), t, t);
    }
    const cfg = config(dataDir, { snapshots: bound });
    const hub = opened(cfg);
    const { eventId } = await runScene(hub.forCamera(cfg.cameras[0]!, info())!);
    expect([await hub.snapshot('a'), await hub.snapshot('b'), await hub.snapshot(eventId)]).toEqual([
      undefined,
      expect.any(Buffer),
      expect.any(Buffer),
    ]);
    expect(existsSync(path.join(dir, 'a.jpg'))).toBe(false);
  });

  it('a limit lowered since the last run applies at open, before any event', async () => {
    const dataDir = tempDir();
    const dir = path.join(dataDir, 'snapshots');
    mkdirSync(dir);
    for (const [id, minutesAgo] of [
      ['a', 30],
      ['b', 20],
      ['c', 10],
    ] as const) {
      writeFileSync(path.join(dir, `${id}.jpg`), id);
      const t = (Date.now() - minutesAgo * 60_000) / 1000;
      utimesSync(path.join(dir, `${id}.jpg`), t, t);
    }
    opened(config(dataDir, { snapshots: { maxCount: 1 } }));
    await vi.waitFor(() => expect(readdirSync(dir)).toEqual(['c.jpg']), 20_000);
  });

  it('prunes by age every ten minutes without new events, and stops when closed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date', 'performance'] });
    // The same 55-minute-old snapshot under two data dirs: one hub stays open, the other is closed at once.
    const [openDir, closedDir] = [tempDir(), tempDir()];
    const old = (Date.now() - 55 * 60_000) / 1000;
    for (const d of [openDir, closedDir]) {
      mkdirSync(path.join(d, 'snapshots'));
      writeFileSync(path.join(d, 'snapshots', 'p.jpg'), 'p');
      utimesSync(path.join(d, 'snapshots', 'p.jpg'), old, old);
    }
    const hub = opened(config(openDir, { snapshots: { maxAgeHours: 1 } }));
    const closed = opened(config(closedDir, { snapshots: { maxAgeHours: 1 } }));
    closed.close();
    expect(await hub.snapshot('p')).toBeDefined(); // within the hour
    vi.advanceTimersByTime(10 * 60_000); // now 65 minutes old
    expect(await hub.snapshot('p')).toBeUndefined();
    const file = path.join(openDir, 'snapshots', 'p.jpg');
    await vi.waitFor(() => expect(existsSync(file)).toBe(false), 20_000);
    expect(await closed.snapshot('p')).toBeDefined();
  });
});
