import type { Box, Detection } from '../types.js';

/** A detection from one tile, in source pixels; `cut` when it touches a tile edge inside the frame. */
export interface TileDetection extends Detection {
  cut: boolean;
}

const area = (b: Box) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);

function overlap(a: Box, b: Box): { iou: number; ios: number } {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return { iou: 0, ios: 0 };
  const inter = w * h;
  const aa = area(a);
  const ab = area(b);
  return { iou: inter / (aa + ab - inter), ios: inter / Math.max(1e-9, Math.min(aa, ab)) };
}

/**
 * Class-aware NMS across tiles. Whole boxes go first (highest score first), boxes cut by a seam after
 * them, so an object seen whole in one tile keeps its whole box. Two boxes of a label are one object when
 * their IoU exceeds `iou`, or, if either is cut, when the smaller one lies mostly (`ios`) inside the other:
 * the part of an object a seam left in the neighbouring tile.
 */
export function mergeTileDetections(found: TileDetection[], iou: number, ios = 0.6): Detection[] {
  const order = [...found].sort((a, b) => Number(a.cut) - Number(b.cut) || b.score - a.score);
  const kept: TileDetection[] = [];
  for (const d of order) {
    const same = kept.filter((k) => k.label === d.label);
    if (same.some((k) => ((o) => o.iou > iou || ((d.cut || k.cut) && o.ios > ios))(overlap(d.box, k.box))))
      continue;
    kept.push(d);
  }
  return kept
    .sort((a, b) => b.score - a.score)
    .map(({ label, classId, score, box }) => ({ label, classId, score, box }));
}
