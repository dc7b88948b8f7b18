import { describe, expect, it } from 'vitest';
import { annotationLayout, labelColour } from '../../../agent/web/annotation-svg.js';
import { FrameAnnotator, rasterise, type Mask } from '../../../agent/web/frame-annotator.js';
import type { Detection } from '../../../models/types.js';

const width = 640;
const height = 360;
const grey = () => Buffer.alloc(width * height * 3, 128);
const person = (score: number, x1 = 200): Detection => ({
  label: 'person',
  classId: 0,
  score,
  box: { x1, y1: 150, x2: x1 + 100, y2: 300 },
});
const rgbOf = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

describe('FrameAnnotator: boxes and tags drawn into the picture', () => {
  it('a text on a sheet comes out exactly as it does rasterised alone', async () => {
    const font = 17;
    const tagH = 23;
    const texts = Array.from({ length: 101 }, (_, i) => `${i}%`);
    const sheet = await rasterise(texts, font, tagH);
    for (const k of [0, 7, 42, 87, 100]) {
      const [alone] = await rasterise([texts[k]!], font, tagH);
      const piece = sheet[k]!;
      expect(piece.height).toBe(tagH);
      expect(piece.ink).toBe(alone!.ink);
      expect(piece.ink).toBeGreaterThan(0);
      for (let y = 0; y < tagH; y++) {
        const row = (m: Mask, w: number) => [...m.alpha.subarray(y * m.width, y * m.width + w)];
        expect(row(piece, alone!.width)).toEqual(row(alone!, alone!.width));
        // Nothing of the next or previous line spills into this one's band.
        expect(
          row(piece, piece.width)
            .slice(alone!.width)
            .every((a) => a === 0),
        ).toBe(true);
      }
    }
  });

  it('draws the score from the sheet, where the tag puts it, blended as text on the tag', async () => {
    const annotator = new FrameAnnotator();
    const rgb = grey();
    await annotator.draw(rgb, width, height, [person(0.87)], 1);
    const [a] = annotationLayout(width, height, [person(0.87)], 1);
    const [label] = await rasterise(['person'], a!.font, a!.tagH);
    const [score] = await rasterise(['87%'], a!.font, a!.tagH);
    // The tag sits above the box at its left edge, then padding, the label, a gap and the score.
    const left = Math.round(a!.x1) + Math.round(a!.font * 0.3) + label!.ink + Math.round(a!.font * 0.32);
    const top = Math.round(a!.tagY);
    const bg = rgbOf(a!.colour);
    const text = [0x0b, 0x0f, 0x14];
    let inked = 0;
    for (let y = 0; y < score!.height; y++) {
      for (let x = 0; x < score!.ink; x++) {
        const alpha = score!.alpha[y * score!.width + x]!;
        if (alpha) inked++;
        const want = bg.map((b, c) => Math.round((text[c]! * alpha + b * (255 - alpha)) / 255));
        const at = ((top + y) * width + left + x) * 3;
        expect([...rgb.subarray(at, at + 3)]).toEqual(want);
      }
    }
    expect(inked).toBeGreaterThan(20);
  });

  it('rasterises each label once and all 101 scores of a font size once, however many scores it meets', async () => {
    const annotator = new FrameAnnotator();
    for (let s = 0; s <= 100; s += 3) {
      await annotator.draw(grey(), width, height, [person(s / 100), person(1 - s / 100, 400)], 1);
    }
    // "person" and one sheet of scores.
    expect(annotator.rasterised).toBe(2);
    // Another picture size means another font size: its own label and sheet.
    await annotator.draw(Buffer.alloc(320 * 180 * 3), 320, 180, [person(0.5)], 0.5);
    expect(annotator.rasterised).toBe(4);
  });

  it('draws two scores differently, and each tag in its label’s colour', async () => {
    const draw = async (score: number) => {
      const rgb = grey();
      await new FrameAnnotator().draw(rgb, width, height, [person(score)], 1);
      return rgb;
    };
    const [a, b] = await Promise.all([draw(0.87), draw(0.88)]);
    expect(a.equals(b)).toBe(false);
    const [layout] = annotationLayout(width, height, [person(0.87)], 1);
    const at = (y: number, x: number) => [...a.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
    // The tag's first column is background, in the label's colour.
    expect(at(Math.round(layout!.tagY) + 1, Math.round(layout!.x1) + 1)).toEqual(
      rgbOf(labelColour('person')),
    );
  });
});
