import type { Box } from '../../models/types.js';

/** Intersection over union of two boxes; 0 for boxes that do not overlap or have no area. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** A box grown on every side by `ratio` of its width and height (C-BIoU's buffer). */
export function buffered(b: Box, ratio: number): Box {
  if (ratio <= 0) return b;
  const dx = (b.x2 - b.x1) * ratio;
  const dy = (b.y2 - b.y1) * ratio;
  return { x1: b.x1 - dx, y1: b.y1 - dy, x2: b.x2 + dx, y2: b.y2 + dy };
}
