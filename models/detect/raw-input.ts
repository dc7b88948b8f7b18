import sharp from 'sharp';
import { computeLetterbox } from '../letterbox.js';
import type { InputFrame, InputSpec } from '../types.js';

/** A decoded frame at source resolution: packed 3-channel bytes. */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Channel order of `data` (camera frames come in the model family's order); RGB when absent. */
  pixelOrder?: 'rgb' | 'bgr';
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * One region of a source frame -> the detector's input frame, letterboxed as the family trained (bilinear,
 * like image-input.ts), in the family's channel order. Boxes come back in the region's pixels.
 */
export async function regionToInputFrame(src: RawFrame, rect: Rect, spec: InputSpec): Promise<InputFrame> {
  const lb = computeLetterbox(rect.width, rect.height, spec);
  const pad = { r: spec.padValue, g: spec.padValue, b: spec.padValue };
  const raw = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extract({ left: rect.x, top: rect.y, width: rect.width, height: rect.height })
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
  const data = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  if (spec.pixelOrder !== (src.pixelOrder ?? 'rgb')) {
    for (let i = 0; i < data.length; i += 3) {
      const r = data[i]!;
      data[i] = data[i + 2]!;
      data[i + 2] = r;
    }
  }
  return { data, letterbox: lb };
}

/** The bytes given as an image are not one the decoder can read (the caller says which file or upload). */
export class UnreadableImage extends Error {}

/** Decodes an image file (EXIF-upright) to a RawFrame. */
export async function decodeImage(image: string | Buffer): Promise<RawFrame> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await sharp(image)
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new UnreadableImage(`not a readable image: ${(err as Error).message}`);
  }
  return { data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length), ...out.info };
}
