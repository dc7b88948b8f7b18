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
