import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { CameraSafetyConfigInput } from '../../../config/safety-schema.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Letterbox } from '../../../models/types.js';
import { CameraSafety, type CameraSafetyOptions } from '../../../pipeline/safety/camera-safety.js';
import { snapshotPath, type SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SafetyEventPayload } from '../../../pipeline/safety/payloads.js';
import { SnapshotStore } from '../../../pipeline/safety/snapshot-store.js';
import { frameEvent, stand, walk, type ActorSpec } from './scene.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-camera-safety-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const limits = { maxCount: 100, maxBytes: 1 << 30, maxAgeMs: 3600_000 };
const t0 = 1_700_000_000_000;
const at = (f: number) => t0 + f * 100;

/** A 1280×720 source letterboxed into 320×320 (320×180 picture, grey bars), the picture one colour (r, g, b). */
function letterboxed(rgb: [number, number, number], order: 'rgb' | 'bgr' = 'rgb', size = 320) {
  const letterbox: Letterbox = computeLetterbox(1280, 720, {
    width: size,
    height: size,
    padPosition: 'center',
  });
  const { inputWidth, inputHeight, padX, padY, scaledWidth, scaledHeight } = letterbox;
  const data = new Uint8Array(inputWidth * inputHeight * 3).fill(114);
  const px = order === 'rgb' ? rgb : ([rgb[2], rgb[1], rgb[0]] as const);
  for (let y = padY; y < padY + scaledHeight; y++)
    for (let x = padX; x < padX + scaledWidth; x++) data.set(px, (y * inputWidth + x) * 3);
  return { data, letterbox };
}

async function meanColour(jpeg: Buffer) {
  const s = await sharp(jpeg).stats();
  return s.channels.slice(0, 3).map((c) => c.mean);
}

// A dock zone: x 400..800, y 300..600 (source pixels); a forklift parked right of it.
const dock = {
  id: 'dock',
  polygon: [
    [400, 300],
    [800, 300],
    [800, 600],
    [400, 600],
  ] as [number, number][],
};
const config: CameraSafetyConfigInput = {
  zones: [dock],
  rules: [
    { zone: 'dock', type: 'enter' },
    { zone: 'dock', type: 'leave' },
  ],
};
// foot point 10 px/frame along y = 550: in the dock on frames 30..69, near the forklift (box x 900..1100,
// margin 50 px) from frame 75, gone after frame 100
const person: ActorSpec = { label: 'person', actor: walk([105, 550], [1105, 550], 0, 100) };
const forklift: ActorSpec = { label: 'forklift', classId: 1, actor: stand(1000, 650, 0, 200, [200, 150]) };

function run(
  opts: Partial<CameraSafetyOptions>,
  actors: ActorSpec[],
  frames: number,
  frame?: { data: Uint8Array; letterbox: Letterbox },
) {
  const safety = new CameraSafety({ camera: 'cam1', config, realtime: false, ...opts });
  const events: SafetyEventMessage[] = [];
  for (let f = 0; f < frames; f++) {
    const out = safety.process({ ...frameEvent(actors, f), ...(frame ? { frame } : {}) });
    for (const e of out.events) SafetyEventPayload.parse({ id: 'm', ...e });
    events.push(...out.events);
  }
  return { safety, events };
}

const summary = (events: SafetyEventMessage[]) => events.map((e) => `${e.type}:${e.phase}`);
const taken = (events: SafetyEventMessage[]) =>
  events.filter((e) => e.phase === 'start' || e.phase === 'instant').map((e) => e.eventId);

describe('CameraSafety', () => {
  it('tracks, then applies the zone and proximity rules, with track ids on the detections', () => {
    const safety = new CameraSafety({ camera: 'cam1', config, realtime: false });
    const first = safety.process(frameEvent([person, forklift], 0));
    // on the first frame everything present is taken as real
    expect(first.detections.map((d) => [d.label, d.trackId])).toEqual([
      ['person', 1],
      ['forklift', 2],
    ]);
    expect(first.tracked.tracks.map((t) => t.id)).toEqual([1, 2]);
    expect(first.tracked.time).toBe(t0);
    const events: SafetyEventMessage[] = [];
    for (let f = 1; f < 100; f++) events.push(...safety.process(frameEvent([person, forklift], f)).events);
    expect(summary(events)).toEqual([
      'zone_enter:start',
      'zone_enter:end',
      'zone_leave:instant',
      'person_near_forklift:start',
      'person_near_forklift:update',
      'person_near_forklift:update',
    ]);
    expect(events.every((e) => e.camera === 'cam1')).toBe(true);
    expect(events[0]).toMatchObject({
      start: at(30),
      zone: 'dock',
      trackIds: [1],
      frame: { width: 1280, height: 720 },
    });
    expect(events[3]).toMatchObject({ ts: at(75), trackIds: [1, 2], severity: 'low' });
    expect(events[5]).toMatchObject({ severity: 'high' });
    // without a store, no snapshot path is promised
    expect(events.every((e) => e.snapshot === null)).toBe(true);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [] }]);
  });

  it('NTP stepping the wall clock 56 years ahead fires no dwell and ends no track (a box booted at 1970)', () => {
    let mono = 0;
    const safety = new CameraSafety({
      camera: 'cam1',
      config: { zones: [dock], rules: [{ zone: 'dock', type: 'dwell', dwellS: 30 }] },
      monotonic: () => mono,
    });
    const worker: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 100) };
    const events: SafetyEventMessage[] = [];
    for (let f = 0; f < 100; f++) {
      mono = f * 100;
      const e = frameEvent([worker], f);
      const out = safety.process({ ...e, ts: e.ts + (f >= 50 ? 56 * 365 * 86_400_000 : 0) });
      events.push(...out.events);
      expect(out.tracked.ended).toEqual([]);
    }
    // 10 s inside: no dwell of 30 s yet, and the person is still inside the dock.
    expect(summary(events)).toEqual([]);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [1] }]);
  });

  it('in one frame, zone events come before proximity events', () => {
    // standing inside the dock and inside a forklift's margin from the first frame
    const p: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 10) };
    const f: ActorSpec = { label: 'forklift', actor: stand(600, 580, 0, 10, [200, 150]) };
    const { events } = run(
      { config: { zones: [{ ...dock, confirmFrames: 1 }], rules: [{ zone: 'dock', type: 'enter' }] } },
      [p, f],
      3,
    );
    expect(summary(events)).toEqual(['zone_enter:start', 'person_near_forklift:start']);
    expect(events[0]!.ts).toBe(events[1]!.ts);
  });

  it('reports who is inside each zone', () => {
    const { safety } = run({}, [person, forklift], 50);
    expect(safety.occupancy()).toEqual([{ zone: 'dock', trackIds: [1] }]);
  });

  it('writes one JPEG per started event (start and instant, not update or end), under the id the message names', async () => {
    const dir = tempDir();
    const store = SnapshotStore.open(dir, limits);
    const { safety, events } = run({ snapshots: store }, [person, forklift], 100, letterboxed([20, 40, 200]));
    await safety.flush();
    const ids = taken(events);
    expect(ids).toHaveLength(3);
    expect(readdirSync(dir).sort()).toEqual(ids.map((id) => `${id}.jpg`).sort());
    for (const e of events) expect(e.snapshot).toBe(snapshotPath(e.eventId));
    const jpeg = await store.get(ids[0]!);
    const meta = await sharp(jpeg!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 180]);
  });

  it('the JPEG is of the frame that started the event, not of a later update', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const blue = letterboxed([20, 40, 200]);
    const red = letterboxed([200, 30, 30]);
    const safety = new CameraSafety({ camera: 'cam1', config, realtime: false, snapshots: store });
    const events: SafetyEventMessage[] = [];
    for (let f = 0; f < 100; f++)
      events.push(
        ...safety.process({ ...frameEvent([person, forklift], f), frame: f <= 75 ? blue : red }).events,
      );
    await safety.flush();
    const near = events.filter((e) => e.type === 'person_near_forklift');
    expect(near.map((e) => e.phase)).toEqual(['start', 'update', 'update']);
    expect(near[0]!.ts).toBe(at(75));
    const [r, , b] = await meanColour((await store.get(near[0]!.eventId))!);
    expect(b).toBeGreaterThan(150);
    expect(r).toBeLessThan(100);
  });

  it('no snapshot without a frame, and then no link to one: every message of that event says null', async () => {
    const dir = tempDir();
    const store = SnapshotStore.open(dir, limits);
    const { safety, events } = run({ snapshots: store }, [person, forklift], 80);
    await safety.flush();
    expect(taken(events)).toHaveLength(3);
    expect(readdirSync(dir)).toEqual([]);
    // A link to a snapshot that was never taken would answer 404 for the event's whole life.
    expect(events.length).toBeGreaterThan(3);
    expect(events.every((e) => e.snapshot === null)).toBe(true);
  });

  it('encodes from a copy: the source may reuse the frame buffer as soon as process returns', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const frame = letterboxed([200, 30, 30]);
    // overwrite right after the frame that started the event, before any encode ran
    const safety = new CameraSafety({ camera: 'cam1', config, realtime: false, snapshots: store });
    let id = '';
    for (let f = 0; f < 40 && !id; f++) {
      const out = safety.process({ ...frameEvent([person], f), frame });
      if (out.events.length) {
        id = out.events[0]!.eventId;
        frame.data.fill(0);
      }
    }
    await safety.flush();
    const [r, g, b] = await meanColour((await store.get(id))!);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('colours BGR frames right when told the pixel order, with the configured quality', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const noise = letterboxed([20, 40, 200], 'bgr');
    // some texture, so quality shows in the size
    for (let i = 0; i < noise.data.length; i += 7)
      noise.data[i] = (noise.data[i]! + ((i * 2654435761) % 61)) & 255;
    const sizes: number[] = [];
    for (const quality of [30, 100]) {
      const { safety, events } = run(
        { snapshots: store, pixelOrder: 'bgr', snapshotQuality: quality, camera: `q${quality}` },
        [person],
        40,
        noise,
      );
      await safety.flush();
      const jpeg = (await store.get(taken(events)[0]!))!;
      sizes.push(jpeg.length);
      const [r, g, b] = await meanColour(jpeg);
      expect(b).toBeGreaterThan(150);
      expect(r).toBeLessThan(100);
      expect(g).toBeLessThan(100);
    }
    expect(sizes[1]).toBeGreaterThan(sizes[0]! * 1.5);
  });

  it('the default pixel order is RGB', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const { safety, events } = run({ snapshots: store }, [person], 40, letterboxed([20, 40, 200]));
    await safety.flush();
    const [r, , b] = await meanColour((await store.get(taken(events)[0]!))!);
    expect(b).toBeGreaterThan(150);
    expect(r).toBeLessThan(100);
  });

  it('a snapshot that cannot be stored is reported with its event id; the event still goes out', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const errors: [string, unknown][] = [];
    const { safety, events } = run(
      {
        snapshots: store,
        newEventId: () => 'not/a/file/name',
        onSnapshotError: (id, err) => errors.push([id, err]),
      },
      [person],
      40,
      letterboxed([20, 40, 200]),
    );
    await safety.flush();
    expect(summary(events)).toEqual(['zone_enter:start']);
    expect(errors.map(([id]) => id)).toEqual(['not/a/file/name']);
    expect(String(errors[0]![1])).toMatch(/not a snapshot id/);
    expect(store.count).toBe(0);
    // without a handler a failure is swallowed, not an unhandled rejection
    const quiet = run({ snapshots: store, newEventId: () => '..' }, [person], 40, letterboxed([1, 2, 3]));
    await quiet.safety.flush();
  });

  it('flush waits for every snapshot started so far', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const many: ActorSpec[] = [0, 1, 2, 3, 4].map((k) => ({
      label: 'person',
      actor: stand(450 + k * 60, 400, 0, 5),
    }));
    const { safety, events } = run(
      {
        snapshots: store,
        config: { zones: [{ ...dock, confirmFrames: 1 }], rules: [{ zone: 'dock', type: 'enter' }] },
      },
      many,
      3,
      letterboxed([20, 40, 200]),
    );
    expect(taken(events)).toHaveLength(5);
    await safety.flush();
    expect(store.count).toBe(5);
    for (const id of taken(events)) expect(store.has(id)).toBe(true);
  });

  it('flush also waits for snapshots started while it waits (shutdown)', async () => {
    const store = SnapshotStore.open(tempDir(), limits);
    const frame = letterboxed([20, 40, 200]);
    const a: ActorSpec = { label: 'person', actor: stand(450, 400, 0, 10) };
    const b: ActorSpec = { label: 'person', actor: stand(700, 400, 2, 10) };
    const safety = new CameraSafety({
      camera: 'cam1',
      config: { zones: [{ ...dock, confirmFrames: 1 }], rules: [{ zone: 'dock', type: 'enter' }] },
      realtime: false,
      snapshots: store,
    });
    const first = safety.process({ ...frameEvent([a, b], 0), frame }).events;
    expect(first).toHaveLength(1);
    const flushed = safety.flush();
    // a larger frame: its snapshot takes longer than the first one
    const large = letterboxed([20, 40, 200], 'rgb', 2560);
    const later: SafetyEventMessage[] = [];
    for (let f = 1; f < 6; f++)
      later.push(...safety.process({ ...frameEvent([a, b], f), frame: large }).events);
    expect(later).toHaveLength(1);
    await flushed;
    expect([store.has(first[0]!.eventId), store.has(later[0]!.eventId)]).toEqual([true, true]);
  });

  it('close ends every open event as stopped, at the last frame time by default, once', () => {
    const { safety, events } = run({}, [person, forklift], 90);
    const open = new Set<string>();
    for (const e of events) {
      if (e.phase === 'start') open.add(e.eventId);
      if (e.phase === 'end') open.delete(e.eventId);
    }
    expect(open.size).toBe(1); // the proximity event; the person has left the dock
    const closed = safety.close();
    expect(closed.map((e) => [e.type, e.phase, e.endReason, e.ts, e.end])).toEqual([
      ['person_near_forklift', 'end', 'stopped', at(89), at(89)],
    ]);
    expect(closed[0]!.eventId).toBe([...open][0]);
    expect(safety.close()).toEqual([]);
  });

  it('close ends zone events first, then proximity, at the time given', () => {
    const p: ActorSpec = { label: 'person', actor: stand(600, 500, 0, 10) };
    const f: ActorSpec = { label: 'forklift', actor: stand(600, 580, 0, 10, [200, 150]) };
    const { safety } = run(
      { config: { zones: [dock], rules: [{ zone: 'dock', type: 'enter' }] } },
      [p, f],
      5,
    );
    const closed = safety.close(at(50));
    expect(closed.map((e) => `${e.type}:${e.phase}:${e.endReason}:${e.ts - t0}`)).toEqual([
      'zone_enter:end:stopped:5000',
      'person_near_forklift:end:stopped:5000',
    ]);
  });

  it('parses its config with the camera safety schema: defaults filled, bad config refused', () => {
    const safety = new CameraSafety({ camera: 'cam1', config: {} });
    expect(safety.config.tracking).toMatchObject({ enabled: true, minHits: 2, lostTtlS: 2 });
    expect(safety.config.proximity.margin).toEqual({ ratio: 0.25 });
    expect(safety.config.priority).toBe(1);
    expect(
      () => new CameraSafety({ camera: 'c', config: { rules: [{ zone: 'dock', type: 'nope' } as never] } }),
    ).toThrow(ZodError);
    expect(() => new CameraSafety({ camera: 'c', config: { tracking: { minHits: 0 } } })).toThrow(ZodError);
  });

  it('tracking settings reach the tracker: minHits 3 reports a new track a frame later', () => {
    const late: ActorSpec = { label: 'person', actor: stand(100, 100, 2, 10) };
    const first = (minHits: number) => {
      const safety = new CameraSafety({ camera: 'c', config: { tracking: { minHits } }, realtime: false });
      for (let f = 0; f < 10; f++) {
        const out = safety.process(frameEvent([late], f));
        if (out.detections[0]?.trackId) return f;
      }
      return -1;
    };
    expect([first(2), first(3)]).toEqual([3, 4]);
  });

  it('with tracking off: no track ids, no events', () => {
    const { events, safety } = run(
      { config: { ...config, tracking: { enabled: false } } },
      [person, forklift],
      100,
    );
    expect(events).toEqual([]);
    const out = safety.process(frameEvent([person, forklift], 50));
    expect(out.detections.every((d) => d.trackId === undefined)).toBe(true);
    expect(out.tracked.tracks).toEqual([]);
  });

  it('scene time follows the file for a non-realtime source, the wall clock for a realtime one', () => {
    // a file read 10× faster than real time: 100 ms of video every 10 ms of wall clock
    const fast = (f: number) => ({ ...frameEvent([person, forklift], f), ts: t0 + f * 10 });
    const times = (realtime?: boolean) => {
      const safety = new CameraSafety({
        camera: 'c',
        config,
        ...(realtime === undefined ? {} : { realtime }),
      });
      const out: number[] = [];
      for (let f = 0; f <= 300; f += 100) {
        for (let g = f; g < f + 100; g++) safety.process(fast(g));
        out.push(safety.process(fast(f + 100)).tracked.time - t0);
      }
      return out;
    };
    expect(times(false)).toEqual([10_000, 20_000, 30_000, 40_000]);
    // held within 2 s of the wall clock
    for (const [k, t] of times(true).entries())
      expect(Math.abs(t - (k + 1) * 1000)).toBeLessThanOrEqual(2000);
    // realtime unless told otherwise
    expect(times()).toEqual(times(true));
  });
});
