import type { Box, Detection } from '../../../models/types.js';

/**
 * Constructed scenes: objects moving along known paths, one detection list per frame. An object is a
 * function of the frame number returning its box, or null where it is not detected.
 */
export type Actor = (frame: number) => { box: Box; score?: number } | null;

export interface ActorSpec {
  label: string;
  classId?: number;
  actor: Actor;
}

/** A box of size w×h whose foot point (bottom centre) is at (x, y). */
export function boxAtFoot(x: number, y: number, w: number, h: number): Box {
  return { x1: x - w / 2, y1: y - h, x2: x + w / 2, y2: y };
}

/** Foot point moving in a straight line from `from` (at frame `start`) to `to` (at frame `end`), then gone. */
export function walk(
  from: [number, number],
  to: [number, number],
  start: number,
  end: number,
  size: [number, number] = [40, 100],
  score = 0.9,
): Actor {
  return (f) => {
    if (f < start || f > end) return null;
    const k = end === start ? 0 : (f - start) / (end - start);
    return {
      box: boxAtFoot(from[0] + (to[0] - from[0]) * k, from[1] + (to[1] - from[1]) * k, size[0], size[1]),
      score,
    };
  };
}

/** Standing still with the foot point at (x, y) from frame `start` to `end`. */
export function stand(
  x: number,
  y: number,
  start: number,
  end: number,
  size: [number, number] = [40, 100],
): Actor {
  return walk([x, y], [x, y], start, end, size);
}

/** The actor, not detected on the given frames (an occluder). */
export function hidden(actor: Actor, from: number, to: number): Actor {
  return (f) => (f >= from && f <= to ? null : actor(f));
}

/** The actor, detected with a different score on the given frames (partly occluded). */
export function withScore(actor: Actor, from: number, to: number, score: number): Actor {
  return (f) => {
    const a = actor(f);
    return a && f >= from && f <= to ? { ...a, score } : a;
  };
}

/** Detections of frame f. */
export function detectionsAt(actors: readonly ActorSpec[], f: number): Detection[] {
  const out: Detection[] = [];
  for (const a of actors) {
    const seen = a.actor(f);
    if (seen) out.push({ label: a.label, classId: a.classId ?? 0, score: seen.score ?? 0.9, box: seen.box });
  }
  return out;
}

/** A detection-event-shaped frame at `fps`, starting at epoch ms t0. */
export function frameEvent(actors: readonly ActorSpec[], f: number, fps = 10, t0 = 1_700_000_000_000) {
  return {
    ts: t0 + (f * 1000) / fps,
    pts: f / fps,
    srcWidth: 1280,
    srcHeight: 720,
    result: { detections: detectionsAt(actors, f) },
  };
}
