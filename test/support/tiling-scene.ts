import sharp from 'sharp';
import type { Detector } from '../../models/detect/detector.js';
import { imageToInputFrame } from '../../models/detect/image-input.js';
import type { Box } from '../../models/types.js';
import { sharedPath } from './shared.js';

export const sceneSize = { width: 3840, height: 2160 } as const;

/**
 * Where the pictures go in the 3840×2160 scene, against 4×3 tiles with 0.2 overlap (tiles ~1129×830,
 * columns at 0, 904, 1807, 2711; rows at 0, 665, 1330): inside a tile, across seams, inside an overlap.
 */
const pastes = [
  { image: 'bus.jpg', x: 300, y: 250 }, // inside one tile
  { image: 'bus.jpg', x: 1050, y: 900 }, // across the seam between columns 0 and 1
  { image: 'bus.jpg', x: 2780, y: 640 }, // across the seam between rows 0 and 1
  { image: 'bus.jpg', x: 940, y: 1700 }, // inside the overlap of columns 0 and 1
  { image: 'zidane.jpg', x: 2000, y: 1500 },
  { image: 'zidane.jpg', x: 3300, y: 1200 },
  { image: 'zidane.jpg', x: 150, y: 1300 },
];

/**
 * A wide scene of small people: copies of bus.jpg and zidane.jpg shrunk so their people stand about 5 % of
 * the frame high, on a plain background. The truth is the model's own run on each original picture (standing
 * people above 0.5), mapped by the paste's scale and offset. Returns the scene as PNG.
 */
export async function smallPeopleScene(detector: Detector): Promise<{ png: Buffer; truth: Box[] }> {
  const truth: Box[] = [];
  const composites: sharp.OverlayOptions[] = [];
  for (const p of pastes) {
    const file = sharedPath('media', p.image);
    const meta = await sharp(file).metadata();
    // bus.jpg's people fill about half its height, zidane.jpg's all of it
    const scale = ((p.image === 'bus.jpg' ? 0.1 : 0.05) * sceneSize.height) / meta.height!;
    const w = Math.round(meta.width! * scale);
    const h = Math.round(meta.height! * scale);
    composites.push({ input: await sharp(file).resize(w, h).toBuffer(), left: p.x, top: p.y });
    const own = (await detector.detect(await imageToInputFrame(file, detector.info.input))).detections;
    // standing people only (zidane.jpg also yields one wide box over two people)
    for (const d of own) {
      if (d.label !== 'person' || d.score <= 0.5 || d.box.y2 - d.box.y1 <= d.box.x2 - d.box.x1) continue;
      truth.push({
        x1: p.x + d.box.x1 * (w / meta.width!),
        y1: p.y + d.box.y1 * (h / meta.height!),
        x2: p.x + d.box.x2 * (w / meta.width!),
        y2: p.y + d.box.y2 * (h / meta.height!),
      });
    }
  }
  const png = await sharp({
    create: { ...sceneSize, channels: 3, background: { r: 96, g: 104, b: 100 } },
  })
    .composite(composites)
    .png()
    .toBuffer();
  return { png, truth };
}

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  return (w * h) / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - w * h);
}
