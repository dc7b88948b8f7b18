import sharp from 'sharp';
import type { Detection } from '../../models/types.js';
import { annotationLayout, tagSvg } from './annotation-svg.js';

interface Tag {
  rgba: Buffer;
  width: number;
  height: number;
}

/** Distinct tags kept ("person 87%" …): labels × scores seen, a few KiB each. */
const maxTags = 512;

const rgbOf = (hex: string): [number, number, number] => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
];

/**
 * Draws boxes and "label 87%" tags into a packed RGB picture in place: the same look as annotation-svg.ts,
 * at a fraction of the cost. Compositing a picture-sized SVG in libvips cost ~6 ms per snapshot here; boxes
 * are a few thousand pixel writes, and each distinct tag is rasterised by sharp (librsvg, DejaVu Sans) once
 * and then only blended.
 */
export class FrameAnnotator {
  private readonly tags = new Map<string, Promise<Tag>>();
  /** Tags rasterised so far (a cache miss each). */
  rasterised = 0;

  async draw(
    rgb: Buffer,
    width: number,
    height: number,
    detections: readonly Detection[],
    scale: number,
  ): Promise<void> {
    const layout = annotationLayout(width, height, detections, scale);
    const tags = await Promise.all(layout.map((a) => this.tag(a)));
    layout.forEach((a, i) => {
      const [r, g, b] = rgbOf(a.colour);
      // Stroke centred on the box edge, as SVG draws it.
      const half = a.stroke / 2;
      const fill = (x0: number, y0: number, x1: number, y1: number) =>
        fillRect(rgb, width, height, x0, y0, x1, y1, r, g, b);
      fill(a.x1 - half, a.y1 - half, a.x2 + half, a.y1 + half);
      fill(a.x1 - half, a.y2 - half, a.x2 + half, a.y2 + half);
      fill(a.x1 - half, a.y1 - half, a.x1 + half, a.y2 + half);
      fill(a.x2 - half, a.y1 - half, a.x2 + half, a.y2 + half);
      blend(rgb, width, height, tags[i]!, Math.round(a.tagX), Math.round(a.tagY));
    });
  }

  private tag(a: Parameters<typeof tagSvg>[0]): Promise<Tag> {
    const key = `${a.colour}|${a.font}|${a.tagW}|${a.text}`;
    let t = this.tags.get(key);
    if (t) {
      // Most recently used last: the Map's first entry is the one to evict.
      this.tags.delete(key);
      this.tags.set(key, t);
      return t;
    }
    this.rasterised++;
    t = sharp(Buffer.from(tagSvg(a)))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => ({ rgba: data, width: info.width, height: info.height }));
    t.catch(() => this.tags.delete(key));
    if (this.tags.size >= maxTags) this.tags.delete(this.tags.keys().next().value!);
    this.tags.set(key, t);
    return t;
  }
}

function fillRect(
  rgb: Buffer,
  width: number,
  height: number,
  fx0: number,
  fy0: number,
  fx1: number,
  fy1: number,
  r: number,
  g: number,
  b: number,
): void {
  const x0 = Math.max(0, Math.round(fx0));
  const y0 = Math.max(0, Math.round(fy0));
  const x1 = Math.min(width, Math.round(fx1));
  const y1 = Math.min(height, Math.round(fy1));
  for (let y = y0; y < y1; y++) {
    for (let i = (y * width + x0) * 3, end = (y * width + x1) * 3; i < end; i += 3) {
      rgb[i] = r;
      rgb[i + 1] = g;
      rgb[i + 2] = b;
    }
  }
}

/** Alpha-blends an RGBA tag onto the RGB picture at (left, top), clipped to the picture. */
function blend(rgb: Buffer, width: number, height: number, tag: Tag, left: number, top: number): void {
  for (let ty = 0; ty < tag.height; ty++) {
    const y = top + ty;
    if (y < 0 || y >= height) continue;
    for (let tx = 0; tx < tag.width; tx++) {
      const x = left + tx;
      if (x < 0 || x >= width) continue;
      const s = (ty * tag.width + tx) * 4;
      const alpha = tag.rgba[s + 3]!;
      if (alpha === 0) continue;
      const d = (y * width + x) * 3;
      for (let c = 0; c < 3; c++)
        rgb[d + c] = Math.round((tag.rgba[s + c]! * alpha + rgb[d + c]! * (255 - alpha)) / 255);
    }
  }
}
