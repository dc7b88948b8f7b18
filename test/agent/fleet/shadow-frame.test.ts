import { describe, expect, it } from 'vitest';
import { candidateFrame } from '../../../agent/fleet/shadow-frame.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputSpec } from '../../../models/types.js';

const spec = (size: number, pixelOrder: 'rgb' | 'bgr' = 'rgb'): InputSpec => ({
  width: size,
  height: size,
  pixelOrder,
  padPosition: 'center',
  scale: 1 / 255,
  padValue: 114,
});

/** A letterboxed 320x320 input of a 640x480 source: a red picture on grey padding. */
function currentFrame() {
  const lb = computeLetterbox(640, 480, spec(320));
  const data = new Uint8Array(320 * 320 * 3).fill(114);
  for (let y = lb.padY; y < lb.padY + lb.scaledHeight; y++)
    for (let x = lb.padX; x < lb.padX + lb.scaledWidth; x++) data.set([200, 10, 10], (y * 320 + x) * 3);
  return { data, lb };
}

describe('candidateFrame', () => {
  it('the same input spec: a copy of the same pixels', async () => {
    const { data, lb } = currentFrame();
    const f = await candidateFrame(data, lb, spec(320), spec(320));
    expect(f.data).toEqual(data);
    expect(f.data).not.toBe(data);
    expect(f.letterbox).toEqual(lb);
  });

  it('another size and pixel order: re-letterboxed for the candidate, channels swapped', async () => {
    const { data, lb } = currentFrame();
    const f = await candidateFrame(data, lb, spec(320), spec(640, 'bgr'));
    const want = computeLetterbox(640, 480, spec(640));
    expect(f.letterbox).toEqual(want);
    expect(f.data.length).toBe(640 * 640 * 3);
    const px = (x: number, y: number) => [...f.data.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)];
    expect(px(320, 320)).toEqual([10, 10, 200]); // inside the picture, BGR now
    expect(px(320, 10)).toEqual([114, 114, 114]); // top padding
  });
});
