import type { Candidate, Thresholds } from './candidate.js';

function iou(a: Candidate, b: Candidate): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  if (w <= 0) return 0;
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Class-aware greedy NMS: per-class thresholds first, then, highest score first, keep a box unless a kept
 * box of the same class overlaps it by more than `iou`. Capped at `maxDetections`.
 */
export function nms(candidates: Candidate[], t: Thresholds): Candidate[] {
  const passing = candidates.filter((c) => c.score >= (t.perClass?.[c.classId] ?? t.confidence));
  passing.sort((a, b) => b.score - a.score);
  const keptByClass = new Map<number, Candidate[]>();
  const kept: Candidate[] = [];
  for (const c of passing) {
    const same = keptByClass.get(c.classId);
    if (same?.some((k) => iou(k, c) > t.iou)) continue;
    if (same) same.push(c);
    else keptByClass.set(c.classId, [c]);
    kept.push(c);
    if (kept.length >= t.maxDetections) break;
  }
  return kept;
}

export { iou as boxIou };

/**
 * What a decoder's candidates become: NMS, or for graphs that select boxes themselves (end-to-end exports)
 * only the per-class thresholds and the cap, so their own choice of overlapping boxes stands.
 */
export function selectCandidates(candidates: Candidate[], t: Thresholds, nmsInside = false): Candidate[] {
  if (!nmsInside) return nms(candidates, t);
  const passing = candidates.filter((c) => c.score >= (t.perClass?.[c.classId] ?? t.confidence));
  passing.sort((a, b) => b.score - a.score);
  return passing.slice(0, t.maxDetections);
}
