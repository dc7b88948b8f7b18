import { rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { logLines } from '../../support/log-lines.js';
import { config, info, noise, opened, runScene, tempDir, useSafetyHubs } from './safety-hub-fixture.js';

// Each camera's safety chain from the hub (agent/safety/safety-hub.ts, docs/safety.md): its zones, rules
// and scene time, and the snapshots of its events (real JPEG encoding, sharp).

useSafetyHubs();

describe('SafetyHub.forCamera', () => {
  it('none for a camera whose tracking is off; else a chain on the camera zones, rules and proximity', () => {
    const dataDir = tempDir();
    const hub = opened(config(dataDir));
    const off = config(dataDir, {}, { tracking: { enabled: false } });
    expect(hub.forCamera(off.cameras[0]!, info())).toBeUndefined();
    const cam = config(
      dataDir,
      {},
      {
        zones: [
          {
            id: 'bay',
            polygon: [
              [0, 0],
              [10, 0],
              [10, 10],
            ],
          },
        ],
        rules: [{ zone: 'bay', type: 'dwell', dwellS: 5 }],
        proximity: { margin: { px: 40 } },
        priority: 3,
      },
    ).cameras[0]!;
    const safety = hub.forCamera(cam, info())!;
    expect(safety.config).toMatchObject({
      zones: cam.zones,
      rules: cam.rules,
      proximity: cam.proximity,
      priority: 3,
    });
  });

  it('scene time: a live camera keeps to the wall clock, a file read faster than real time to its pts', () => {
    const hub = opened(config(tempDir()));
    const time = (camera: Record<string, unknown>) => {
      const safety = hub.forCamera(config(tempDir(), {}, camera).cameras[0]!, info())!;
      const frame = (ts: number, pts: number) =>
        safety.process({ ts, pts, srcWidth: 640, srcHeight: 480, result: { detections: [] } }).tracked.time;
      frame(1_700_000_000_000, 0);
      return frame(1_700_000_000_100, 5) - 1_700_000_000_000; // 5 s of video read in 0.1 s
    };
    expect(time({ source: 'rtsp://cam/dock' })).toBe(100);
    expect(time({ source: '/media/dock.mp4', realtime: false })).toBe(5000);
  });

  it('snapshots in the model pixel order (a BGR frame is not painted in swapped colours)', async () => {
    const cfg = config(tempDir());
    const hub = opened(cfg);
    const mean = async (order: 'rgb' | 'bgr') => {
      const { eventId } = await runScene(hub.forCamera(cfg.cameras[0]!, info(order))!);
      return (await sharp((await hub.snapshot(eventId))!).stats()).channels.map((c) => Math.round(c.mean));
    };
    const [rgb, bgr] = [await mean('rgb'), await mean('bgr')];
    expect(rgb[0]).toBeGreaterThan(200); // red stays red
    expect(rgb[2]).toBeLessThan(50);
    expect(bgr[0]).toBeLessThan(50); // the same bytes read as BGR are blue
    expect(bgr[2]).toBeGreaterThan(200);
  });

  it('encodes at safety.snapshots.quality', async () => {
    const size = async (quality: number) => {
      const cfg = config(tempDir(), { snapshots: { quality } });
      const hub = opened(cfg);
      const { eventId } = await runScene(hub.forCamera(cfg.cameras[0]!, info())!, noise());
      return (await hub.snapshot(eventId))!.length;
    };
    expect(await size(100)).toBeGreaterThan(2 * (await size(30)));
  });

  it('a snapshot that cannot be written is counted and logged, and the event still goes out', async () => {
    const dataDir = tempDir();
    const cfg = config(dataDir);
    const { log, lines } = logLines('warn');
    const hub = opened(cfg, log);
    rmSync(path.join(dataDir, 'snapshots'), { recursive: true }); // the disk under the store goes away
    const { eventId, start } = await runScene(hub.forCamera(cfg.cameras[0]!, info())!);
    expect(start.type).toBe('person_near_forklift');
    expect(hub.snapshotErrors).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'event snapshot failed',
        camera: 'dock',
        eventId,
        reason: expect.stringContaining('ENOENT'),
      }),
    ]);
    expect(await hub.snapshot(eventId)).toBeUndefined();
  });
});
