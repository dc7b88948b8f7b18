import type { Box } from '../../models/types.js';
import { iou } from '../../pipeline/tracking/iou.js';

/** One tracked detection as a bench run records it. */
export interface TrackPoint {
  frame: number;
  /** Source time, seconds. */
  t: number;
  trackId: number;
  label: string;
  box: Box;
}

export interface TrackSummary {
  id: number;
  label: string;
  points: TrackPoint[];
  first: number;
  last: number;
}

/** Groups points into tracks (per label), in order of first appearance. */
export function tracksOf(points: readonly TrackPoint[], label: string): TrackSummary[] {
  const byId = new Map<number, TrackSummary>();
  for (const p of points) {
    if (p.label !== label) continue;
    let t = byId.get(p.trackId);
    if (!t) byId.set(p.trackId, (t = { id: p.trackId, label, points: [], first: p.t, last: p.t }));
    t.points.push(p);
    t.last = p.t;
  }
  return [...byId.values()];
}

export const median = (xs: number[]) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Id switches estimated without ground truth: a track that stops away from the frame's edge, and a new
 * track of the same label that starts within `gapS` after it close to where it stopped (centre within
 * one box height), is counted as one identity broken in two. It counts fragmentations, not swaps between
 * two tracked people; those need labelled boxes.
 */
export function estimatedIdSwitches(
  tracks: readonly TrackSummary[],
  frame: { width: number; height: number },
  gapS: number,
): number {
  const edge = 0.03;
  const nearEdge = (b: Box) =>
    b.x1 < frame.width * edge ||
    b.x2 > frame.width * (1 - edge) ||
    b.y1 < frame.height * edge ||
    b.y2 > frame.height * (1 - edge);
  const centre = (b: Box) => [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2] as const;
  const used = new Set<number>();
  let switches = 0;
  for (const ended of tracks) {
    const last = ended.points.at(-1)!;
    if (nearEdge(last.box)) continue;
    const [cx, cy] = centre(last.box);
    const h = last.box.y2 - last.box.y1;
    const successor = tracks.find((t) => {
      if (t === ended || used.has(t.id) || t.first <= ended.last || t.first - ended.last > gapS) return false;
      const [nx, ny] = centre(t.points[0]!.box);
      return Math.hypot(nx - cx, ny - cy) < h;
    });
    if (successor) {
      used.add(successor.id);
      switches++;
    }
  }
  return switches;
}

/**
 * How many reference tracks (all frames inferred) the gated run found too: a reference track counts as
 * found when, on at least half of its frames that the gated run also inferred, a gated tracked detection
 * of the same label overlaps it (IoU ≥ 0.5). A track none of whose frames the gated run inferred is missed.
 */
export function tracksFound(
  reference: readonly TrackSummary[],
  gated: readonly TrackPoint[],
  inferred: ReadonlySet<number>,
): { found: number; total: number } {
  const byFrame = new Map<number, TrackPoint[]>();
  for (const p of gated) {
    const list = byFrame.get(p.frame) ?? [];
    list.push(p);
    byFrame.set(p.frame, list);
  }
  let found = 0;
  for (const track of reference) {
    const shared = track.points.filter((p) => inferred.has(p.frame));
    if (!shared.length) continue;
    const hits = shared.filter((p) =>
      (byFrame.get(p.frame) ?? []).some((g) => g.label === p.label && iou(g.box, p.box) >= 0.5),
    );
    if (hits.length * 2 >= shared.length) found++;
  }
  return { found, total: reference.length };
}
