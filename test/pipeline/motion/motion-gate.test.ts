import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { Letterbox } from '../../../models/types.js';
import { GreyDownscaler } from '../../../pipeline/motion/grey-frame.js';
import { MotionGate, type GateDecision } from '../../../pipeline/motion/motion-gate.js';

const spec = { width: 320, height: 320, padPosition: 'center' as const };
// a 640×480 source: 320×240 inside the input, 40 px of padding above and below
const lb: Letterbox = computeLetterbox(640, 480, spec);

/** The scene's floor: a checkerboard of 40-source-pixel squares, grey levels 80 and 140. */
const floor = new Uint8Array(lb.scaledWidth * lb.scaledHeight);
for (let y = 0; y < lb.scaledHeight; y++) {
  for (let x = 0; x < lb.scaledWidth; x++) {
    const sx = (x * lb.srcWidth) / lb.scaledWidth;
    const sy = (y * lb.srcHeight) / lb.scaledHeight;
    floor[y * lb.scaledWidth + x] = 80 + ((Math.floor(sx / 40) + Math.floor(sy / 40)) % 2) * 60;
  }
}

/** A deterministic scene: the floor, optional solid squares (source pixels), a brightness offset, ±3 noise. */
function scene(
  squares: { x: number; y: number; size: number; value: number }[] = [],
  offset = 0,
  seed = 1,
): Uint8Array {
  const data = new Uint8Array(lb.inputWidth * lb.inputHeight * 3).fill(114);
  const k = lb.srcWidth / lb.scaledWidth; // source pixels per scaled pixel (same both ways here)
  let s = seed;
  for (let y = 0; y < lb.scaledHeight; y++) {
    let i = ((y + lb.padY) * lb.inputWidth + lb.padX) * 3;
    for (let x = 0; x < lb.scaledWidth; x++, i += 3) {
      let v = floor[y * lb.scaledWidth + x]!;
      for (const q of squares)
        if (x * k >= q.x && x * k < q.x + q.size && y * k >= q.y && y * k < q.y + q.size) v = q.value;
      s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
      v = Math.max(0, Math.min(255, v + offset + (s % 7) - 3));
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
    }
  }
  return data;
}

function runGate(gate: MotionGate, frames: Uint8Array[]): GateDecision[] {
  return frames.map((data, f) => gate.decide({ data, letterbox: lb, ts: 1e12 + f * 100, pts: f / 10 }));
}

const still = (n: number) => Array.from({ length: n }, (_, f) => scene([], 0, f + 1));

describe('MotionGate on synthetic frames', () => {
  it('a still scene (sensor noise only) runs at the heartbeat rate', () => {
    const gate = new MotionGate({ enabled: true, heartbeatFps: 1 });
    const decisions = runGate(gate, still(100));
    const inferred = decisions.flatMap((d, f) => (d === 'gated' ? [] : [f]));
    expect(inferred).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(gate.counts).toMatchObject({ inferred: 10, gated: 90, first: 1, heartbeat: 9, motion: 0 });
  });

  it('a moving object runs at full rate, and for holdS after it stops moving', () => {
    const gate = new MotionGate({ enabled: true, heartbeatFps: 1, holdS: 1 });
    // still 0..19, a dark square walks 8 px/frame on 20..49, then leaves the picture
    const frames = Array.from({ length: 100 }, (_, f) =>
      f >= 20 && f < 50
        ? scene([{ x: 100 + (f - 20) * 8, y: 200, size: 60, value: 10 }], 0, f + 1)
        : scene([], 0, f + 1),
    );
    const moving: boolean[] = [];
    const decisions = frames.map((data, f) => {
      const d = gate.decide({ data, letterbox: lb, ts: 1e12 + f * 100, pts: f / 10 });
      moving.push(gate.last!.moving);
      return d;
    });
    expect(decisions.slice(0, 20).filter((d) => d !== 'gated')).toEqual(['first', 'heartbeat']);
    expect(decisions.slice(20, 50).every((d) => d === 'motion')).toBe(true);
    // Where the square last was differs from the background until the background forgets it (its leaving
    // is a change too), within about twice backgroundS; then full rate for holdS, then the heartbeat.
    const lastMoving = moving.lastIndexOf(true);
    expect(lastMoving).toBeGreaterThanOrEqual(49);
    expect(lastMoving).toBeLessThan(50 + 12);
    expect(decisions.slice(lastMoving + 1, lastMoving + 11).every((d) => d === 'motion')).toBe(true);
    expect(decisions.slice(lastMoving + 11, lastMoving + 20).every((d) => d === 'gated')).toBe(true);
    expect(decisions[lastMoving + 20]).toBe('heartbeat');
    expect(gate.last?.moving).toBe(false);
  });

  it('reports where the motion is, in source pixels', () => {
    const gate = new MotionGate({ enabled: true });
    runGate(gate, [scene(), scene([{ x: 300, y: 200, size: 80, value: 250 }])]);
    const r = gate.last!.region!;
    expect(r.x1).toBeLessThanOrEqual(300);
    expect(r.y1).toBeLessThanOrEqual(200);
    expect(r.x2).toBeGreaterThanOrEqual(380);
    expect(r.y2).toBeGreaterThanOrEqual(280);
    // within a cell (8 grey px = 32 source px) of the square
    expect(r.x1).toBeGreaterThan(300 - 33);
    expect(r.x2).toBeLessThan(380 + 33);
  });

  it('ignores motion inside a mask polygon', () => {
    const mask: [number, number][] = [
      [0, 0],
      [320, 0],
      [320, 480],
      [0, 480],
    ];
    const gate = new MotionGate({ enabled: true, heartbeatFps: 1, masks: [mask] });
    const frames = Array.from({ length: 40 }, (_, f) =>
      scene([{ x: 40 + f * 5, y: 100, size: 60, value: 10 }], 0, f + 1),
    );
    const decisions = runGate(gate, frames);
    expect(decisions.filter((d) => d === 'motion')).toEqual([]);
    expect(gate.counts.inferred).toBe(4); // first + heartbeats at 1, 2, 3 s
  });

  it('a lighting change is one scene change, then the scene is still again', () => {
    const gate = new MotionGate({ enabled: true, heartbeatFps: 1, holdS: 0 });
    const frames = [...still(5), ...Array.from({ length: 15 }, (_, f) => scene([], 70, f + 100))];
    const decisions = runGate(gate, frames);
    expect(decisions[5]).toBe('scene-change');
    expect(decisions.slice(6, 15).every((d) => d === 'gated')).toBe(true);
    expect(decisions[15]).toBe('heartbeat');
  });

  it('an object that parks fades into the background and the rate falls back to the heartbeat', () => {
    const gate = new MotionGate({ enabled: true, heartbeatFps: 1, holdS: 1 });
    const parked = { x: 200, y: 200, size: 80, value: 250 };
    const frames = Array.from({ length: 200 }, (_, f) =>
      f < 10 ? scene([], 0, f + 1) : scene([parked], 0, f + 1),
    );
    const decisions = runGate(gate, frames);
    expect(decisions[10]).toBe('motion');
    const lastMotion = decisions.lastIndexOf('motion');
    // faded within ~2 × backgroundS (0.5 s), plus the 1 s hold: well inside 4 s of parking
    expect(lastMotion).toBeLessThan(10 + 40);
    expect(decisions.slice(lastMotion + 1).filter((d) => d !== 'gated').length).toBeLessThanOrEqual(
      Math.ceil((200 - lastMotion) / 10),
    );
  });

  it('off: every frame goes to inference and no motion is computed', () => {
    const gate = new MotionGate({ enabled: false });
    expect(runGate(gate, still(5))).toEqual(['off', 'off', 'off', 'off', 'off']);
    expect(gate.last).toBeUndefined();
  });
});

describe('GreyDownscaler', () => {
  it('reads only the picture, not the padding, and is the same for RGB and BGR', () => {
    const data = new Uint8Array(lb.inputWidth * lb.inputHeight * 3).fill(114);
    for (let y = 0; y < lb.scaledHeight; y++) {
      for (let x = 0; x < lb.scaledWidth; x++) {
        const i = ((y + lb.padY) * lb.inputWidth + x + lb.padX) * 3;
        data.set([200, 100, 40], i);
      }
    }
    const swapped = data.slice();
    for (let i = 0; i < swapped.length; i += 3) [swapped[i], swapped[i + 2]] = [swapped[i + 2]!, swapped[i]!];
    const g = new GreyDownscaler(lb, 160);
    expect([g.width, g.height]).toEqual([160, 120]);
    const a = new Uint8Array(g.width * g.height);
    const b = new Uint8Array(g.width * g.height);
    g.fill(data, a);
    g.fill(swapped, b);
    expect(new Set(a)).toEqual(new Set([(200 + 2 * 100 + 40) >> 2]));
    expect(b).toEqual(a);
  });
});
