import { THUMB_FACTOR } from './raw-features.js';

/** Where the current view sits against the reference view, in frame pixels. */
export interface Shift {
  dx: number;
  dy: number;
  /** Height of the phase-correlation peak: ~1 for the same view, near 0 for unrelated images. */
  peak: number;
}

function fft1d(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

function fft2d(re: Float64Array, im: Float64Array, w: number, h: number, inverse: boolean): void {
  const rr = new Float64Array(w);
  const ri = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    rr.set(re.subarray(y * w, y * w + w));
    ri.set(im.subarray(y * w, y * w + w));
    fft1d(rr, ri, inverse);
    re.set(rr, y * w);
    im.set(ri, y * w);
  }
  const cr = new Float64Array(h);
  const ci = new Float64Array(h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      cr[y] = re[y * w + x]!;
      ci[y] = im[y * w + x]!;
    }
    fft1d(cr, ci, inverse);
    for (let y = 0; y < h; y++) {
      re[y * w + x] = cr[y]!;
      im[y * w + x] = ci[y]!;
    }
  }
}

const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(n));

/** Windowed, zero-mean, zero-padded spectrum of a thumbnail (gradients would do too; the window tames edges). */
function spectrum(img: Float32Array, w: number, h: number, pw: number, ph: number) {
  let mean = 0;
  for (const v of img) mean += v;
  mean /= img.length;
  const re = new Float64Array(pw * ph);
  const im = new Float64Array(pw * ph);
  for (let y = 0; y < h; y++) {
    const wy = 0.5 - 0.5 * Math.cos((2 * Math.PI * (y + 0.5)) / h);
    for (let x = 0; x < w; x++) {
      const wx = 0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / w);
      re[y * pw + x] = (img[y * w + x]! - mean) * wx * wy;
    }
  }
  fft2d(re, im, pw, ph, false);
  return { re, im };
}

/** A reference view prepared once: its spectrum is reused for every frame. */
export class ReferenceView {
  private readonly pw: number;
  private readonly ph: number;
  private readonly spec: { re: Float64Array; im: Float64Array };

  constructor(
    thumb: Float32Array,
    readonly width: number,
    readonly height: number,
  ) {
    this.pw = pow2(width);
    this.ph = pow2(height);
    this.spec = spectrum(thumb, width, height, this.pw, this.ph);
  }

  /**
   * Phase correlation against a registration thumbnail (the graph's `thumb` output): the translation of the
   * current view, in frame pixels. A few thousand cells, so plain TypeScript is fine here.
   */
  shiftOf(current: Float32Array): Shift {
    const { pw, ph } = this;
    const a = this.spec;
    const b = spectrum(current, this.width, this.height, pw, ph);
    const re = new Float64Array(pw * ph);
    const im = new Float64Array(pw * ph);
    for (let i = 0; i < re.length; i++) {
      // conj(A)·B / |conj(A)·B|: only the phase, i.e. the shift, survives.
      const r = a.re[i]! * b.re[i]! + a.im[i]! * b.im[i]!;
      const m = a.re[i]! * b.im[i]! - a.im[i]! * b.re[i]!;
      const mag = Math.hypot(r, m) || 1;
      re[i] = r / mag;
      im[i] = m / mag;
    }
    fft2d(re, im, pw, ph, true);
    let best = 0;
    for (let i = 1; i < re.length; i++) if (re[i]! > re[best]!) best = i;
    let dx = best % pw;
    let dy = Math.floor(best / pw);
    if (dx > pw / 2) dx -= pw;
    if (dy > ph / 2) dy -= ph;
    return { dx: dx * THUMB_FACTOR, dy: dy * THUMB_FACTOR, peak: re[best]! / (pw * ph) };
  }
}

/** One-off phase correlation of two thumbnails (tests, tools). */
export function phaseCorrelate(reference: Float32Array, current: Float32Array, w: number, h: number): Shift {
  return new ReferenceView(reference, w, h).shiftOf(current);
}
