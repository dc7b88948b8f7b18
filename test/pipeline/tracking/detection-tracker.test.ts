import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { Detection } from '../../../models/types.js';
import { DetectionTracker, type TrackInput } from '../../../pipeline/tracking/detection-tracker.js';
import { frameEvent, hidden, stand, walk, type ActorSpec } from '../safety/scene.js';

const t0 = 1_700_000_000_000;

/** Frame f of a scene at 10 fps, as the camera pipeline hands it over. */
const input = (actors: ActorSpec[], f: number): TrackInput => frameEvent(actors, f);

describe('DetectionTracker', () => {
  it('gives each detection of a reported track its id, in the frame order, without touching the input', () => {
    const a: ActorSpec = { label: 'person', actor: walk([100, 400], [400, 400], 0, 30) };
    const b: ActorSpec = { label: 'forklift', classId: 1, actor: stand(900, 500, 0, 30, [200, 150]) };
    const c: ActorSpec = { label: 'person', actor: stand(600, 300, 5, 30) }; // appears later
    const tracker = new DetectionTracker({}, { realtime: false });
    const first = input([a, b], 0);
    const frozen = structuredClone(first.result.detections);
    const out = tracker.track(first);
    expect(first.result.detections).toEqual(frozen);
    expect(out.detections).not.toBe(first.result.detections);
    expect(out.detections.map((d) => [d.label, d.trackId])).toEqual([
      ['person', 1],
      ['forklift', 2],
    ]);
    expect(out.detections[0]).toMatchObject({ ...frozen[0], trackId: 1 });
    for (let f = 1; f < 5; f++) tracker.track(input([a, b, c], f));
    // c is new on frame 5: not reported (no id) until its second frame
    const f5 = tracker.track(input([c, a, b], 5));
    expect(f5.detections.map((d) => d.trackId)).toEqual([undefined, 1, 2]);
    expect('trackId' in f5.detections[0]!).toBe(false);
    expect(f5.detections[0]).toEqual(input([c], 5).result.detections[0]);
    const f6 = tracker.track(input([c, a, b], 6));
    expect(f6.detections.map((d) => d.trackId)).toEqual([3, 1, 2]);
    expect(f6.tracks.map((t) => [t.id, t.label, t.status])).toEqual([
      [1, 'person', 'tracked'],
      [2, 'forklift', 'tracked'],
      [3, 'person', 'tracked'],
    ]);
  });

  it('a wall-clock step (NTP) is no elapsed time for a track; scene time takes it once no track is left', () => {
    let mono = 0;
    const tracker = new DetectionTracker({}, { realtime: true, monotonic: () => mono });
    const year = 365 * 86_400_000;
    const person: ActorSpec = { label: 'person', actor: stand(600, 300, 0, 20) };
    const frame = (f: number, step: number) => {
      mono = f * 100;
      const e = input([person], f);
      return tracker.track({ ...e, ts: e.ts + step });
    };
    for (let f = 0; f < 10; f++) frame(f, 0);
    const stepped = frame(10, 56 * year); // NTP, a box booted at 1970
    expect(stepped.time).toBeCloseTo(t0 + 1000, 6);
    expect(stepped.tracks.map((t) => [t.id, t.status])).toEqual([[1, 'tracked']]);
    expect(stepped.ended).toEqual([]);
    // The person leaves (frame 20 on); once the track is forgotten, scene time is the wall clock's again.
    let last = stepped;
    for (let f = 11; f < 60 && last.time < t0 + year; f++) last = frame(f, 56 * year);
    expect(last.time).toBeGreaterThan(t0 + 56 * year);
    expect(last.tracks).toEqual([]);
  });

  it('reports scene time: the first capture time, then the source presentation time', () => {
    const tracker = new DetectionTracker({}, { realtime: false });
    const times = [0, 1, 2, 10].map(
      (f) => tracker.track({ ts: t0 + f * 3, pts: f / 10, result: { detections: [] } }).time,
    );
    expect(times).toEqual([t0, t0 + 100, t0 + 200, t0 + 1000]);
  });

  it('is realtime unless told otherwise: scene time stays near the wall clock', () => {
    // a file read 10× faster than real time
    const run = (opts?: { realtime?: boolean }) => {
      const tracker = new DetectionTracker({}, opts);
      let time = 0;
      for (let f = 0; f <= 100; f++)
        time = tracker.track({ ts: t0 + f * 10, pts: f / 10, result: { detections: [] } }).time;
      return time - t0;
    };
    expect(run({ realtime: false })).toBe(10_000);
    expect(Math.abs(run() - 1000)).toBeLessThanOrEqual(2000);
    expect(run()).toBe(run({ realtime: true }));
  });

  it('scene time drives the tracker in seconds: a lost track ends after lostTtlS and lostMinMisses', () => {
    const gone = (cfg: ConstructorParameters<typeof DetectionTracker>[0], fps: number) => {
      const person: ActorSpec = { label: 'person', actor: stand(300, 400, 0, 9) }; // last seen on frame 9
      const tracker = new DetectionTracker(cfg, { realtime: false });
      for (let f = 0; f < 200; f++) {
        const out = tracker.track(frameEvent([person], f, fps));
        if (out.ended.length) {
          expect(out.ended.map((t) => t.id)).toEqual([1]);
          expect(out.tracks).toEqual([]);
          return f;
        }
        if (f > 9) expect(out.tracks.map((t) => t.status)).toEqual(['lost']);
      }
      return -1;
    };
    // 10 fps: unseen longer than 2 s is frame 30 (2.1 s after frame 9)
    expect(gone({}, 10)).toBe(30);
    expect(gone({ lostTtlS: 1 }, 10)).toBe(20);
    // 1 fps: 2 s pass on frame 12, but it needs 3 misses: frame 12 is the third
    expect(gone({}, 1)).toBe(12);
    expect(gone({ lostMinMisses: 5 }, 1)).toBe(14);
  });

  it('a short occlusion keeps the id', () => {
    const person: ActorSpec = { label: 'person', actor: hidden(walk([100, 400], [700, 400], 0, 60), 20, 29) };
    const tracker = new DetectionTracker({}, { realtime: false });
    const ids = new Set<number>();
    for (let f = 0; f <= 60; f++)
      for (const d of tracker.track(input([person], f)).detections) if (d.trackId) ids.add(d.trackId);
    expect([...ids]).toEqual([1]);
  });

  it('takes its settings through the tracking schema: defaults filled, partial config merged, bad config refused', () => {
    expect(new DetectionTracker().cfg).toEqual({
      enabled: true,
      highScore: 0.5,
      lowScore: 0.1,
      newTrackScore: 0.6,
      matchIou: 0.2,
      lowMatchIou: 0.5,
      minHits: 2,
      lostTtlS: 2,
      lostMinMisses: 3,
    });
    expect(new DetectionTracker({ minHits: 4 }).cfg).toMatchObject({ minHits: 4, lostTtlS: 2 });
    expect(() => new DetectionTracker({ highScore: 2 })).toThrow(ZodError);
    expect(() => new DetectionTracker({ unknown: 1 } as never)).toThrow(ZodError);
    // the settings reach the tracker: a detection below newTrackScore starts no track
    const weak = (score: number): TrackInput => ({
      ts: t0,
      pts: 0,
      result: {
        detections: [{ label: 'person', classId: 0, score, box: { x1: 0, y1: 0, x2: 40, y2: 100 } }],
      },
    });
    expect(new DetectionTracker({}).track(weak(0.55)).detections[0]!.trackId).toBeUndefined();
    expect(new DetectionTracker({ newTrackScore: 0.5 }).track(weak(0.55)).detections[0]!.trackId).toBe(1);
  });

  it('with tracking off: the detections as they came, no ids, no tracks; scene time still advances', () => {
    const person: ActorSpec = { label: 'person', actor: walk([100, 400], [700, 400], 0, 60) };
    const tracker = new DetectionTracker({ enabled: false }, { realtime: false });
    for (let f = 0; f < 10; f++) {
      const event = input([person], f);
      const out = tracker.track(event);
      expect(out.time).toBe(t0 + f * 100);
      expect(out.detections).toEqual(event.result.detections);
      expect(out.detections).not.toBe(event.result.detections);
      expect(out.detections.every((d: Detection & { trackId?: number }) => d.trackId === undefined)).toBe(
        true,
      );
      expect([out.tracks, out.ended]).toEqual([[], []]);
    }
  });
});
