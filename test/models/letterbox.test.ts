import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeLetterbox, toInputBox, toSourceBox } from '../../models/letterbox.js';

describe('letterbox', () => {
  it('matches Ultralytics for bus.jpg into 640 (centred) and YOLOX (top-left)', () => {
    expect(computeLetterbox(810, 1080, { width: 640, height: 640, padPosition: 'center' })).toMatchObject({
      scaledWidth: 480,
      scaledHeight: 640,
      padX: 80,
      padY: 0,
    });
    expect(computeLetterbox(768, 576, { width: 416, height: 416, padPosition: 'top-left' })).toMatchObject({
      scaledWidth: 416,
      scaledHeight: 312,
      padX: 0,
      padY: 0,
    });
  });

  it('round-trips any box for any source and input size within half a pixel', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 4096 }),
        fc.integer({ min: 16, max: 4096 }),
        fc.integer({ min: 32, max: 1280 }),
        fc.integer({ min: 32, max: 1280 }),
        fc.constantFrom<'center' | 'top-left'>('center', 'top-left'),
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        (sw, sh, iw, ih, padPosition, [a, b], [c, d]) => {
          const lb = computeLetterbox(sw, sh, { width: iw, height: ih, padPosition });
          const box = {
            x1: Math.min(a, b) * sw,
            x2: Math.max(a, b) * sw,
            y1: Math.min(c, d) * sh,
            y2: Math.max(c, d) * sh,
          };
          const back = toSourceBox(toInputBox(box, lb), lb);
          for (const k of ['x1', 'y1', 'x2', 'y2'] as const)
            expect(Math.abs(back[k] - box[k])).toBeLessThanOrEqual(0.5);
          expect(lb.padX + lb.scaledWidth).toBeLessThanOrEqual(iw);
          expect(lb.padY + lb.scaledHeight).toBeLessThanOrEqual(ih);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
