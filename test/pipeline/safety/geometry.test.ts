import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  distanceToBox,
  footPoint,
  growBox,
  insideBox,
  marginPx,
  pointInPolygon,
} from '../../../pipeline/safety/geometry.js';

// An L-shaped (concave) zone: the square 0..100 without its top-right quarter.
const ell: [number, number][] = [
  [0, 0],
  [50, 0],
  [50, 50],
  [100, 50],
  [100, 100],
  [0, 100],
];

describe('zone geometry', () => {
  it('point in a concave polygon', () => {
    expect(pointInPolygon([25, 25], ell)).toBe(true);
    expect(pointInPolygon([75, 25], ell)).toBe(false); // the cut-out corner
    expect(pointInPolygon([75, 75], ell)).toBe(true);
    expect(pointInPolygon([150, 75], ell)).toBe(false);
    expect(pointInPolygon([-1, 50], ell)).toBe(false);
  });

  it('agrees with the box test on rectangles, in any vertex order (property)', () => {
    const coord = fc.integer({ min: 0, max: 1000 });
    fc.assert(
      fc.property(coord, coord, coord, coord, coord, coord, fc.boolean(), (a, b, c, d, px, py, reverse) => {
        const [x1, x2] = a < b ? [a, b] : [b, a];
        const [y1, y2] = c < d ? [c, d] : [d, c];
        fc.pre(x1 < x2 && y1 < y2 && px !== x1 && px !== x2 && py !== y1 && py !== y2);
        const poly: [number, number][] = [
          [x1, y1],
          [x2, y1],
          [x2, y2],
          [x1, y2],
        ];
        if (reverse) poly.reverse();
        const p: [number, number] = [px, py];
        expect(pointInPolygon(p, poly)).toBe(insideBox(p, { x1, y1, x2, y2 }));
      }),
    );
  });

  it('foot point, grown boxes and distances', () => {
    const box = { x1: 100, y1: 200, x2: 300, y2: 300 };
    expect(footPoint(box)).toEqual([200, 300]);
    expect(growBox(box, { ratio: 0.5 })).toEqual({ x1: 0, y1: 150, x2: 400, y2: 350 });
    expect(growBox(box, { px: 20 })).toEqual({ x1: 80, y1: 180, x2: 320, y2: 320 });
    expect(marginPx(box, { ratio: 0.25 })).toBe(50);
    expect(distanceToBox([200, 250], box)).toBe(0);
    expect(distanceToBox([330, 340], box)).toBe(50); // 30 right, 40 below
    expect(distanceToBox([200, 180], box)).toBe(20);
  });
});
