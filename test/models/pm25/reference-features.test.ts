import { describe, expect, it } from 'vitest';
import { Pm25CameraConfig, type PixelRect } from '../../../config/pm25-schema.js';
import type { RgbFrame } from '../../../models/pm25/raw-features.js';
import { referenceFeatures } from '../../../models/pm25/reference-features.js';

/** A 64×64 test card: sky on top, two targets, a near region, a registration square, exposure over all. */
function card(gamma = 1) {
  return Pm25CameraConfig.parse({
    frame: { width: 64, height: 64 },
    gamma,
    sky: [0, 0, 64, 8],
    targets: [
      { name: 'a', rect: [0, 10, 10, 20], distanceKm: 5, darkFraction: 0.25 },
      { name: 'b', rect: [20, 10, 30, 20], distanceKm: 2, darkFraction: 0.5 },
    ],
    near: { rect: [40, 10, 50, 20], distanceKm: 0.3 },
    registration: [1, 24, 39, 62], // 38×38: trimmed to 36×36, a 9×9 thumbnail
    exposure: [0, 0, 64, 64],
  });
}

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width = 64,
    readonly height = 64,
    fill: [number, number, number] = [200, 200, 200],
  ) {
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(fill, i * 3);
  }
  set(x: number, y: number, v: [number, number, number]) {
    this.rgb.set(v, (y * this.width + x) * 3);
  }
  fill([x0, y0, x1, y1]: PixelRect, v: [number, number, number]) {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) this.set(x, y, v);
  }
  frame(): RgbFrame {
    return { rgb: this.rgb, width: this.width, height: this.height };
  }
}

describe('PM2.5 reference features (plain loops) on frames worked by hand', () => {
  it('refuses a frame of another size', () => {
    expect(() => referenceFeatures(card(), new Canvas(64, 63).frame())).toThrow(
      /64x63, config expects 64x64/,
    );
    expect(() => referenceFeatures(card(), new Canvas(63, 64).frame())).toThrow(/config expects/);
  });

  it('airlight: mean linear radiance of the sky per channel, gamma undone', () => {
    const c = new Canvas();
    c.fill([0, 0, 64, 4], [100, 150, 200]);
    c.fill([0, 4, 64, 8], [200, 250, 100]);
    const lin = referenceFeatures(card(1), c.frame());
    expect(lin.sky[0]).toBeCloseTo(150 / 255, 12);
    expect(lin.sky[1]).toBeCloseTo(200 / 255, 12);
    expect(lin.sky[2]).toBeCloseTo(150 / 255, 12);
    const g = referenceFeatures(card(2.2), c.frame());
    expect(g.sky[0]).toBeCloseTo(((100 / 255) ** 2.2 + (200 / 255) ** 2.2) / 2, 12);
    // rows below the sky rectangle (y = 8) do not count
    c.fill([0, 8, 64, 9], [0, 0, 0]);
    expect(referenceFeatures(card(1), c.frame()).sky).toEqual(lin.sky);
  });

  it('dark channel: per-pixel min over channels of I/A, 5×5 min-pool clipped at the edges, darkest share', () => {
    const c = new Canvas(); // everything at the sky's value: ratios of 1
    // Target a (10×10, k = 25): one black-in-red pixel inside, so its 5×5 neighbourhood pools to 0.
    c.set(5, 15, [0, 200, 200]);
    // Target b (10×10, k = 50): one black pixel at its top-left corner: the clipped window covers 3×3 = 9 px.
    c.set(20, 10, [0, 0, 0]);
    const f = referenceFeatures(card(), c.frame());
    expect(f.targets[0]!.dark).toBeCloseTo(0, 12); // 25 pooled zeros, exactly k
    // q: per channel, the darkest 25 of I_c/A_c: one 0 and 24 ones in red; all ones otherwise.
    expect(f.targets[0]!.q[0]).toBeCloseTo(24 / 25, 12);
    expect(f.targets[0]!.q[1]).toBeCloseTo(1, 12);
    expect(f.targets[0]!.q[2]).toBeCloseTo(1, 12);
    // b: 9 pooled zeros among its darkest 50
    expect(f.targets[1]!.dark).toBeCloseTo(41 / 50, 12);
    expect(f.targets[1]!.q).toEqual([49 / 50, 49 / 50, 49 / 50].map((v) => expect.closeTo(v, 12)));
  });

  it('dark channel is relative to each channel of the sky', () => {
    const c = new Canvas();
    c.fill([0, 0, 64, 8], [200, 100, 50]);
    c.fill([0, 10, 10, 20], [100, 75, 40]); // ratios 0.5, 0.75, 0.8: the dark channel is 0.5
    const f = referenceFeatures(card(), c.frame());
    expect(f.targets[0]!.q.map((v) => +v.toFixed(12))).toEqual([0.5, 0.75, 0.8]);
    expect(f.targets[0]!.dark).toBeCloseTo(0.5, 12);
  });

  it('near region: darkest tenth, mean grey, and the mean Sobel magnitude of its interior', () => {
    const c = new Canvas();
    // near rect [40,10,50,20]: left 5 columns grey 60, right 5 columns grey 180 (a vertical edge)
    c.fill([40, 10, 45, 20], [30, 60, 90]); // grey (30+60+90)/3 = 60
    c.fill([45, 10, 50, 20], [180, 180, 180]);
    const f = referenceFeatures(card(), c.frame());
    expect(f.nearGrey).toBeCloseTo((60 + 180) / 2 / 255, 12);
    // Interior is 8×8; the two columns beside the edge read |gx| = 4·Δ, Δ = 120/255; gy = 0.
    const delta = 120 / 255;
    expect(f.nearGradient).toBeCloseTo((2 * 8 * 4 * delta) / (8 * 8), 12);
    // k = 10 of 100 pixels; the darkest red ratios are 30/200
    expect(f.near.q[0]).toBeCloseTo(30 / 200, 12);
    // Exactly a tenth of the near region (one row of 10 of its 100 px) is dark: q is that row alone.
    const tenth = new Canvas();
    tenth.fill([40, 10, 50, 11], [20, 20, 20]);
    expect(referenceFeatures(card(), tenth.frame()).near.q[0]).toBeCloseTo(20 / 200, 12);
    // A horizontal edge gives the same magnitude through gy.
    const h = new Canvas();
    h.fill([40, 10, 50, 15], [60, 60, 60]);
    h.fill([40, 15, 50, 20], [180, 180, 180]);
    expect(referenceFeatures(card(), h.frame()).nearGradient).toBeCloseTo(f.nearGradient, 12);
    // A single bright pixel at the centre: gx and gy both nonzero around it, magnitude by hand.
    const p = new Canvas(64, 64, [0, 0, 0]);
    p.fill([0, 0, 64, 8], [200, 200, 200]);
    p.set(45, 15, [255, 255, 255]);
    // neighbours: edge-adjacent get (gx,gy) = (±2, 0) or (0, ±2); corners (±1, ±1)
    const expected = (4 * 2 + 4 * Math.SQRT2) / 64;
    expect(referenceFeatures(card(), p.frame()).nearGradient).toBeCloseTo(expected, 12);
  });

  it('clipped: share of exposure pixels whose brightest channel is 0 or 255', () => {
    const c = new Canvas();
    c.set(0, 0, [0, 0, 0]); // clipped low
    c.set(1, 0, [255, 10, 10]); // clipped high
    c.set(2, 0, [10, 10, 255]); // clipped high (blue)
    c.set(3, 0, [1, 0, 0]); // not clipped: its brightest channel is 1
    c.set(4, 0, [254, 254, 254]); // not clipped
    expect(referenceFeatures(card(), c.frame()).clipped).toBeCloseTo(3 / (64 * 64), 12);
  });

  it('registration thumbnail: encoded grey (gamma kept) averaged over 4×4 blocks, row-major', () => {
    const c = new Canvas();
    // block (bx, by) of the trimmed rect [1,24,37,60] gets grey 10·bx + 100·… so every block differs
    for (let by = 0; by < 9; by++)
      for (let bx = 0; bx < 9; bx++) {
        const v = 10 + 2 * bx + 25 * by;
        c.fill([1 + 4 * bx, 24 + 4 * by, 5 + 4 * bx, 28 + 4 * by], [v, v + 3, v - 3]);
      }
    c.set(1, 24, [0, 0, 0]); // one dark pixel lowers block (0, 0) by 10/16
    for (const gamma of [1, 2.2]) {
      const f = referenceFeatures(card(gamma), c.frame());
      expect(f.thumbWidth).toBe(9);
      expect(f.thumbHeight).toBe(9);
      expect(f.thumb.length).toBe(81);
      expect(f.thumb[0]).toBeCloseTo((10 - 10 / 16) / 255, 6);
      expect(f.thumb[1]).toBeCloseTo(12 / 255, 6);
      expect(f.thumb[9]).toBeCloseTo(35 / 255, 6);
      expect(f.thumb[80]).toBeCloseTo((10 + 16 + 200) / 255, 6);
    }
  });
});
