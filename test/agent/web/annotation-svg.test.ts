import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { annotationLayout, annotationSvg, labelColour } from '../../../agent/web/annotation-svg.js';
import type { Detection } from '../../../models/types.js';

const det = (label: string, score: number, x1: number, y1: number, x2: number, y2: number): Detection => ({
  label,
  classId: 0,
  score,
  box: { x1, y1, x2, y2 },
});

describe('annotationLayout: where boxes and tags go', () => {
  it('sizes the stroke and font with the picture, and writes "label NN%"', () => {
    const [a] = annotationLayout(640, 480, [det('person', 0.873, 100, 200, 300, 400)], 1);
    expect(a).toMatchObject({ stroke: 2, font: 17, tagH: 23, text: 'person 87%', score: 0.873 });
    expect(a!.tagW).toBe(Math.round('person 87%'.length * 17 * 0.62 + 17 * 0.6));
    expect(a!.colour).toBe(labelColour('person'));
    const [big] = annotationLayout(1920, 1080, [det('person', 0.5, 100, 200, 300, 400)], 1);
    expect(big).toMatchObject({ stroke: 6, font: 51, tagH: 69 });
    const [small] = annotationLayout(160, 120, [det('car', 0.5, 10, 50, 30, 70)], 1);
    expect(small).toMatchObject({ stroke: 2, font: 12, tagH: 16 });
  });

  it('puts the tag above the box, left-aligned with it', () => {
    const [a] = annotationLayout(640, 480, [det('person', 0.9, 100, 200, 300, 400)], 1);
    expect(a).toMatchObject({ x1: 100, y1: 200, x2: 300, y2: 400, tagX: 100, tagY: 200 - 23 });
    // Exactly room for the tag above: still above.
    const [edge] = annotationLayout(640, 480, [det('person', 0.9, 100, 23, 300, 400)], 1);
    expect(edge!.tagY).toBe(0);
  });

  it('puts the tag inside the box when the box touches the top edge', () => {
    for (const y1 of [0, 5, 22]) {
      const [a] = annotationLayout(640, 480, [det('person', 0.9, 100, y1, 300, 400)], 1);
      expect(a!.tagY, `y1 ${y1}`).toBe(y1);
    }
  });

  it('keeps the tag and the box inside the picture', () => {
    const [right] = annotationLayout(640, 480, [det('forklift', 0.9, 600, 200, 640, 300)], 1);
    expect(right!.tagX).toBe(640 - right!.tagW);
    expect(right!.tagX + right!.tagW).toBe(640);
    const [out] = annotationLayout(640, 480, [det('person', 0.9, -50, -20, 700, 500)], 1);
    expect(out).toMatchObject({ x1: 0, y1: 0, x2: 640, y2: 480, tagX: 0, tagY: 0 });
    // A tag wider than the picture starts at its left edge.
    const [wide] = annotationLayout(40, 40, [det('a-very-long-label-indeed', 0.9, 10, 20, 30, 30)], 1);
    expect(wide!.tagX).toBe(0);
  });

  it('maps source pixels through scale, and skips boxes under a pixel once clamped', () => {
    const [a] = annotationLayout(320, 240, [det('person', 0.9, 200, 200, 400, 400)], 0.5);
    expect(a).toMatchObject({ x1: 100, y1: 100, x2: 200, y2: 200 });
    const out = annotationLayout(
      320,
      240,
      [
        det('gone', 0.9, 700, 10, 800, 50), // right of the picture
        det('thin', 0.9, 10, 10, 10.5, 50),
        det('flat', 0.9, 10, 10, 50, 10.5),
        det('kept', 0.9, 10, 10, 11, 11),
      ],
      1,
    );
    expect(out.map((o) => o.text)).toEqual(['kept 90%']);
  });
});

describe('annotationSvg: the picture-sized SVG for the detect API', () => {
  it('draws a box, a tag and its text per detection, at the layout, rounded to 0.1 px', async () => {
    const dets = [det('person', 0.87, 10.04, 100.26, 200, 300), det('car', 0.5, 300, 0, 400, 100)];
    const svg = annotationSvg(640, 480, dets, 1);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">')).toBe(true);
    expect(svg.match(/<rect /g)).toHaveLength(4);
    expect(svg.match(/<text /g)).toHaveLength(2);
    expect(svg).toContain(
      `<rect x="10" y="100.3" width="190" height="199.7" fill="none" stroke="${labelColour('person')}" stroke-width="2"/>`,
    );
    const [p, c] = annotationLayout(640, 480, dets, 1);
    expect(svg).toContain(`<rect x="10" y="${Math.round(p!.tagY * 10) / 10}" width="${p!.tagW}" height="23"`);
    // The car touches the top edge: its tag is inside the box.
    expect(c!.tagY).toBe(0);
    expect(svg).toContain(
      `<rect x="300" y="0" width="${c!.tagW}" height="23" fill="${labelColour('car')}"/>`,
    );
    expect(svg).toContain('>person 87%</text>');
    expect(svg).toContain('>car 50%</text>');
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBe(640);
  });

  it('escapes labels for XML, so any label renders', async () => {
    const svg = annotationSvg(320, 240, [det(`<b>&"x'</b>`, 0.5, 50, 50, 150, 150)], 1);
    expect(svg).toContain('>&lt;b&gt;&amp;&quot;x&apos;&lt;/b&gt; 50%</text>');
    expect(svg).not.toContain('<b>');
    // librsvg refuses malformed XML: the escaped SVG renders.
    const { info } = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([320, 240]);
  });

  it('no detections: an empty picture-sized SVG', () => {
    expect(annotationSvg(64, 48, [], 1)).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"></svg>',
    );
  });
});

describe('labelColour', () => {
  it('is stable per label and from the palette', () => {
    expect(labelColour('person')).toBe(labelColour('person'));
    expect(labelColour('person')).toMatch(/^#[0-9a-f]{6}$/);
    const colours = new Set(['person', 'car', 'truck', 'bus', 'forklift', 'dog', 'cat'].map(labelColour));
    expect(colours.size).toBeGreaterThan(2);
  });
});
