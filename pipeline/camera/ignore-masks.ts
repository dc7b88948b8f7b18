import type { IgnoreMask } from '../../config/detect-schema.js';
import type { Detection } from '../../models/types.js';
import { pointInPolygon } from '../safety/geometry.js';

/** Drops the detections a camera's ignore masks cover (by box centre or foot point, per mask). */
export function applyIgnoreMasks(
  detections: Detection[],
  masks: readonly IgnoreMask[] | undefined,
): Detection[] {
  if (!masks?.length) return detections;
  return detections.filter(
    (d) =>
      !masks.some((m) => {
        if (m.labels && !m.labels.includes(d.label)) return false;
        const x = (d.box.x1 + d.box.x2) / 2;
        const y = m.point === 'foot' ? d.box.y2 : (d.box.y1 + d.box.y2) / 2;
        return pointInPolygon([x, y], m.polygon);
      }),
  );
}
