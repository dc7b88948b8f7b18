import type { TilesConfig } from '../../config/detect-schema.js';
import { detectTiled, type TileDetector } from '../../models/detect/tiling.js';
import type { DetectionResult, DetectorInfo, InputFrame, InputSpec } from '../../models/types.js';
import type { ProbeInfo } from '../source/probe.js';

/** A detector as the camera pipeline uses it, with the frame geometry it wants from ffmpeg. */
export interface PipelineDetector {
  readonly info: DetectorInfo;
  /** Frames at this geometry instead of the model input (tiling wants them at source resolution). */
  readonly frameSpec?: (probe: ProbeInfo) => InputSpec;
  detect(frame: InputFrame, key?: string): Promise<DetectionResult>;
}

/**
 * A camera's detector with tiling: ffmpeg hands over frames at source resolution (in the family's channel
 * order, unscaled), each frame runs as overlapping tiles plus the full frame, merged across seams. Results
 * report the frame's whole cost: inference, pre and post summed over the passes, and the passes themselves.
 * Without `tiles` the detector is returned as it is.
 */
export function withTiling<D extends PipelineDetector & TileDetector>(
  detector: D,
  tiles: TilesConfig | undefined,
): PipelineDetector {
  if (!tiles) return detector;
  const { input } = detector.info;
  return {
    // One tiled frame in flight at a time: its passes already fill every worker (latest-wins drops the rest).
    info: { ...detector.info, workers: 1 },
    frameSpec: (probe) => ({
      width: probe.width,
      height: probe.height,
      pixelOrder: input.pixelOrder,
      padPosition: 'top-left',
      scale: 1,
      padValue: input.padValue,
    }),
    async detect(frame, key) {
      const lb = frame.letterbox;
      const r = await detectTiled(
        detector,
        { data: frame.data, width: lb.inputWidth, height: lb.inputHeight, pixelOrder: input.pixelOrder },
        { grid: tiles.grid, overlap: tiles.overlap, fullFrame: tiles.fullFrame, iou: tiles.iou },
        key,
      );
      // The boxes are in frame pixels; map them to the source if ffmpeg scaled it (it does not by default).
      const sx = lb.srcWidth / lb.scaledWidth;
      const sy = lb.srcHeight / lb.scaledHeight;
      return {
        detections: r.detections.map((d) => ({
          ...d,
          box: {
            x1: (d.box.x1 - lb.padX) * sx,
            y1: (d.box.y1 - lb.padY) * sy,
            x2: (d.box.x2 - lb.padX) * sx,
            y2: (d.box.y2 - lb.padY) * sy,
          },
        })),
        inferenceMs: r.cost.inferenceMs,
        preMs: r.cost.preMs,
        postMs: r.cost.postMs,
        queueMs: r.cost.queueMs,
        tiling: { passes: r.cost.passes, wallMs: r.cost.wallMs },
      };
    },
  };
}
