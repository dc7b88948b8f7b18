import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { imageToInputFrame } from '../../../models/detect/image-input.js';
import type { InputSpec } from '../../../models/types.js';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import { snapshotPath } from '../../../pipeline/safety/event-builder.js';
import { encodeSnapshot } from '../../../pipeline/safety/snapshot-image.js';
import { SnapshotStore } from '../../../pipeline/safety/snapshot-store.js';
import { hasShared, sharedPath } from '../../support/shared.js';
import { boxAtFoot } from './scene.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-snapshots-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const limits = { maxCount: 100, maxBytes: 1 << 30, maxAgeMs: 3600_000 };

describe('SnapshotStore', () => {
  it('keeps at most maxCount, oldest out first, and finds what is left after a reopen', async () => {
    const dir = tempDir();
    let now = 1000;
    const store = SnapshotStore.open(dir, { ...limits, maxCount: 3 }, () => now);
    for (const id of ['e1', 'e2', 'e3', 'e4', 'e5']) {
      now += 10;
      await store.put(id, Buffer.from(`jpeg of ${id}`));
    }
    expect(readdirSync(dir).sort()).toEqual(['e3.jpg', 'e4.jpg', 'e5.jpg']);
    expect(await store.get('e1')).toBeUndefined();
    expect((await store.get('e5'))?.toString()).toBe('jpeg of e5');
    const reopened = SnapshotStore.open(dir, { ...limits, maxCount: 3 });
    expect([reopened.count, reopened.totalBytes]).toEqual([3, 3 * 'jpeg of e5'.length]);
  });

  it('bounds bytes and age', async () => {
    let now = 0;
    const store = SnapshotStore.open(
      tempDir(),
      { maxCount: 100, maxBytes: 25, maxAgeMs: 1000 },
      () => now,
      () => now,
    );
    await store.put('a', Buffer.alloc(10));
    await store.put('b', Buffer.alloc(10));
    await store.put('c', Buffer.alloc(10)); // 30 bytes > 25: a goes
    expect([store.has('a'), store.has('b'), store.has('c')]).toEqual([false, true, true]);
    now = 1500;
    await store.put('d', Buffer.alloc(1)); // b and c are older than 1 s
    expect([store.has('b'), store.has('c'), store.has('d')]).toEqual([false, false, true]);
  });

  it('refuses ids that are not plain names', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    await expect(store.put('../escape', Buffer.alloc(1))).rejects.toThrow(/not a snapshot id/);
    expect(await store.get('../../etc/passwd')).toBeUndefined();
  });
});

const spec = (pixelOrder: 'rgb' | 'bgr'): InputSpec => ({
  width: 320,
  height: 320,
  pixelOrder,
  padPosition: 'center',
  scale: 1 / 255,
  padValue: 114,
});

describe.skipIf(!hasShared)('event snapshots from letterboxed frames', () => {
  it('cuts the padding off and keeps the colours, in either channel order', async () => {
    const rgb = await imageToInputFrame(sharedPath('media', 'bus.jpg'), spec('rgb'));
    const bgr = await imageToInputFrame(sharedPath('media', 'bus.jpg'), spec('bgr'));
    const a = await encodeSnapshot({ ...rgb, pixelOrder: 'rgb' }, []);
    const b = await encodeSnapshot({ ...bgr, pixelOrder: 'bgr' }, []);
    const meta = await sharp(a).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([
      'jpeg',
      rgb.letterbox.scaledWidth,
      rgb.letterbox.scaledHeight,
    ]);
    // the same picture: mean colours agree within JPEG noise, and match the image itself
    const original = await sharp(sharedPath('media', 'bus.jpg')).toBuffer();
    const [sa, sb, src] = await Promise.all([a, b, original].map((x) => sharp(x).stats()));
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(sa!.channels[c]!.mean - sb!.channels[c]!.mean)).toBeLessThan(2);
      expect(Math.abs(sa!.channels[c]!.mean - src!.channels[c]!.mean)).toBeLessThan(4);
    }
  });

  it('writes one snapshot per started event, served under the path the message names', async () => {
    const frame = await imageToInputFrame(sharedPath('media', 'bus.jpg'), spec('rgb'));
    const store = SnapshotStore.open(tempDir(), limits);
    const safety = new CameraSafety({
      camera: 'yard',
      config: { proximity: { vehicleLabels: ['bus'] } },
      snapshots: store,
      pixelOrder: 'rgb',
    });
    // a person standing by a bus (bus.jpg's own layout, in its 810×1080 pixels)
    const dets = [
      { label: 'bus', classId: 5, score: 0.9, box: { x1: 30, y1: 230, x2: 800, y2: 740 } },
      { label: 'person', classId: 0, score: 0.9, box: boxAtFoot(280, 860, 120, 450) },
    ];
    const messages = [];
    for (let f = 0; f < 5; f++) {
      const out = safety.process({
        ts: 1e12 + f * 100,
        pts: f / 10,
        srcWidth: 810,
        srcHeight: 1080,
        result: { detections: dets },
        frame,
      });
      messages.push(...out.events);
    }
    await safety.flush();
    expect(messages.map((m) => `${m.type}:${m.phase}`)).toEqual(['person_near_forklift:start']);
    const m = messages[0]!;
    expect(m.snapshot).toBe(snapshotPath(m.eventId));
    expect(m.frame).toEqual({ width: 810, height: 1080 });
    const jpeg = await store.get(m.eventId);
    expect(jpeg).toBeDefined();
    expect((await sharp(jpeg!).metadata()).width).toBe(frame.letterbox.scaledWidth);
    expect(store.count).toBe(1);
  });
});
