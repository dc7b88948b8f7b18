import type { Detection } from '../../models/types.js';

/** Distinct on dark and light scenes; a label keeps its colour everywhere (page chips use the same hash). */
const palette = [
  '#22c55e',
  '#f59e0b',
  '#3b82f6',
  '#ef4444',
  '#a855f7',
  '#06b6d4',
  '#ec4899',
  '#84cc16',
  '#f97316',
  '#14b8a6',
];

export function labelColour(label: string): string {
  let h = 0;
  for (let i = 0; i < label.length; i++) h = (h * 31 + label.charCodeAt(i)) >>> 0;
  return palette[h % palette.length]!;
}

const escapeXml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Where one detection's box and "label 87%" tag go on a picture, in the picture's pixels. */
export interface Annotation {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  colour: string;
  text: string;
  score: number;
  tagX: number;
  tagY: number;
  tagW: number;
  tagH: number;
  font: number;
  stroke: number;
}

/**
 * The layout shared by the SVG (the detect API) and the raster annotator (snapshots). `scale` maps source
 * pixels (where detections live) to the picture's pixels.
 */
export function annotationLayout(
  width: number,
  height: number,
  detections: readonly Detection[],
  scale: number,
): Annotation[] {
  const stroke = Math.max(2, Math.round(width / 320));
  const font = Math.max(12, Math.round(width / 38));
  const tagH = Math.round(font * 1.35);
  const out: Annotation[] = [];
  for (const d of detections) {
    const x1 = Math.max(0, Math.min(width, d.box.x1 * scale));
    const y1 = Math.max(0, Math.min(height, d.box.y1 * scale));
    const x2 = Math.max(0, Math.min(width, d.box.x2 * scale));
    const y2 = Math.max(0, Math.min(height, d.box.y2 * scale));
    if (x2 - x1 < 1 || y2 - y1 < 1) continue;
    const text = `${d.label} ${Math.round(d.score * 100)}%`;
    // DejaVu Sans averages ~0.6 em per character; a slightly wide tag beats clipped text.
    const tagW = Math.round(text.length * font * 0.62 + font * 0.6);
    // The tag sits above the box, or inside it when the box touches the top edge.
    const tagY = y1 - tagH >= 0 ? y1 - tagH : y1;
    const tagX = Math.min(x1, Math.max(0, width - tagW));
    out.push({
      x1,
      y1,
      x2,
      y2,
      colour: labelColour(d.label),
      text,
      score: d.score,
      tagX,
      tagY,
      tagW,
      tagH,
      font,
      stroke,
    });
  }
  return out;
}

/** An SVG the size of the picture with a box and a tag per detection, for sharp to composite. */
export function annotationSvg(
  width: number,
  height: number,
  detections: readonly Detection[],
  scale: number,
): string {
  const parts = annotationLayout(width, height, detections, scale).map(
    (a) =>
      `<rect x="${r1(a.x1)}" y="${r1(a.y1)}" width="${r1(a.x2 - a.x1)}" height="${r1(a.y2 - a.y1)}" fill="none" stroke="${a.colour}" stroke-width="${a.stroke}"/>` +
      `<rect x="${r1(a.tagX)}" y="${r1(a.tagY)}" width="${a.tagW}" height="${a.tagH}" fill="${a.colour}"/>` +
      `<text x="${r1(a.tagX + a.font * 0.3)}" y="${r1(a.tagY + a.tagH - a.font * 0.35)}" font-family="DejaVu Sans, sans-serif" font-size="${a.font}" fill="#0b0f14">${escapeXml(a.text)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}
