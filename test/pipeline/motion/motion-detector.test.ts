import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Letterbox } from '../../../models/types.js';
import { MotionDetector, type MotionResult } from '../../../pipeline/motion/motion-detector.js';

// a 640×480 source in a 320×320 input: 320×240 picture, 40 px of padding above and below. The grey frame
// is 160×120 (default width), so a grey pixel is 4 source pixels and a cell (8 grey px) 32.
const lb: Letterbox = computeLetterbox(640, 480, { width: 320, height: 320, padPosition: 'center' });

interface Square {
  x: number;
  y: number;
  size: number;
  value: number;
}

/** A flat grey scene (level `base`, ±`noise`) with solid squares in source pixels; padding is 114. */
function frame(squares: Square[] = [], base = 100, noise = 0, seed = 1, box: Letterbox = lb): Uint8Array {
  const data = new Uint8Array(box.inputWidth * box.inputHeight * 3).fill(114);
  const k = box.srcWidth / box.scaledWidth;
  let s = seed;
  for (let y = 0; y < box.scaledHeight; y++) {
    let i = ((y + box.padY) * box.inputWidth + box.padX) * 3;
    for (let x = 0; x < box.scaledWidth; x++, i += 3) {
      let v = base;
      for (const q of squares)
        if (x * k >= q.x && x * k < q.x + q.size && y * k >= q.y && y * k < q.y + q.size) v = q.value;
      if (noise) {
        s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
        v += (s % (2 * noise + 1)) - noise;
      }
      data.fill(Math.max(0, Math.min(255, v)), i, i + 3);
    }
  }
  return data;
}

/** Runs frames `stepMs` apart and returns every result. */
function run(det: MotionDetector, frames: Uint8Array[], stepMs = 100, box: Letterbox = lb): MotionResult[] {
  return frames.map((f, n) => det.detect(f, box, n * stepMs));
}

// cell-aligned: columns 10..11, rows 7..8; 16×16 grey pixels of 160×120
const square: Square = { x: 320, y: 224, size: 64, value: 200 };

describe('MotionDetector', () => {
  it('learns the first frame as the background and reports it still', () => {
    const det = new MotionDetector();
    const [first, same] = run(det, [frame([square]), frame([square])]);
    expect(first).toEqual({ moving: false, sceneChange: false, movingCells: 0, changed: 0 });
    expect(same).toEqual({ moving: false, sceneChange: false, movingCells: 0, changed: 0 });
  });

  it('an object appearing moves its cells, with its region in source pixels', () => {
    const det = new MotionDetector();
    const [, r] = run(det, [frame(), frame([square])]);
    expect(r).toMatchObject({ moving: true, sceneChange: false, movingCells: 4 });
    expect(r!.changed).toBeCloseTo(256 / (160 * 120), 6);
    expect(r!.region).toEqual({ x1: 320, y1: 224, x2: 384, y2: 288 });
  });

  it('a region spanning several objects is their cells’ bounding box, clipped to the picture', () => {
    const det = new MotionDetector();
    const corner: Square = { x: 600, y: 448, size: 40, value: 250 };
    const [, r] = run(det, [frame(), frame([{ ...square, x: 0, y: 0 }, corner])]);
    expect(r!.region).toEqual({ x1: 0, y1: 0, x2: 640, y2: 480 });
    expect(r!.movingCells).toBe(4 + 2); // the corner square straddles two cells of the last row
    // 7 px cells do not divide 160×120: the last column and row are partial, and the region stops at the edge
    const [, odd] = run(new MotionDetector({ cellSize: 7 }), [frame(), frame([corner])]);
    expect(odd!.region).toEqual({ x1: 21 * 28, y1: 16 * 28, x2: 640, y2: 480 });
  });

  it('sensor noise below pixelThreshold is still; a change above it is not', () => {
    const still = run(
      new MotionDetector({ pixelThreshold: 20 }),
      Array.from({ length: 10 }, (_, n) => frame([], 100, 8, n + 1)),
    );
    expect(still.every((r) => !r.moving && r.changed === 0)).toBe(true);
    const dim: Square = { ...square, value: 115 }; // 15 grey levels above the floor
    expect(run(new MotionDetector({ pixelThreshold: 20 }), [frame(), frame([dim])])[1]!.moving).toBe(false);
    expect(run(new MotionDetector({ pixelThreshold: 10 }), [frame(), frame([dim])])[1]!.moving).toBe(true);
    // darker counts as much as brighter
    const dark: Square = { ...square, value: 60 };
    expect(run(new MotionDetector(), [frame(), frame([dark])])[1]!.movingCells).toBe(4);
  });

  it('a cell moves only when more than cellThreshold of its pixels changed', () => {
    // 8×8 source px = 2×2 grey px: 4 of a cell's 64 pixels (6.25 %)
    const speck: Square = { x: 332, y: 236, size: 8, value: 250 };
    const [, low] = run(new MotionDetector({ cellThreshold: 0.05 }), [frame(), frame([speck])]);
    const [, high] = run(new MotionDetector({ cellThreshold: 0.08 }), [frame(), frame([speck])]);
    expect(low).toMatchObject({ moving: true, movingCells: 1 });
    expect(high).toMatchObject({ moving: false, movingCells: 0 });
    expect(high!.changed).toBeGreaterThan(0);
    expect(high!.region).toBeUndefined();
  });

  it('fewer moving cells than minCells is not moving, but still reports where', () => {
    const [, r] = run(new MotionDetector({ minCells: 5 }), [frame(), frame([square])]);
    expect(r).toMatchObject({ moving: false, movingCells: 4 });
    expect(r!.region).toEqual({ x1: 320, y1: 224, x2: 384, y2: 288 });
    const [, r4] = run(new MotionDetector({ minCells: 4 }), [frame(), frame([square])]);
    expect(r4!.moving).toBe(true);
  });

  it('a change over most of the picture is a scene change, and the background is relearnt', () => {
    const det = new MotionDetector({ globalChange: 0.6 });
    const [, change, after] = run(det, [frame(), frame([], 170), frame([], 170)]);
    expect(change).toEqual({ moving: true, sceneChange: true, movingCells: 0, changed: 1 });
    expect(after).toEqual({ moving: false, sceneChange: false, movingCells: 0, changed: 0 });
  });

  it('a change just under globalChange is ordinary motion', () => {
    // the left 384 of 640 columns: 60 % of the picture, not more
    const det = new MotionDetector({ globalChange: 0.6 });
    const [, r] = run(det, [
      frame(),
      frame([
        { x: 0, y: 0, size: 384, value: 200 },
        { x: 0, y: 384, size: 384, value: 200 },
      ]),
    ]);
    expect(r!.changed).toBeCloseTo(0.6, 6);
    expect(r).toMatchObject({ moving: true, sceneChange: false });
    expect(r!.movingCells).toBe(12 * 15);
  });

  it('an object that stays fades into the background by elapsed time, not by frame count', () => {
    const frames = [frame(), ...Array.from({ length: 30 }, () => frame([square]))];
    // backgroundS 0.5 at 10 fps: gone from the difference within 2 s
    const slow = run(new MotionDetector({ backgroundS: 0.5 }), frames, 100);
    expect(slow[1]!.moving).toBe(true);
    const lastMoving = slow.map((r) => r.moving).lastIndexOf(true);
    expect(lastMoving).toBeGreaterThan(1);
    expect(lastMoving).toBeLessThan(20);
    expect(slow.at(-1)!.moving).toBe(false);
    // the same 30 frames 10 ms apart are 0.3 s: the object has not faded yet
    const fast = run(new MotionDetector({ backgroundS: 0.5 }), frames, 10);
    expect(fast.at(-1)!.moving).toBe(true);
    // no time passing learns nothing
    const frozen = run(new MotionDetector({ backgroundS: 0.5 }), frames, 0);
    expect(frozen.at(-1)).toMatchObject({ moving: true, movingCells: 4 });
  });

  it('ignores changes inside a mask, and measures the share over what is unmasked', () => {
    // mask the left half of the source
    const mask: [number, number][] = [
      [0, 0],
      [320, 0],
      [320, 480],
      [0, 480],
    ];
    const det = new MotionDetector({ masks: [mask] });
    const left: Square = { ...square, x: 64 };
    const [, hidden, seen] = run(det, [frame(), frame([left]), frame([left, square])]);
    expect(hidden).toEqual({ moving: false, sceneChange: false, movingCells: 0, changed: 0 });
    expect(seen).toMatchObject({ moving: true, movingCells: 4 });
    expect(seen!.changed).toBeCloseTo(256 / (80 * 120), 6);
    expect(seen!.region).toEqual({ x1: 320, y1: 224, x2: 384, y2: 288 });
  });

  it('a new frame geometry starts over with a fresh background', () => {
    const det = new MotionDetector();
    det.detect(frame(), lb, 0);
    expect(det.detect(frame([square]), lb, 100).moving).toBe(true);
    // the same source in a 640×640 input: a new grey frame, whose first frame is the background
    const big = computeLetterbox(640, 480, { width: 640, height: 640, padPosition: 'center' });
    expect(det.detect(frame([square], 100, 0, 1, big), big, 200)).toMatchObject({
      moving: false,
      changed: 0,
    });
    const r = det.detect(frame([], 100, 0, 1, big), big, 300);
    expect(r).toMatchObject({ moving: true, movingCells: 4 });
    expect(r.region).toEqual({ x1: 320, y1: 224, x2: 384, y2: 288 });
  });
});
