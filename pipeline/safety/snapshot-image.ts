import sharp from 'sharp';
import type { Letterbox } from '../../models/types.js';
import type { EventBox } from './payloads.js';

/** A frame as the pipeline holds it: packed 3-channel pixels at model input size, letterboxed. */
export interface LetterboxedImage {
  data: Uint8Array;
  letterbox: Letterbox;
  pixelOrder: 'rgb' | 'bgr';
}

const colours: Record<string, string> = { person: '#ff3b30', forklift: '#ffcc00' };

/**
 * The JPEG of an event: the picture part of the letterboxed frame (padding cut off, at the scaled size the
 * model saw) with the event's boxes drawn on it. Runs on libvips' threads, off the event loop.
 */
export async function encodeSnapshot(
  image: LetterboxedImage,
  boxes: readonly EventBox[],
  quality = 80,
): Promise<Buffer> {
  const lb = image.letterbox;
  const sx = lb.scaledWidth / lb.srcWidth;
  const sy = lb.scaledHeight / lb.srcHeight;
  const rects = boxes
    .map((b) => {
      const x = (b.box.x1 * sx).toFixed(1);
      const y = (b.box.y1 * sy).toFixed(1);
      const w = ((b.box.x2 - b.box.x1) * sx).toFixed(1);
      const h = ((b.box.y2 - b.box.y1) * sy).toFixed(1);
      const c = colours[b.label] ?? '#34c759';
      return (
        `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${c}" stroke-width="2"/>` +
        `<text x="${x}" y="${Math.max(10, Number(y) - 3)}" fill="${c}" font-size="11" font-family="sans-serif">` +
        `${escapeXml(b.label)} #${b.trackId}</text>`
      );
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${lb.scaledWidth}" height="${lb.scaledHeight}">${rects}</svg>`;
  let img = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: lb.inputWidth, height: lb.inputHeight, channels: 3 },
  }).extract({ left: lb.padX, top: lb.padY, width: lb.scaledWidth, height: lb.scaledHeight });
  if (image.pixelOrder === 'bgr') {
    img = img.recomb([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
  }
  // extract + composite in one pipeline would composite before the crop: materialise the crop first.
  const cropped = await img.raw().toBuffer({ resolveWithObject: true });
  return sharp(cropped.data, { raw: cropped.info })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
