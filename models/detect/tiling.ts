import { performance } from 'node:perf_hooks';
import type { Detection, DetectionResult, InputFrame, InputSpec } from '../types.js';
import { regionToInputFrame, type RawFrame, type Rect } from './raw-input.js';
import { mergeTileDetections, type TileDetection } from './tile-merge.js';

/** Overlapping tiles over a frame, optionally with the whole frame as one more pass. */
export interface TilingOptions {
  /** Tiles across and down. */
  grid: [number, number];
  /** Fraction of a tile shared with its neighbour (0–0.9). */
  overlap: number;
  /** Also run the whole frame (large objects that no tile holds whole). */
  fullFrame: boolean;
  /** IoU above which two boxes of a label are one object; the model's iou is the usual choice. */
  iou: number;
}

/** What one tiled frame cost, so a site can weigh tiling against its frame rate. */
export interface TilingCost {
  /** Inferences this frame took (tiles + the full frame). */
  passes: number;
  wallMs: number;
  /** Sums over the passes. */
  inferenceMs: number;
  /** Crop + letterbox on this thread, plus the workers' tensor preparation. */
  preMs: number;
  /** Decode + NMS in the workers, plus the merge across tiles. */
  postMs: number;
  /** Time the passes waited for a free worker. */
  queueMs: number;
}

export interface TiledResult {
  detections: Detection[];
  tiles: Rect[];
  cost: TilingCost;
}

/** What tiling needs of a detector (models/detect/detector.ts provides it). */
export interface TileDetector {
  readonly info: { input: InputSpec };
  detect(frame: InputFrame, key?: string): Promise<DetectionResult>;
}

/** The tile rectangles: equal sizes, neighbours sharing `overlap` of a tile, the last ones flush with the edge. */
export function tileRects(width: number, height: number, grid: [number, number], overlap: number): Rect[] {
  const [cols, rows] = grid;
  const span = (total: number, n: number) => {
    const size = Math.min(total, Math.ceil(total / (n - (n - 1) * overlap)));
    const step = n > 1 ? (total - size) / (n - 1) : 0;
    return Array.from({ length: n }, (_, i) => ({ at: Math.round(i * step), size }));
  };
  const xs = span(width, cols);
  const ys = span(height, rows);
  return ys.flatMap((y) => xs.map((x) => ({ x: x.at, y: y.at, width: x.size, height: y.size })));
}

/**
 * Detects in a source-resolution frame tile by tile (plus the whole frame when asked), maps every box to
 * source pixels and merges them across tiles, so far, small objects get the model's full input resolution.
 * The passes are queued together: a detector with several workers runs them in parallel.
 */
export async function detectTiled(
  detector: TileDetector,
  src: RawFrame,
  opts: TilingOptions,
  key?: string,
): Promise<TiledResult> {
  const t0 = performance.now();
  const tiles = tileRects(src.width, src.height, opts.grid, opts.overlap);
  const passes = opts.fullFrame ? [...tiles, { x: 0, y: 0, width: src.width, height: src.height }] : tiles;
  const cost: TilingCost = {
    passes: passes.length,
    wallMs: 0,
    inferenceMs: 0,
    preMs: 0,
    postMs: 0,
    queueMs: 0,
  };
  const found: TileDetection[] = [];
  await Promise.all(
    passes.map(async (rect) => {
      const p0 = performance.now();
      const frame = await regionToInputFrame(src, rect, detector.info.input);
      cost.preMs += performance.now() - p0;
      const r = await detector.detect(frame, key);
      cost.inferenceMs += r.inferenceMs;
      cost.preMs += r.preMs;
      cost.postMs += r.postMs;
      cost.queueMs += r.queueMs;
      for (const d of r.detections) {
        const box = {
          x1: d.box.x1 + rect.x,
          y1: d.box.y1 + rect.y,
          x2: d.box.x2 + rect.x,
          y2: d.box.y2 + rect.y,
        };
        found.push({ ...d, box, cut: cutBySeam(box, rect, src) });
      }
    }),
  );
  const m0 = performance.now();
  const detections = mergeTileDetections(found, opts.iou);
  cost.postMs += performance.now() - m0;
  cost.wallMs = performance.now() - t0;
  return { detections, tiles, cost };
}

/** A box touching an edge of its tile that is not an edge of the frame was cut there. */
function cutBySeam(box: Detection['box'], rect: Rect, src: RawFrame, margin = 2): boolean {
  return (
    (rect.x > 0 && box.x1 <= rect.x + margin) ||
    (rect.y > 0 && box.y1 <= rect.y + margin) ||
    (rect.x + rect.width < src.width && box.x2 >= rect.x + rect.width - margin) ||
    (rect.y + rect.height < src.height && box.y2 >= rect.y + rect.height - margin)
  );
}
