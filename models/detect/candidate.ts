/** A decoded box before NMS, in model-input pixels. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

/** Thresholds the decoders apply before NMS (per-class minimums over the global one). */
export interface Thresholds {
  confidence: number;
  /** Indexed by class id; missing -> `confidence`. */
  perClass?: (number | undefined)[];
  iou: number;
  maxDetections: number;
}

/** The smallest threshold any class uses: decoders drop everything below it before looking closer. */
export function floorOf(t: Thresholds): number {
  let min = t.confidence;
  for (const v of t.perClass ?? []) if (v !== undefined && v < min) min = v;
  return min;
}

/**
 * Score of one `cx, cy, w, h, obj, cls…` row (YOLOv5 and YOLOX heads): objectness × the best class score,
 * or null when it is below `floor`. Written into `into` to spare an allocation per row.
 */
export function objectnessScore(
  out: Float32Array,
  row: number,
  classes: number,
  floor: number,
  into: { score: number; classId: number },
): boolean {
  const obj = out[row + 4]!;
  if (obj < floor) return false; // score = obj·cls <= obj
  let best = 0;
  let bestClass = 0;
  for (let c = 0; c < classes; c++) {
    const v = out[row + 5 + c]!;
    if (v > best) {
      best = v;
      bestClass = c;
    }
  }
  into.score = obj * best;
  into.classId = bestClass;
  return into.score >= floor;
}

/** A candidate from a centre, a size and a score. */
export function centreBox(
  cx: number,
  cy: number,
  w: number,
  h: number,
  score: number,
  classId: number,
): Candidate {
  return { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId };
}
