import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Letterbox } from '../../../models/types.js';
import type { EventBox } from '../../../pipeline/safety/payloads.js';
import { encodeSnapshot, type LetterboxedImage } from '../../../pipeline/safety/snapshot-image.js';

type Rgb = readonly [number, number, number];

/**
 * A src×src letterboxed frame at input size, grey (114) bars, the picture filled by `paint(x, y)` in
 * picture pixels, stored in the given channel order.
 */
function frame(
  letterbox: Letterbox,
  paint: (x: number, y: number) => Rgb,
  pixelOrder: 'rgb' | 'bgr' = 'rgb',
): LetterboxedImage {
  const { inputWidth, inputHeight, padX, padY, scaledWidth, scaledHeight } = letterbox;
  const data = new Uint8Array(inputWidth * inputHeight * 3).fill(114);
  for (let y = 0; y < scaledHeight; y++)
    for (let x = 0; x < scaledWidth; x++) {
      const [r, g, b] = paint(x, y);
      data.set(pixelOrder === 'rgb' ? [r, g, b] : [b, g, r], ((y + padY) * inputWidth + x + padX) * 3);
    }
  return { data, letterbox, pixelOrder };
}

async function decode(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  /** Mean colour over a rectangle (inclusive). */
  const mean = (x1: number, y1: number, x2: number, y2: number): number[] => {
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = y1; y <= y2; y++)
      for (let x = x1; x <= x2; x++) {
        for (let c = 0; c < 3; c++) sum[c]! += data[(y * info.width + x) * info.channels + c]!;
        n++;
      }
    return sum.map((s) => s / n);
  };
  /** Largest value of each channel over a rectangle. */
  const max = (x1: number, y1: number, x2: number, y2: number): number[] => {
    const m = [0, 0, 0];
    for (let y = y1; y <= y2; y++)
      for (let x = x1; x <= x2; x++)
        for (let c = 0; c < 3; c++) m[c] = Math.max(m[c]!, data[(y * info.width + x) * info.channels + c]!);
    return m;
  };
  return { info, mean, max };
}

const near = (got: number[], want: Rgb, tol = 12) => {
  for (let c = 0; c < 3; c++)
    expect(Math.abs(got[c]! - want[c]!), `channel ${c}: ${got.join(',')}`).toBeLessThan(tol);
};

// 1280×720 source into a 640×640 input: 640×360 picture, 140 px bars above and below; source → picture ×0.5
const centred = computeLetterbox(1280, 720, { width: 640, height: 640, padPosition: 'center' });
// 720×1280 (portrait) into 640×640, YOLOX style: 360×640 picture at the top left, bar on the right
const topLeft = computeLetterbox(720, 1280, { width: 640, height: 640, padPosition: 'top-left' });

const black: Rgb = [0, 0, 0];
const box = (trackId: number, label: string, x1: number, y1: number, x2: number, y2: number): EventBox => ({
  trackId,
  label,
  box: { x1, y1, x2, y2 },
});

describe('encodeSnapshot', () => {
  it('is a JPEG of the picture part only, at the scaled size, for centred and top-left letterboxes', async () => {
    expect([centred.padX, centred.padY, topLeft.padX, topLeft.padY]).toEqual([0, 140, 0, 0]);
    for (const lb of [centred, topLeft]) {
      // white band along the picture's top and left edges, red along its bottom and right ones, else blue
      const paint = (x: number, y: number): Rgb =>
        y < 8 || x < 8
          ? [255, 255, 255]
          : y >= lb.scaledHeight - 8 || x >= lb.scaledWidth - 8
            ? [255, 0, 0]
            : [0, 0, 255];
      const jpeg = await encodeSnapshot(frame(lb, paint), [], 95);
      const meta = await sharp(jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', lb.scaledWidth, lb.scaledHeight]);
      const { mean } = await decode(jpeg);
      const w = lb.scaledWidth - 1;
      const h = lb.scaledHeight - 1;
      // no grey bar anywhere: the crop starts and ends where the picture does
      near(mean(20, 0, w - 20, 3), [255, 255, 255]);
      near(mean(0, 20, 3, h - 20), [255, 255, 255]);
      near(mean(20, h - 3, w - 20, h), [255, 0, 0], 20);
      near(mean(w - 3, 20, w, h - 20), [255, 0, 0], 20);
      near(mean(20, 20, w - 20, h - 20), [0, 0, 255], 20);
    }
  });

  it('turns BGR frames into the right colours, and leaves RGB ones as they are', async () => {
    const paint = (x: number): Rgb => (x < 320 ? [230, 120, 10] : [10, 200, 90]);
    for (const order of ['rgb', 'bgr'] as const) {
      const { mean } = await decode(await encodeSnapshot(frame(centred, paint, order), [], 95));
      near(mean(10, 10, 300, 350), [230, 120, 10], 8);
      near(mean(340, 10, 630, 350), [10, 200, 90], 8);
    }
  });

  it('draws each box where the source pixels land on the picture, coloured by label', async () => {
    const boxes = [
      box(1, 'person', 300, 200, 900, 600), // picture 150,100 .. 450,300
      box(2, 'forklift', 100, 620, 260, 700), // picture 50,310 .. 130,350
      box(3, 'bus', 1000, 100, 1200, 180), // picture 500,50 .. 600,90
    ];
    const jpeg = await encodeSnapshot(
      frame(centred, () => black),
      boxes,
      95,
    );
    const { mean, max } = await decode(jpeg);
    // the person's four edges, red (#ff3b30)
    const red = (c: number[]) => {
      expect(c[0], c.join(',')).toBeGreaterThan(160);
      expect(Math.max(c[1]!, c[2]!), c.join(',')).toBeLessThan(c[0]! / 1.8);
    };
    red(mean(149, 150, 150, 250));
    red(mean(449, 150, 450, 250));
    red(mean(200, 99, 400, 100));
    red(mean(200, 299, 400, 300));
    // inside and around it, nothing: not drawn at the unscaled source coordinates
    near(max(160, 110, 440, 290), black, 25);
    near(max(600, 200, 639, 359), black, 25);
    // the forklift yellow (#ffcc00), the bus the default green (#34c759)
    const fork = mean(49, 320, 50, 340);
    expect(fork[0]).toBeGreaterThan(180);
    expect(fork[1]).toBeGreaterThan(150);
    expect(fork[2]).toBeLessThan(fork[1]! / 1.4);
    const bus = mean(499, 60, 500, 80);
    expect(bus[1]).toBeGreaterThan(140);
    expect(bus[0]).toBeLessThan(100);
    expect(bus[2]).toBeLessThan(140);
  });

  it('labels a box just above it (inside the picture when the box touches the top)', async () => {
    const jpeg = await encodeSnapshot(
      frame(centred, () => black),
      [box(12, 'person', 400, 300, 800, 600), box(13, 'person', 900, 0, 1100, 300)],
      95,
    );
    const { max } = await decode(jpeg);
    // "person #12" in red above the box's top-left corner (picture 200,150), not inside the box
    expect(max(202, 136, 260, 147)[0]).toBeGreaterThan(150);
    near(max(205, 160, 395, 290), black, 25);
    // the box at the top edge: its label lands in the first rows, inside the box
    // (clear of the box's own edges at y = 0 and x = 450)
    expect(max(455, 3, 520, 10)[0]).toBeGreaterThan(150);
  });

  it('escapes labels: any text is drawn, none breaks the overlay', async () => {
    const jpeg = await encodeSnapshot(
      frame(centred, () => black),
      [box(1, `<b>"pallet" & 'jack'`, 300, 200, 900, 600)],
      95,
    );
    const { mean } = await decode(jpeg);
    // the box is there, in the default green
    expect(mean(149, 150, 150, 250)[1]).toBeGreaterThan(140);
  });

  it('reads a frame that is a view into a larger buffer (byteOffset)', async () => {
    const img = frame(centred, (x) => (x < 320 ? [250, 250, 250] : [0, 0, 0]));
    const pool = new Uint8Array(img.data.length + 4096).fill(77);
    pool.set(img.data, 4096);
    const view = { ...img, data: pool.subarray(4096) };
    const { mean } = await decode(await encodeSnapshot(view, [], 95));
    near(mean(10, 10, 300, 350), [250, 250, 250]);
    near(mean(340, 10, 630, 350), [0, 0, 0]);
  });

  it('JPEG quality: 80 by default, and it changes the size', async () => {
    const noise = frame(centred, (x, y) => {
      const v = (x * 7919 + y * 104729) % 251;
      return [v, (v * 3) % 256, (v * 7) % 256];
    });
    const [dflt, q80, q30, q100] = await Promise.all([
      encodeSnapshot(noise, []),
      encodeSnapshot(noise, [], 80),
      encodeSnapshot(noise, [], 30),
      encodeSnapshot(noise, [], 100),
    ]);
    expect(dflt.equals(q80!)).toBe(true);
    expect(q30!.length).toBeLessThan(q80!.length);
    expect(q80!.length).toBeLessThan(q100!.length);
  });
});
