import type { InputFrame, InputSpec } from '../types.js';
import { decodeImage, regionToInputFrame } from './raw-input.js';

/**
 * One still image -> the detector's input frame, letterboxed as the family trained (bilinear, like the
 * OpenCV INTER_LINEAR resize Ultralytics and YOLOX use, from the fully decoded picture as cv2.imread gives
 * it), in the family's channel order. EXIF orientation is applied: detections are reported in the image as
 * a viewer shows it. Refuses input sharp cannot decode with a clear message.
 */
export async function imageToInputFrame(image: string | Buffer, spec: InputSpec): Promise<InputFrame> {
  const src = await decodeImage(image);
  return regionToInputFrame(src, { x: 0, y: 0, width: src.width, height: src.height }, spec);
}
