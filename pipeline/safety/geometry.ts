import type { Margin, Point, Polygon } from '../../config/safety-schema.js';
import type { Box } from '../../models/types.js';

/** Where a standing object touches the floor: the middle of its box's bottom edge. */
export function footPoint(box: Box): Point {
  return [(box.x1 + box.x2) / 2, box.y2];
}

/** Even-odd ray casting. Points exactly on an edge may fall either way. */
export function pointInPolygon([x, y]: Point, polygon: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The box grown on every side: by ratio × its width (left, right) and height (top, bottom), or by pixels. */
export function growBox(box: Box, margin: Margin): Box {
  const dx = 'px' in margin ? margin.px : (box.x2 - box.x1) * margin.ratio;
  const dy = 'px' in margin ? margin.px : (box.y2 - box.y1) * margin.ratio;
  return { x1: box.x1 - dx, y1: box.y1 - dy, x2: box.x2 + dx, y2: box.y2 + dy };
}

/** Euclidean distance from a point to a box; 0 inside it. */
export function distanceToBox([x, y]: Point, box: Box): number {
  const dx = Math.max(box.x1 - x, 0, x - box.x2);
  const dy = Math.max(box.y1 - y, 0, y - box.y2);
  return Math.hypot(dx, dy);
}

export function insideBox([x, y]: Point, box: Box): boolean {
  return x >= box.x1 && x <= box.x2 && y >= box.y1 && y <= box.y2;
}

/** The margin in pixels for one box, as the larger of its horizontal and vertical growth. */
export function marginPx(box: Box, margin: Margin): number {
  if ('px' in margin) return margin.px;
  return Math.max(box.x2 - box.x1, box.y2 - box.y1) * margin.ratio;
}
