import type { ModelFamily } from '../../../config/schema.js';
import type { OnnxInfo } from '../../onnx/onnx-info.js';
import type { Decoder } from './decoder.js';
import { end2endDecoder } from './end2end.js';
import { yolov5Decoder } from './yolov5.js';
import { fmt, yolov8Decoder } from './yolov8.js';
import { yoloxDecoder } from './yolox.js';

/** Explicit registry of detector families (no discovery). The layouts are mutually exclusive. */
export const decoders: Record<ModelFamily, Decoder> = {
  yolov8: yolov8Decoder,
  yolov5: yolov5Decoder,
  end2end: end2endDecoder,
  yolox: yoloxDecoder,
};

/**
 * Picks the family whose layout the model's outputs match (Ultralytics metadata first), or refuses with
 * what was found. Segmentation and pose models are refused even though their first output looks similar.
 */
export function detectFamily(
  info: OnnxInfo,
  input: { width: number; height: number },
  wanted?: ModelFamily,
): Decoder {
  const task = info.metadata.task;
  if (task && task !== 'detect')
    throw new Error(`this is a "${task}" model, not a detector (Ultralytics task metadata)`);
  if (info.outputs.length !== 1) {
    throw new Error(
      `expected one output, found ${info.outputs.length} (${info.outputs.map((o) => `${o.name} ${fmt(o.dims)}`).join(', ')}): segmentation, pose or multi-head models are not detectors`,
    );
  }
  const dims = info.outputs[0]!.dims;
  if (wanted) {
    const why = decoders[wanted].refuse(dims, input);
    if (why) throw new Error(`output ${info.outputs[0]!.name} does not fit family ${wanted}: ${why}`);
    return decoders[wanted];
  }
  // Fixed layouts refuse each other. With a symbolic N (dynamic export) YOLOX and YOLOv5 rows look alike:
  // Ultralytics metadata (YOLOv5 exports carry names, YOLOX files none) decides.
  const order: ModelFamily[] = info.metadata.names
    ? ['yolov8', 'yolov5', 'end2end', 'yolox']
    : ['yolox', 'yolov8', 'yolov5', 'end2end'];
  const reasons: string[] = [];
  for (const family of order) {
    const why = decoders[family].refuse(dims, input);
    if (!why) return decoders[family];
    reasons.push(`${family}: ${why}`);
  }
  throw new Error(
    `output ${info.outputs[0]!.name} ${fmt(dims)} matches no known detector family (${reasons.join('; ')})`,
  );
}
