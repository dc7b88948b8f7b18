import {
  existsSync,
  mkdirSync,
  readdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { topics } from '../../../agent/mqtt/topics.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import { enqueueSafetyEvents, safetyEventPriority, SafetyHub } from '../../../agent/safety/safety-hub.js';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import { OutboxConfig, type VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import type { DetectorInfo } from '../../../models/types.js';
import type { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import type { SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { logLines } from '../../support/log-lines.js';

// The agent's side of safety (agent/safety/safety-hub.ts, docs/safety.md): the snapshot store under the
// data dir within `safety.snapshots` bounds, each camera's safety chain, and the events' way into the outbox.
// Real SnapshotStore files, real JPEG encoding (sharp), real SQLite outbox; frames are synthetic pixels.

const dirs: string[] = [];
const hubs: SafetyHub[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const h of hubs.splice(0)) h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-safety-hub-'));
  dirs.push(d);
  return d;
};

function config(
  dataDir: string,
  safety: VigilConfigInput['safety'] = {},
  camera: Record<string, unknown> = {},
): VigilConfig {
  return validateConfig({
    site: 'yard',
    device: 'box1',
    dataDir,
    models: { det: { path: path.join(dataDir, 'det.onnx') } },
    cameras: [{ id: 'dock', source: 'rtsp://cam/dock', model: 'det', ...camera }],
    safety,
  });
}
const info = (pixelOrder: 'rgb' | 'bgr' = 'rgb') => ({ input: { pixelOrder } }) as unknown as DetectorInfo;
function opened(cfg: VigilConfig, log = silentLogger): SafetyHub {
  const hub = new SafetyHub(log);
  hubs.push(hub);
  hub.open(cfg);
  return hub;
}

// A 640×480 source letterboxed into 320×320 (the picture is 320×240 at y 40), every pixel one colour or noise.
const letterbox = {
  srcWidth: 640,
  srcHeight: 480,
  inputWidth: 320,
  inputHeight: 320,
  scaledWidth: 320,
  scaledHeight: 240,
  padX: 0,
  padY: 40,
};
const red = () => Uint8Array.from({ length: 320 * 320 * 3 }, (_, i) => (i % 3 === 0 ? 255 : 0));
const noise = () => {
  let s = 12345;
  return Uint8Array.from({ length: 320 * 320 * 3 }, () => (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 23);
};
// A person standing 20 px right of a forklift's box: inside the default proximity margin.
const detections = [
  { label: 'forklift', classId: 1, score: 0.9, box: { x1: 100, y1: 100, x2: 400, y2: 400 } },
  { label: 'person', classId: 0, score: 0.9, box: { x1: 400, y1: 300, x2: 440, y2: 400 } },
];
/** Feeds frames until the proximity event starts; returns every message and the started event's id. */
async function runScene(safety: CameraSafety, data = red(), frames = 5) {
  const messages: SafetyEventMessage[] = [];
  for (let f = 0; f < frames; f++) {
    const out = safety.process({
      ts: 1_700_000_000_000 + f * 100,
      pts: f / 10,
      srcWidth: 640,
      srcHeight: 480,
      result: { detections },
      frame: { data, letterbox },
    });
    messages.push(...out.events);
  }
  await safety.flush();
  const start = messages.find((m) => m.phase === 'start');
  if (!start) throw new Error(`no event started: ${JSON.stringify(messages)}`);
  return { messages, eventId: start.eventId, start };
}

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

describe('enqueueSafetyEvents', () => {
  it('commits each message to …/cameras/<camera>/events at priority 2 with the outbox id', async () => {
    const dir = tempDir();
    const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ maxRows: 2 }));
    try {
      const cfg = config(dir);
      const safety = opened(cfg).forCamera(cfg.cameras[0]!, info())!;
      const { messages } = await runScene(safety);
      const all = [...messages, ...safety.close()]; // the start, and its end when the camera stops
      expect(all.map((m) => m.phase)).toEqual(['start', 'end']);
      // A full outbox of detections (priority 0): the events push them out.
      const t = topics('vigil', 'yard', 'box1');
      for (let n = 0; n < 2; n++)
        outbox.enqueue({ topic: t.camera('dock').detections, priority: 0, build: () => ({ n }) });
      enqueueSafetyEvents(outbox, t, all);
      const rows = outbox.next(10, new Set());
      expect(rows.map((r) => [r.topic, r.priority])).toEqual([
        ['vigil/yard/box1/cameras/dock/events', safetyEventPriority],
        ['vigil/yard/box1/cameras/dock/events', safetyEventPriority],
      ]);
      expect(safetyEventPriority).toBe(2);
      rows.forEach((r, i) => {
        const body = SafetyEventPayload.parse(JSON.parse(r.payload.toString()));
        expect(body).toEqual({ ...JSON.parse(JSON.stringify(all[i])), id: r.id });
      });
      // Events outrank states (1): a state finds no room among them.
      const res = outbox.enqueue({ topic: t.camera('dock').state, priority: 1, build: () => ({}) });
      expect(res.dropped).toBe('max-rows');
      expect(outbox.next(10, new Set()).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    } finally {
      outbox.close();
    }
  });
});
