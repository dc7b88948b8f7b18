import type { Letterbox } from '../../models/types.js';

/**
 * Downscales the picture part of a letterboxed frame (3 bytes per pixel, RGB or BGR) to a small grey
 * image. Each output pixel averages 4 samples of its block (at a quarter and three quarters of the block
 * each way), weighted (R + 2G + B) / 4, which is the same for either channel order. Reading 4 samples
 * instead of the whole block keeps the cost at ~4 × output pixels, whatever the model size.
 */
export class GreyDownscaler {
  readonly width: number;
  readonly height: number;
  /** Byte offsets within a row of the two samples of each output column. */
  private readonly xs: Int32Array;
  /** Byte offsets of the rows of the two samples of each output row. */
  private readonly ys: Int32Array;

  constructor(
    readonly letterbox: Letterbox,
    targetWidth: number,
  ) {
    const lb = letterbox;
    this.width = Math.max(1, Math.min(targetWidth, lb.scaledWidth));
    this.height = Math.max(1, Math.round((lb.scaledHeight * this.width) / lb.scaledWidth));
    const stride = lb.inputWidth * 3;
    this.xs = new Int32Array(this.width * 2);
    for (let x = 0; x < this.width; x++) {
      for (let k = 0; k < 2; k++) {
        const sx = Math.min(
          lb.scaledWidth - 1,
          Math.floor(((x + 0.25 + 0.5 * k) * lb.scaledWidth) / this.width),
        );
        this.xs[x * 2 + k] = (lb.padX + sx) * 3;
      }
    }
    this.ys = new Int32Array(this.height * 2);
    for (let y = 0; y < this.height; y++) {
      for (let k = 0; k < 2; k++) {
        const sy = Math.min(
          lb.scaledHeight - 1,
          Math.floor(((y + 0.25 + 0.5 * k) * lb.scaledHeight) / this.height),
        );
        this.ys[y * 2 + k] = (lb.padY + sy) * stride;
      }
    }
  }

  /** Writes width × height grey values (0..255) into `out`. */
  fill(data: Uint8Array, out: Uint8Array): void {
    const { xs, ys, width, height } = this;
    let o = 0;
    for (let y = 0; y < height; y++) {
      const r0 = ys[y * 2]!;
      const r1 = ys[y * 2 + 1]!;
      for (let x = 0; x < width; x++) {
        const c0 = xs[x * 2]!;
        const c1 = xs[x * 2 + 1]!;
        let sum = 0;
        let i = r0 + c0;
        sum += data[i]! + 2 * data[i + 1]! + data[i + 2]!;
        i = r0 + c1;
        sum += data[i]! + 2 * data[i + 1]! + data[i + 2]!;
        i = r1 + c0;
        sum += data[i]! + 2 * data[i + 1]! + data[i + 2]!;
        i = r1 + c1;
        sum += data[i]! + 2 * data[i + 1]! + data[i + 2]!;
        out[o++] = sum >> 4;
      }
    }
  }

  /** Source-pixel position of the centre of grey pixel (x, y). */
  toSource(x: number, y: number): [number, number] {
    const lb = this.letterbox;
    return [((x + 0.5) * lb.srcWidth) / this.width, ((y + 0.5) * lb.srcHeight) / this.height];
  }
}
