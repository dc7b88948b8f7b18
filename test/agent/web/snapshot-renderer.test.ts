import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { labelColour } from '../../../agent/web/annotation-svg.js';
import { SnapshotRenderer } from '../../../agent/web/snapshot-renderer.js';
import type { InputSpec } from '../../../models/types.js';
import { hasShared } from '../../support/shared.js';
import { zidaneEvent } from '../../support/zidane-event.js';
import { familyInput } from '../../../models/detect/families.js';

const spec: InputSpec = { width: 320, height: 320, ...familyInput.yolov8 };

/** A real picture letterboxed as the pipeline does, with detections placed where we can check them. */
const zidane = [{ label: 'person', classId: 0, score: 0.87, box: { x1: 400, y1: 200, x2: 800, y2: 700 } }];

const event = (frameNo: number, order: InputSpec['pixelOrder'] = 'rgb', detections: object[] = zidane) =>
  zidaneEvent({ spec: { ...spec, pixelOrder: order }, frameNo, detections });

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

describe.skipIf(!hasShared)('SnapshotRenderer: annotated JPEGs of the latest frame', () => {
  it('cuts the model’s pixels out of the letterbox and draws the box and its tag in the label colour', async () => {
    const r = new SnapshotRenderer();
    const snap = (await r.snapshot(await event(1), 'rgb'))!;
    expect([snap.width, snap.height]).toEqual([320, 180]);
    const { data, info } = await sharp(snap.jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([320, 180]);
    const at = (x: number, y: number) => [...data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3)];
    // JPEG's chroma subsampling pales a 2 px line: close enough is within 70 per channel.
    const close = (p: number[], c: number[]) => p.every((v, i) => Math.abs(v - c[i]!) < 70);
    const person = hex(labelColour('person'));
    const edge = (x: number, y: number) =>
      [-1, 0, 1].some((d) => close(at(x + d, y), person) || close(at(x, y + d), person));
    // Box edges at x = 100 and 200, y = 50 and 175 (source × 0.25).
    expect(edge(100, 120)).toBe(true);
    expect(edge(200, 120)).toBe(true);
    expect(edge(150, 175)).toBe(true);
    // Inside the box the picture is untouched (Zidane's shirt is not that colour).
    expect(close(at(150, 120), person)).toBe(false);
    // The tag above the box: its background in the colour, with dark text on it.
    const tagRow = [...Array(90).keys()].map((i) => at(101 + i, 42));
    expect(tagRow.filter((p) => close(p, person)).length).toBeGreaterThan(20);
    expect(tagRow.some((p) => p.every((v) => v < 90))).toBe(true);
  });

  it('renders a camera at most once per interval, and again for a newer frame after it', async () => {
    let now = 0;
    const r = new SnapshotRenderer({ now: () => now, minIntervalMs: 1000 });
    const a = (await r.snapshot(await event(1), 'rgb'))!;
    now = 500;
    expect((await r.snapshot(await event(2), 'rgb'))!.frameNo).toBe(1);
    now = 1500;
    expect((await r.snapshot(await event(3), 'rgb'))!.frameNo).toBe(3);
    expect(r.rendered).toBe(2);
    expect(a.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('by default the interval is elapsed time: a wall clock stepped back an hour does not freeze the snapshot', async () => {
    const [one, two] = [await event(1), await event(2)];
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const r = new SnapshotRenderer({ minIntervalMs: 1000 });
      await r.snapshot(one, 'rgb');
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(1500);
      expect((await r.snapshot(two, 'rgb'))!.frameNo).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the picture is exactly the scaled region of the frame asked for, with bars above and below or at the sides', async () => {
    const base = await event(1, 'rgb', []);
    const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 9)) & 255);
    const portrait = {
      srcWidth: 720,
      srcHeight: 1280,
      scaledWidth: 180,
      scaledHeight: 320,
      padX: 70,
      padY: 0,
    };
    for (const box of [base.frame.letterbox, { ...base.frame.letterbox, ...portrait }]) {
      const data = pattern(box.inputWidth * box.inputHeight * 3);
      const e = { ...base, frame: { ...base.frame, letterbox: box, data } } as typeof base;
      const pending = new SnapshotRenderer().snapshot(e, 'rgb');
      // The agent reuses a frame's memory for a later frame (recycling): what was asked for is what is drawn.
      const original = Uint8Array.from(data);
      data.fill(0);
      const snap = (await pending)!;
      const crop = { left: box.padX, top: box.padY, width: box.scaledWidth, height: box.scaledHeight };
      const raw = { raw: { width: box.inputWidth, height: box.inputHeight, channels: 3 as const } };
      const expected = await sharp(await sharp(original, raw).extract(crop).raw().toBuffer(), {
        raw: { width: crop.width, height: crop.height, channels: 3 },
      })
        .jpeg({ quality: 80, optimiseCoding: false })
        .toBuffer();
      expect([snap.width, snap.height]).toEqual([crop.width, crop.height]);
      expect(snap.jpeg.equals(expected)).toBe(true);
    }
  });

  it('a BGR model’s frame comes out in RGB', async () => {
    const r = new SnapshotRenderer();
    const rgb = await sharp((await r.snapshot(await event(1, 'rgb'), 'rgb'))!.jpeg).stats();
    r.forget('yard');
    const bgr = await sharp((await r.snapshot(await event(1, 'bgr'), 'bgr'))!.jpeg).stats();
    rgb.channels.forEach((c, i) => expect(Math.abs(c.mean - bgr.channels[i]!.mean)).toBeLessThan(2));
  });

  it('in a crowd, a tag that would cover a more confident one moves inside its box', async () => {
    // Two boxes side by side at the same height (picture pixels: x 25–75 and 35–85, top at y 50).
    const crowd = [
      { label: 'person', classId: 0, score: 0.9, box: { x1: 100, y1: 200, x2: 300, y2: 700 } },
      { label: 'car', classId: 2, score: 0.6, box: { x1: 140, y1: 200, x2: 340, y2: 700 } },
    ];
    const r = new SnapshotRenderer();
    const snap = (await r.snapshot(await event(1, 'rgb', crowd), 'rgb'))!;
    const { data } = await sharp(snap.jpeg).raw().toBuffer({ resolveWithObject: true });
    const row = (y: number, x0: number, x1: number) =>
      [...Array(x1 - x0).keys()].map((i) => [
        ...data.subarray((y * 320 + x0 + i) * 3, (y * 320 + x0 + i) * 3 + 3),
      ]);
    const share = (px: number[][], c: string) =>
      px.filter((p) => p.every((v, i) => Math.abs(v - hex(c)[i]!) < 70)).length / px.length;
    // Above the boxes: the person's tag alone (the car's did not land on it).
    expect(share(row(36, 30, 70), labelColour('person'))).toBeGreaterThan(0.3);
    expect(share(row(36, 30, 70), labelColour('car'))).toBe(0);
    // Inside the top of the car's box: the car's tag.
    expect(share(row(52, 40, 80), labelColour('car'))).toBeGreaterThan(0.3);
  });
});
