import type { ModelFamily } from '../../config/schema.js';
import type { InputSpec } from '../types.js';

/** How each family was trained to see its input (its letterbox, channel order and scale). */
export const familyInput: Record<ModelFamily, Omit<InputSpec, 'width' | 'height'>> = {
  // Ultralytics LetterBox: centred, grey 114, RGB, /255.
  yolov8: { pixelOrder: 'rgb', padPosition: 'center', scale: 1 / 255, padValue: 114 },
  // YOLOv5 and end-to-end exports (YOLOv10, YOLO26) come from Ultralytics too: same LetterBox.
  yolov5: { pixelOrder: 'rgb', padPosition: 'center', scale: 1 / 255, padValue: 114 },
  end2end: { pixelOrder: 'rgb', padPosition: 'center', scale: 1 / 255, padValue: 114 },
  // YOLOX ValTransform: top-left, grey 114, BGR, 0..255 (no normalisation in the current releases).
  yolox: { pixelOrder: 'bgr', padPosition: 'top-left', scale: 1, padValue: 114 },
};
