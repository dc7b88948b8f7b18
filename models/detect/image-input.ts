import sharp from 'sharp';
import { computeLetterbox } from '../letterbox.js';
import type { InputFrame, InputSpec } from '../types.js';

/**
 * One still image -> the detector's input frame, letterboxed as the family trained (bilinear, like the
 * OpenCV INTER_LINEAR resize Ultralytics and YOLOX use), in the family's channel order.
 * Refuses input sharp cannot decode with a clear message.
 */
export async function imageToInputFrame(image: string | Buffer, spec: InputSpec): Promise<InputFrame> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(image).metadata();
  } catch (err) {
    throw new Error(`not a readable image: ${(err as Error).message}`);
  }
  if (!meta.width || !meta.height) throw new Error('not a readable image: no dimensions');
  // EXIF orientation: detections are reported in the image as a viewer shows it.
  const upright = meta.orientation && meta.orientation >= 5;
  const srcWidth = upright ? meta.height : meta.width;
  const srcHeight = upright ? meta.width : meta.height;
  const lb = computeLetterbox(srcWidth, srcHeight, spec);
  const pad = { r: spec.padValue, g: spec.padValue, b: spec.padValue };
  const raw = await sharp(image)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(lb.scaledWidth, lb.scaledHeight, { fit: 'fill', kernel: 'linear' })
    .extend({
      left: lb.padX,
      top: lb.padY,
      right: spec.width - lb.scaledWidth - lb.padX,
      bottom: spec.height - lb.scaledHeight - lb.padY,
      background: pad,
    })
    .raw()
    .toBuffer();
  const data = new Uint8Array(raw.length);
  if (spec.pixelOrder === 'bgr') {
    for (let i = 0; i < raw.length; i += 3) {
      data[i] = raw[i + 2]!;
      data[i + 1] = raw[i + 1]!;
      data[i + 2] = raw[i]!;
    }
  } else data.set(raw);
  return { data, letterbox: lb };
}
