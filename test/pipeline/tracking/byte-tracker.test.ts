import { describe, expect, it } from 'vitest';
import { ByteTracker, type TrackerUpdate } from '../../../pipeline/tracking/byte-tracker.js';
import { DetectionTracker } from '../../../pipeline/tracking/detection-tracker.js';
import { detectionsAt, frameEvent, hidden, walk, withScore, type ActorSpec } from '../safety/scene.js';

/** Runs a scene through a tracker at 10 fps; returns per frame the id given to each actor (by order). */
function run(actors: ActorSpec[], frames: number, tracker = new ByteTracker()) {
  const ids: (number | undefined)[][] = [];
  const updates: TrackerUpdate[] = [];
  for (let f = 0; f < frames; f++) {
    const present = actors.map((a) => a.actor(f) !== null);
    const u = tracker.update(detectionsAt(actors, f), f / 10);
    updates.push(u);
    // detectionsAt keeps actor order, skipping absent ones: map back to actor indexes.
    let k = 0;
    ids.push(present.map((p) => (p ? u.ids[k++] : undefined)));
  }
  return { ids, updates };
}

const idsOf = (ids: (number | undefined)[][], actor: number) =>
  new Set(ids.map((row) => row[actor]).filter((v): v is number => v !== undefined));

describe('ByteTracker', () => {
  it('keeps one id per person when two walk past each other', () => {
    const actors: ActorSpec[] = [
      { label: 'person', actor: walk([100, 400], [700, 400], 0, 60) },
      { label: 'person', actor: walk([700, 420], [100, 420], 0, 60) },
    ];
    const { ids } = run(actors, 61);
    expect(idsOf(ids, 0).size).toBe(1);
    expect(idsOf(ids, 1).size).toBe(1);
    expect([...idsOf(ids, 0)][0]).not.toBe([...idsOf(ids, 1)][0]);
    // both are reported from the first frame (present at start) to the last
    expect(ids.every((row) => row[0] !== undefined && row[1] !== undefined)).toBe(true);
  });

  it('keeps the id through a gap of missed frames (occluded), following the motion model', () => {
    // 8 frames (0.8 s) unseen while walking 8 px/frame: the box moves 64 px, more than its width.
    const person = hidden(walk([100, 400], [580, 400], 0, 60), 25, 32);
    const { ids, updates } = run([{ label: 'person', actor: person }], 61);
    expect(idsOf(ids, 0).size).toBe(1);
    expect(ids[33]![0]).toBe(ids[24]![0]);
    // while hidden the track is reported as lost, not ended
    expect(updates[28]!.tracks.map((t) => t.status)).toEqual(['lost']);
    expect(updates.flatMap((u) => u.ended)).toEqual([]);
  });

  it('keeps a track on low-score detections (second stage) but starts none from them', () => {
    const person = withScore(walk([100, 400], [500, 400], 0, 40), 10, 20, 0.3);
    const ghost: ActorSpec = { label: 'person', actor: walk([900, 600], [900, 600], 5, 40, [40, 100], 0.3) };
    const { ids } = run([{ label: 'person', actor: person }, ghost], 41);
    expect(idsOf(ids, 0).size).toBe(1);
    expect(ids.slice(10, 21).every((row) => row[0] !== undefined)).toBe(true);
    expect(idsOf(ids, 1).size).toBe(0);
  });

  it('never matches across labels, even on the same box', () => {
    const path = walk([100, 400], [600, 400], 0, 50, [120, 120]);
    const { ids } = run(
      [
        { label: 'forklift', classId: 7, actor: path },
        { label: 'person', actor: path },
      ],
      51,
    );
    expect(idsOf(ids, 0).size).toBe(1);
    expect(idsOf(ids, 1).size).toBe(1);
    expect(idsOf(ids, 0)).not.toEqual(idsOf(ids, 1));
  });

  it('reports a new track after minHits frames, and a one-frame blip never gets an id', () => {
    const tracker = new ByteTracker({ minHits: 2 });
    tracker.update([], 0); // the first frame is empty, so later tracks need confirming
    const late: ActorSpec = { label: 'person', actor: walk([100, 400], [300, 400], 1, 20) };
    const blip: ActorSpec = { label: 'person', actor: walk([900, 300], [900, 300], 3, 3) };
    const ids: (number | undefined)[][] = [];
    for (let f = 1; f <= 20; f++) {
      const present = [late, blip].map((a) => a.actor(f) !== null);
      const u = tracker.update(detectionsAt([late, blip], f), f / 10);
      let k = 0;
      ids.push(present.map((p) => (p ? u.ids[k++] : undefined)));
    }
    expect(ids[0]![0]).toBeUndefined(); // frame 1: tentative
    expect(ids[1]![0]).toBe(1); // frame 2: confirmed, first id
    expect(ids[2]![1]).toBeUndefined(); // the blip
    expect(tracker.views().map((t) => t.id)).toEqual([1]);
  });

  it('forgets a lost track after lostTtlS and lostMinMisses, and a return later is a new id', () => {
    const tracker = new ByteTracker({ lostTtlS: 1, lostMinMisses: 3 });
    const a: ActorSpec = { label: 'person', actor: walk([300, 400], [300, 400], 0, 10) };
    const b: ActorSpec = { label: 'person', actor: walk([300, 400], [300, 400], 30, 40) };
    const ended: number[][] = [];
    const ids = new Set<number>();
    for (let f = 0; f <= 40; f++) {
      const u = tracker.update(detectionsAt([a, b], f), f / 10);
      ended.push(u.ended.map((t) => t.id));
      u.ids.forEach((id) => id !== undefined && ids.add(id));
    }
    const endedAt = ended.findIndex((e) => e.length > 0);
    // last seen at frame 10 (1.0 s): gone once unseen > 1 s, i.e. at frame 21
    expect(endedAt).toBe(21);
    expect(ended[endedAt]).toEqual([1]);
    expect([...ids]).toEqual([1, 2]);
  });

  it('at a slow heartbeat, one missed heartbeat does not end a standing person (lostMinMisses)', () => {
    // Frames arrive as a motion gate's 1 fps heartbeat delivers them (f % 10 = 0 or 1); the person is
    // missed on the heartbeat at 3 s: unseen 1.9 s, beyond lostTtlS, but only 2 updates missed.
    const tracker = new DetectionTracker({ lostTtlS: 1, lostMinMisses: 3 });
    const standing = walk([400, 500], [400, 500], 0, 1e6);
    const person: ActorSpec = { label: 'person', actor: (f) => (f === 30 || f === 31 ? null : standing(f)) };
    const ids = new Set<number>();
    const ended: number[] = [];
    for (let f = 0; f < 100; f++) {
      if (f % 10 > 1) continue;
      const out = tracker.track(frameEvent([person], f));
      out.detections.forEach((d) => d.trackId !== undefined && ids.add(d.trackId));
      ended.push(...out.ended.map((t) => t.id));
    }
    expect([...ids]).toEqual([1]);
    expect(ended).toEqual([]);
  });
});
