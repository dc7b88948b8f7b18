import sharp from 'sharp';
import type { Detection } from '../../models/types.js';
import { annotationLayout } from './annotation-svg.js';

/** A piece of tag text as an alpha mask (white on transparent), with how far its ink reaches. */
export interface Mask {
  alpha: Uint8Array;
  width: number;
  height: number;
  /** Columns up to the last one with ink. */
  ink: number;
}

/** Distinct label names kept per font size, a few hundred bytes each. */
const maxMasks = 1024;
/** Score sheets ("0%"…"100%") kept, one per font size in use (~200 KB each at a 960 px picture). */
const maxSheets = 8;
const scoreText = /^(\d{1,3})%$/;
const textColour: [number, number, number] = [0x0b, 0x0f, 0x14];

const rgbOf = (hex: string): [number, number, number] => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
];

const escapeXml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/**
 * Draws boxes and "label 87%" tags into a packed RGB picture in place, with the look of annotation-svg.ts at
 * a fraction of the cost: compositing a picture-sized SVG in libvips cost ~6 ms per snapshot here. Boxes and
 * tag backgrounds are plain pixel writes; the text is two pieces, the label and the score, each rasterised
 * by sharp (librsvg, DejaVu Sans) once as an alpha mask and then only blended. The 101 scores of a font size
 * are rasterised together, as one sheet, the first time one is needed: one at a time, a page open on a busy
 * camera met a new score in most snapshots for minutes. After the first snapshots, none rasterises anything.
 */
export class FrameAnnotator {
  private readonly masks = new Map<string, Promise<Mask>>();
  private readonly sheets = new Map<string, Promise<Mask[]>>();
  /** Rasterisations so far: one per label name and font size, one per score sheet. */
  rasterised = 0;

  async draw(
    rgb: Buffer,
    width: number,
    height: number,
    detections: readonly Detection[],
    scale: number,
  ): Promise<void> {
    const layout = annotationLayout(width, height, detections, scale);
    const pieces = await Promise.all(
      layout.map((a) => {
        const cut = a.text.lastIndexOf(' ');
        return Promise.all([
          this.mask(a.text.slice(0, cut), a.font, a.tagH),
          this.mask(a.text.slice(cut + 1), a.font, a.tagH),
        ]);
      }),
    );
    const fillFor = (colour: string) => {
      const [r, g, b] = rgbOf(colour);
      return (x0: number, y0: number, x1: number, y1: number) =>
        fillRect(rgb, width, height, x0, y0, x1, y1, r, g, b);
    };
    // Boxes first, then every tag over them: no box line cuts through a label.
    for (const a of layout) {
      const fill = fillFor(a.colour);
      // Stroke centred on the box edge, as SVG draws it.
      const half = a.stroke / 2;
      fill(a.x1 - half, a.y1 - half, a.x2 + half, a.y1 + half);
      fill(a.x1 - half, a.y2 - half, a.x2 + half, a.y2 + half);
      fill(a.x1 - half, a.y1 - half, a.x1 + half, a.y2 + half);
      fill(a.x2 - half, a.y1 - half, a.x2 + half, a.y2 + half);
    }
    // The most confident detections choose first: above the box, else inside its top, else below it,
    // whichever does not cover a tag already placed (in a crowd, tags would otherwise hide each other).
    const placed: { x: number; y: number; w: number; h: number }[] = [];
    const order = layout.map((_, i) => i).sort((p, q) => layout[q]!.score - layout[p]!.score);
    const tags = order.map((i) => {
      const a = layout[i]!;
      // The tag fits its measured text: padding, label, a space, score, padding.
      const [label, score] = pieces[i]!;
      const pad = Math.round(a.font * 0.3);
      const gap = Math.round(a.font * 0.32);
      const w = pad + label.ink + gap + score.ink + pad;
      const x = Math.round(Math.min(a.x1, Math.max(0, width - w)));
      const candidates = [a.tagY, a.y1, a.y2].map(Math.round).filter((y) => y >= 0 && y + a.tagH <= height);
      const free = (y: number) =>
        placed.every((t) => x >= t.x + t.w || t.x >= x + w || y >= t.y + t.h || t.y >= y + a.tagH);
      const y = candidates.find(free) ?? Math.round(a.tagY);
      const rect = { x, y, w, h: a.tagH };
      placed.push(rect);
      return { a, rect, label, score, pad, gap };
    });
    // Drawn least confident first, so where tags still overlap the most confident one stays readable.
    for (const { a, rect, label, score, pad, gap } of tags.reverse()) {
      fillFor(a.colour)(rect.x, rect.y, rect.x + rect.w, rect.y + rect.h);
      blendMask(rgb, width, height, label, rect.x + pad, rect.y);
      blendMask(rgb, width, height, score, rect.x + pad + label.ink + gap, rect.y);
    }
  }

  private mask(text: string, font: number, height: number): Promise<Mask> {
    const score = scoreText.exec(text);
    if (score && Number(score[1]) <= 100)
      return this.scoreSheet(font, height).then((s) => s[Number(score[1])]!);
    const key = `${font}|${height}|${text}`;
    let m = this.masks.get(key);
    if (m) {
      // Most recently used last: the Map's first entry is the one to evict.
      this.masks.delete(key);
      this.masks.set(key, m);
      return m;
    }
    this.rasterised++;
    m = rasterise([text], font, height).then(([mask]) => mask!);
    m.catch(() => this.masks.delete(key));
    if (this.masks.size >= maxMasks) this.masks.delete(this.masks.keys().next().value!);
    this.masks.set(key, m);
    return m;
  }

  /** "0%"…"100%" at this size, index = score. */
  private scoreSheet(font: number, height: number): Promise<Mask[]> {
    const key = `${font}|${height}`;
    let sheet = this.sheets.get(key);
    if (sheet) return sheet;
    this.rasterised++;
    sheet = rasterise(
      Array.from({ length: 101 }, (_, i) => `${i}%`),
      font,
      height,
    );
    sheet.catch(() => this.sheets.delete(key));
    if (this.sheets.size >= maxSheets) this.sheets.delete(this.sheets.keys().next().value!);
    this.sheets.set(key, sheet);
    return sheet;
  }
}

/**
 * Text pieces as alpha masks, in one rasterisation: stacked one per `height` rows, each at the same offset
 * within its band, so each comes out as it would alone. Every mask is as wide as the longest text needs.
 */
export async function rasterise(texts: readonly string[], font: number, height: number): Promise<Mask[]> {
  const longest = Math.max(...texts.map((t) => t.length));
  const width = Math.ceil(longest * font * 0.8 + font);
  const baseline = Math.round((height - font * 0.35) * 10) / 10;
  const lines = texts.map(
    (t, i) =>
      `<text x="0" y="${Math.round((i * height + baseline) * 10) / 10}" font-family="DejaVu Sans, sans-serif" font-size="${font}" ` +
      `fill="#fff">${escapeXml(t)}</text>`,
  );
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height * texts.length}">` +
    `${lines.join('')}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg))
    .ensureAlpha()
    .extractChannel(3)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return texts.map((_, i) => {
    const alpha = new Uint8Array(data.subarray(i * height * info.width, (i + 1) * height * info.width));
    let ink = 0;
    for (let y = 0; y < height; y++)
      for (let x = ink; x < info.width; x++) if (alpha[y * info.width + x]! > 0) ink = x + 1;
    return { alpha, width: info.width, height, ink };
  });
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

/** Blends the text colour onto the RGB picture through a mask at (left, top), clipped to the picture. */
function blendMask(rgb: Buffer, width: number, height: number, m: Mask, left: number, top: number): void {
  for (let my = 0; my < m.height; my++) {
    const y = top + my;
    if (y < 0 || y >= height) continue;
    for (let mx = 0; mx < m.ink; mx++) {
      const x = left + mx;
      if (x < 0 || x >= width) continue;
      const alpha = m.alpha[my * m.width + mx]!;
      if (alpha === 0) continue;
      const d = (y * width + x) * 3;
      for (let c = 0; c < 3; c++)
        rgb[d + c] = Math.round((textColour[c]! * alpha + rgb[d + c]! * (255 - alpha)) / 255);
    }
  }
}
