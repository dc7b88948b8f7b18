import type { ModelFamily, ProviderName } from '../config/schema.js';

/** Axis-aligned box, pixel coordinates, x1 < x2, y1 < y2. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One detection. `box` is in source pixels once it leaves models/ (model-input pixels inside decoders). */
export interface Detection {
  /** Site label after the model's label map (e.g. `person`, `forklift`). */
  label: string;
  classId: number;
  score: number;
  box: Box;
}

/** Where a source frame sits inside the model input, so boxes map back exactly. */
export interface Letterbox {
  srcWidth: number;
  srcHeight: number;
  inputWidth: number;
  inputHeight: number;
  /** Size of the scaled source inside the input. */
  scaledWidth: number;
  scaledHeight: number;
  /** Offset of the scaled source inside the input (left, top). */
  padX: number;
  padY: number;
}

/** How a family expects its input tensor (set by the family, see models/detect/families.ts). */
export interface InputSpec {
  width: number;
  height: number;
  pixelOrder: 'rgb' | 'bgr';
  /** Ultralytics centres the image; YOLOX pads right and bottom. */
  padPosition: 'center' | 'top-left';
  /** Pixel value scale: Ultralytics divides by 255, YOLOX feeds 0..255. */
  scale: number;
  padValue: number;
}

export interface ProviderRefusal {
  provider: ProviderName;
  reason: string;
}

/** What a loaded detector tells the rest of the agent about itself. */
export interface DetectorInfo {
  modelId: string;
  path: string;
  family: ModelFamily;
  input: InputSpec;
  classNames: string[];
  /** The provider actually running the sessions. */
  provider: ProviderName;
  refused: ProviderRefusal[];
  workers: number;
  intraOpThreads: number;
}

/** A frame as the detector takes it: packed HWC bytes at the model's input size, letterboxed already. */
export interface InputFrame {
  data: Uint8Array;
  letterbox: Letterbox;
}

export interface DetectionResult {
  detections: Detection[];
  /** Time inside session.run. */
  inferenceMs: number;
  /** Tensor preparation and decode + NMS, in the worker. */
  preMs: number;
  postMs: number;
  /** Time waiting for a free worker. */
  queueMs: number;
  /** Tiled frames (models/detect/tiling.ts): the passes this frame took and its wall time; times are sums. */
  tiling?: { passes: number; wallMs: number };
}
