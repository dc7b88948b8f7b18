import { describe, expect, it } from 'vitest';
import type { Letterbox } from '../../../models/types.js';
import { GreyDownscaler } from '../../../pipeline/motion/grey-frame.js';

/** A letterbox whose picture (scaledWidth × scaledHeight at padX, padY) sits inside a larger input. */
const lb = (
  scaledWidth: number,
  scaledHeight: number,
  padX: number,
  padY: number,
  src = [16, 8],
): Letterbox => ({
  srcWidth: src[0]!,
  srcHeight: src[1]!,
  inputWidth: scaledWidth + 2 * padX + 1,
  inputHeight: scaledHeight + 2 * padY + 1,
  scaledWidth,
  scaledHeight,
  padX,
  padY,
});

/** A frame of the letterbox's input size: the padding white, picture pixels from a seeded generator. */
function frame(l: Letterbox, seed = 1): Uint8Array {
  const data = new Uint8Array(l.inputWidth * l.inputHeight * 3).fill(255);
  let s = seed;
  for (let y = 0; y < l.scaledHeight; y++)
    for (let x = 0; x < l.scaledWidth; x++)
      for (let c = 0; c < 3; c++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        data[((l.padY + y) * l.inputWidth + l.padX + x) * 3 + c] = s % 200; // never the pad's 255
      }
  return data;
}

/** (R + 2G + B) summed over the picture samples (cols × rows), / 16, floored: the luma by hand. */
function expected(l: Letterbox, data: Uint8Array, cols: number[][], rows: number[][]): number[] {
  const out: number[] = [];
  for (const ry of rows)
    for (const cx of cols) {
      let sum = 0;
      for (const y of ry)
        for (const x of cx) {
          const i = ((l.padY + y) * l.inputWidth + l.padX + x) * 3;
          sum += data[i]! + 2 * data[i + 1]! + data[i + 2]!;
        }
      out.push(Math.floor(sum / 16));
    }
  return out;
}

describe('GreyDownscaler', () => {
  it('averages (R + 2G + B) / 4 of four samples per block: a flat colour gives its luma', () => {
    const l = lb(8, 4, 0, 0);
    const data = new Uint8Array(l.inputWidth * l.inputHeight * 3);
    for (let i = 0; i < data.length; i += 3) data.set([100, 50, 20], i);
    const g = new GreyDownscaler(l, 4);
    const out = new Uint8Array(g.width * g.height);
    g.fill(data, out);
    expect([...out]).toEqual(Array(8).fill(55)); // (100 + 100 + 20) / 4
    for (let i = 0; i < data.length; i += 3) data.set([101, 51, 21], i); // 225 / 4 = 56.25
    g.fill(data, out);
    expect([...out]).toEqual(Array(8).fill(56));
  });

  it('an even 2× reduction samples each 2×2 block of the picture, never the padding', () => {
    const l = lb(8, 4, 1, 2);
    const g = new GreyDownscaler(l, 4);
    expect([g.width, g.height]).toEqual([4, 2]);
    const data = frame(l);
    const out = new Uint8Array(8);
    g.fill(data, out);
    // sx = floor((x + 0.25 + 0.5k)·2) = 2x + k; the same for rows
    const cols = [0, 1, 2, 3].map((x) => [2 * x, 2 * x + 1]);
    expect([...out]).toEqual(
      expected(l, data, cols, [
        [0, 1],
        [2, 3],
      ]),
    );
  });

  it('an uneven reduction (10×5 -> 4×2) samples at a quarter and three quarters of each block', () => {
    const l = lb(10, 5, 3, 1);
    const g = new GreyDownscaler(l, 4);
    expect([g.width, g.height]).toEqual([4, 2]); // round(5·4/10) = 2
    const data = frame(l, 7);
    const out = new Uint8Array(8);
    g.fill(data, out);
    // columns floor((x + .25)·2.5), floor((x + .75)·2.5); rows floor((y + .25)·2.5), floor((y + .75)·2.5)
    expect([...out]).toEqual(
      expected(
        l,
        data,
        [
          [0, 1],
          [3, 4],
          [5, 6],
          [8, 9],
        ],
        [
          [0, 1],
          [3, 4],
        ],
      ),
    );
  });

  it('is the same for RGB and BGR frames', () => {
    const l = lb(8, 4, 1, 2);
    const rgb = frame(l, 3);
    const bgr = rgb.slice();
    for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 2]] = [bgr[i + 2]!, bgr[i]!];
    const g = new GreyDownscaler(l, 4);
    const a = new Uint8Array(8);
    const b = new Uint8Array(8);
    g.fill(rgb, a);
    g.fill(bgr, b);
    expect(b).toEqual(a);
  });

  it('never upscales and never goes below one pixel; keeps the picture’s aspect', () => {
    expect([
      new GreyDownscaler(lb(8, 4, 0, 0), 100).width,
      new GreyDownscaler(lb(8, 4, 0, 0), 100).height,
    ]).toEqual([8, 4]);
    const half = new GreyDownscaler(lb(8, 5, 0, 0), 4); // 5·4/8 = 2.5 rounds to 3
    expect([half.width, half.height]).toEqual([4, 3]);
    const one = new GreyDownscaler(lb(8, 2, 0, 0), 1); // round(2/8) = 0 -> 1
    expect([one.width, one.height]).toEqual([1, 1]);
    const wide = new GreyDownscaler(lb(320, 180, 0, 70), 64);
    expect([wide.width, wide.height]).toEqual([64, 36]);
  });

  it('the last block’s samples stay inside the picture', () => {
    // 3 -> 2: sx = min(2, floor((x + .25 + .5k)·1.5)): 0, 1 and 1, 2 (1.5·1.75 = 2.625 -> 2)
    const l = lb(3, 3, 1, 1);
    const g = new GreyDownscaler(l, 2);
    const data = frame(l, 5);
    const out = new Uint8Array(4);
    g.fill(data, out);
    expect([...out]).toEqual(
      expected(
        l,
        data,
        [
          [0, 1],
          [1, 2],
        ],
        [
          [0, 1],
          [1, 2],
        ],
      ),
    );
  });

  it('maps a grey pixel’s centre back to source pixels', () => {
    const g = new GreyDownscaler(lb(8, 4, 1, 2, [16, 8]), 4); // 4×2 grey over a 16×8 source
    expect(g.toSource(0, 0)).toEqual([2, 2]);
    expect(g.toSource(3, 1)).toEqual([14, 6]);
  });
});
