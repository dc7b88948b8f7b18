import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { familyInput } from '../../../models/detect/families.js';
import {
  decodeImage,
  regionToInputFrame,
  UnreadableImage,
  type RawFrame,
} from '../../../models/detect/raw-input.js';
import type { InputSpec } from '../../../models/types.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const v8 = (width: number, height: number): InputSpec => ({ width, height, ...familyInput.yolov8 });
const yolox = (width: number, height: number): InputSpec => ({ width, height, ...familyInput.yolox });
const whole = (f: RawFrame) => ({ x: 0, y: 0, width: f.width, height: f.height });
/** The pixel at (x, y) of a packed 3-channel image `width` wide. */
const px = (data: Uint8Array, width: number, x: number, y: number) => [
  ...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3),
];
/** A w×h frame whose pixel (x, y) is [x·10 + 1, y·10 + 2, x + y + 3]: every pixel tells where it came from. */
function coded(w: number, h: number, pixelOrder?: 'rgb' | 'bgr'): RawFrame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([x * 10 + 1, y * 10 + 2, x + y + 3], (y * w + x) * 3);
  return { data, width: w, height: h, ...(pixelOrder ? { pixelOrder } : {}) };
}
const grey = [114, 114, 114];

describe('regionToInputFrame', () => {
  it('centres a region that needs no scaling, padding above and below with 114 (Ultralytics)', async () => {
    const src = coded(4, 2);
    const f = await regionToInputFrame(src, whole(src), v8(4, 4));
    // r = min(4/4, 4/2) = 1: 4×2 inside 4×4, dh = 1 -> padY = round(0.9) = 1, one row below
    expect(f.letterbox).toEqual({
      srcWidth: 4,
      srcHeight: 2,
      inputWidth: 4,
      inputHeight: 4,
      scaledWidth: 4,
      scaledHeight: 2,
      padX: 0,
      padY: 1,
    });
    const expected: number[] = [];
    for (let x = 0; x < 4; x++) expected.push(...grey);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) expected.push(x * 10 + 1, y * 10 + 2, x + y + 3);
    for (let x = 0; x < 4; x++) expected.push(...grey);
    expect([...f.data]).toEqual(expected);
  });

  it('pads left and right for a tall region in a wide input', async () => {
    const src = coded(2, 4);
    const f = await regionToInputFrame(src, whole(src), v8(8, 4));
    // r = min(8/2, 4/4) = 1: 2×4, dw = 3 -> padX = round(2.9) = 3, 3 columns right
    expect(f.letterbox).toMatchObject({ scaledWidth: 2, scaledHeight: 4, padX: 3, padY: 0 });
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 8; x++) {
        const want = x >= 3 && x < 5 ? [(x - 3) * 10 + 1, y * 10 + 2, x - 3 + y + 3] : grey;
        expect(px(f.data, 8, x, y), `(${x}, ${y})`).toEqual(want);
      }
    }
  });

  it('YOLOX: top-left, padded right and bottom, channels swapped to BGR', async () => {
    const src = coded(4, 2);
    const f = await regionToInputFrame(src, whole(src), yolox(4, 4));
    expect(f.letterbox).toMatchObject({ scaledWidth: 4, scaledHeight: 2, padX: 0, padY: 0 });
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++)
        expect(px(f.data, 4, x, y), `(${x}, ${y})`).toEqual(
          y < 2 ? [x + y + 3, y * 10 + 2, x * 10 + 1] : grey,
        );
  });

  it('swaps channels only when the frame’s order differs from the family’s', async () => {
    const rgb = coded(2, 2);
    const bgr = coded(2, 2, 'bgr'); // same bytes, declared BGR
    const at = async (f: RawFrame, spec: InputSpec) =>
      px((await regionToInputFrame(f, whole(f), spec)).data, 2, 1, 0);
    expect(await at(rgb, v8(2, 2))).toEqual([11, 2, 4]);
    expect(await at(bgr, yolox(2, 2))).toEqual([11, 2, 4]);
    expect(await at(rgb, yolox(2, 2))).toEqual([4, 2, 11]);
    expect(await at(bgr, v8(2, 2))).toEqual([4, 2, 11]);
  });

  it('takes only the region, and maps its own pixels (not the frame’s) into the input', async () => {
    const src = coded(6, 5);
    const f = await regionToInputFrame(src, { x: 2, y: 1, width: 4, height: 2 }, v8(4, 4));
    expect(f.letterbox).toMatchObject({ srcWidth: 4, srcHeight: 2, padY: 1 });
    expect(px(f.data, 4, 0, 1)).toEqual([21, 12, 6]); // source (2, 1)
    expect(px(f.data, 4, 3, 2)).toEqual([51, 22, 10]); // source (5, 2)
  });

  it('scales the picture into the letterbox: a flat colour stays exact, halves stay where they were', async () => {
    const w = 40;
    const h = 20;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data.set(x < w / 2 ? [200, 30, 10] : [10, 60, 220], (y * w + x) * 3);
    const f = await regionToInputFrame(
      { data, width: w, height: h },
      { x: 0, y: 0, width: w, height: h },
      v8(8, 8),
    );
    // r = 0.2: 8×4 at (0, 2)
    expect(f.letterbox).toMatchObject({ scaledWidth: 8, scaledHeight: 4, padX: 0, padY: 2 });
    expect(f.data).toHaveLength(8 * 8 * 3);
    for (let y = 0; y < 8; y++) {
      for (const x of [0, 1, 2, 5, 6, 7]) {
        const want = y < 2 || y >= 6 ? grey : x < 4 ? [200, 30, 10] : [10, 60, 220];
        expect(px(f.data, 8, x, y), `(${x}, ${y})`).toEqual(want);
      }
    }
  });

  it('resizes bilinearly: an upscaled edge gets in-between values (nearest-neighbour would not)', async () => {
    const src: RawFrame = { data: new Uint8Array([0, 0, 0, 200, 100, 40]), width: 2, height: 1 };
    const f = await regionToInputFrame(src, whole(src), v8(4, 4)); // 4×2 at (0, 1)
    const reds = [0, 1, 2, 3].map((x) => px(f.data, 4, x, 1)[0]!);
    expect(reds[0]).toBe(0);
    expect(reds[3]).toBe(200);
    expect(reds).toEqual([...reds].sort((a, b) => a - b));
    expect(reds.some((r) => r > 0 && r < 200)).toBe(true);
    expect(px(f.data, 4, 1, 1)).toEqual(px(f.data, 4, 1, 2)); // both rows from the one source row
  });

  it('pads with the family’s pad value, and hands over 0..255 bytes (scaling happens at the tensor)', async () => {
    const src = coded(4, 2);
    const f = await regionToInputFrame(src, whole(src), { ...v8(4, 4), padValue: 7, scale: 1 / 255 });
    expect(f.data).toBeInstanceOf(Uint8Array);
    expect(px(f.data, 4, 0, 0)).toEqual([7, 7, 7]);
    expect(px(f.data, 4, 3, 3)).toEqual([7, 7, 7]);
    expect(px(f.data, 4, 3, 2)).toEqual([31, 12, 7]); // source (3, 1), unscaled
  });
});

describe('decodeImage', () => {
  it.skipIf(!hasShared)('decodes a JPEG from a path or a buffer to packed RGB at its size', async () => {
    const a = await decodeImage(sharedPath('media', 'bus.jpg'));
    expect([a.width, a.height, a.data.length]).toEqual([810, 1080, 810 * 1080 * 3]);
    const b = await decodeImage(readFileSync(sharedPath('media', 'bus.jpg')));
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
  });

  it('turns an EXIF-rotated image upright', async () => {
    // 4×2: left half red, right half blue; orientation 6 = "rotate 90° clockwise to view"
    const raw = Buffer.alloc(4 * 2 * 3);
    for (let i = 0; i < 8; i++) raw.set(i % 4 < 2 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const jpeg = await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const f = await decodeImage(jpeg);
    expect([f.width, f.height]).toEqual([2, 4]);
    // red on top after turning clockwise, blue below (JPEG: near the colours)
    const [r0, , b0] = px(f.data, 2, 0, 0);
    const [r3, , b3] = px(f.data, 2, 1, 3);
    expect([r0! > 200, b0! < 60, r3! < 60, b3! > 200]).toEqual([true, true, true, true]);
  });

  it('drops alpha and expands grey to three channels', async () => {
    const rgba = await sharp(Buffer.from([10, 20, 30, 40, 50, 60, 70, 80]), {
      raw: { width: 2, height: 1, channels: 4 },
    })
      .png()
      .toBuffer();
    const a = await decodeImage(rgba);
    expect([...a.data]).toEqual([10, 20, 30, 50, 60, 70]);
    const g = await sharp(Buffer.from([9, 99]), { raw: { width: 2, height: 1, channels: 1 } })
      .png()
      .toBuffer();
    expect([...(await decodeImage(g)).data]).toEqual([9, 9, 9, 99, 99, 99]);
  });

  it('refuses what is not an image, saying so', async () => {
    await expect(decodeImage(Buffer.from('not an image at all'))).rejects.toThrow(/^not a readable image: /);
    await expect(decodeImage(Buffer.from('not an image at all'))).rejects.toBeInstanceOf(UnreadableImage);
  });
});
