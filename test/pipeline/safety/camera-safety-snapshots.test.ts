import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Letterbox } from '../../../models/types.js';
import { CameraSafety } from '../../../pipeline/safety/camera-safety.js';
import { snapshotPath, type SafetyEventMessage } from '../../../pipeline/safety/event-builder.js';
import { SnapshotStore } from '../../../pipeline/safety/snapshot-store.js';
import { at, config, dock, forklift, person, run, summary } from './dock-scene.js';
import { frameEvent, stand, type ActorSpec } from './scene.js';

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

const taken = (events: SafetyEventMessage[]) =>
  events.filter((e) => e.phase === 'start' || e.phase === 'instant').map((e) => e.eventId);

describe('CameraSafety', () => {
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
});
