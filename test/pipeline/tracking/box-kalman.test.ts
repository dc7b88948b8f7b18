import { describe, expect, it } from 'vitest';
import type { Box } from '../../../models/types.js';
import { BoxKalman, defaultBoxNoise, type BoxNoise } from '../../../pipeline/tracking/box-kalman.js';

const box = (cx: number, cy: number, w: number, h: number): Box => ({
  x1: cx - w / 2,
  y1: cy - h / 2,
  x2: cx + w / 2,
  y2: cy + h / 2,
});
const centre = (b: Box) => ({ cx: (b.x1 + b.x2) / 2, cy: (b.y1 + b.y2) / 2, w: b.x2 - b.x1, h: b.y2 - b.y1 });

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type M2 = [[number, number], [number, number]];
const mul = (a: M2, b: M2): M2 => [
  [a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]],
  [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]],
];
const add = (a: M2, b: M2): M2 => [
  [a[0][0] + b[0][0], a[0][1] + b[0][1]],
  [a[1][0] + b[1][0], a[1][1] + b[1][1]],
];
const transpose = (a: M2): M2 => [
  [a[0][0], a[1][0]],
  [a[0][1], a[1][1]],
];

/**
 * The textbook constant-velocity Kalman filter on one coordinate, in matrix form: x = [position, velocity],
 * F = [[1, dt], [0, 1]], Q from white-noise acceleration (Γ q Γᵀ, Γ = [dt²/2, dt]), H = [1, 0].
 */
class ReferenceAxis {
  x: [number, number];
  P: M2;
  constructor(position: number, positionStd: number, velocityStd: number) {
    this.x = [position, 0];
    this.P = [
      [positionStd ** 2, 0],
      [0, velocityStd ** 2],
    ];
  }
  predict(dt: number, accelStd: number, freezeVelocity: boolean) {
    if (freezeVelocity) this.x[1] = 0;
    if (dt <= 0) return;
    const F: M2 = [
      [1, dt],
      [0, 1],
    ];
    const g = [(dt * dt) / 2, dt];
    const q = accelStd ** 2;
    const Q: M2 = [
      [q * g[0]! * g[0]!, q * g[0]! * g[1]!],
      [q * g[1]! * g[0]!, q * g[1]! * g[1]!],
    ];
    this.x = [this.x[0] + dt * this.x[1], this.x[1]];
    this.P = add(mul(mul(F, this.P), transpose(F)), Q);
  }
  update(z: number, std: number) {
    const S = this.P[0][0] + std ** 2;
    const K = [this.P[0][0] / S, this.P[1][0] / S];
    const y = z - this.x[0];
    this.x = [this.x[0] + K[0]! * y, this.x[1] + K[1]! * y];
    const IKH: M2 = [
      [1 - K[0]!, 0],
      [-K[1]!, 1],
    ];
    this.P = mul(IKH, this.P);
  }
}

/** Four reference axes with the noise BoxKalman documents: scales are multiples of the box height. */
class ReferenceBox {
  axes: Record<'cx' | 'cy' | 'w' | 'h', ReferenceAxis>;
  constructor(
    b: Box,
    private readonly noise: BoxNoise,
  ) {
    const c = centre(b);
    const m = noise.measurement * c.h;
    const v = noise.initialVelocity * c.h;
    this.axes = {
      cx: new ReferenceAxis(c.cx, 2 * m, v),
      cy: new ReferenceAxis(c.cy, 2 * m, v),
      w: new ReferenceAxis(c.w, 2 * m, v / 2),
      h: new ReferenceAxis(c.h, 2 * m, v / 2),
    };
  }
  predict(dt: number, keepSize: boolean) {
    const scale = Math.max(1, this.axes.h.x[0]);
    this.axes.cx.predict(dt, this.noise.accel * scale, false);
    this.axes.cy.predict(dt, this.noise.accel * scale, false);
    this.axes.w.predict(dt, this.noise.sizeAccel * scale, keepSize);
    this.axes.h.predict(dt, this.noise.sizeAccel * scale, keepSize);
  }
  update(b: Box) {
    const c = centre(b);
    const std = Math.max(1, this.noise.measurement * c.h);
    for (const k of ['cx', 'cy', 'w', 'h'] as const) this.axes[k].update(c[k], std);
  }
  state() {
    return { cx: this.axes.cx.x[0], cy: this.axes.cy.x[0], w: this.axes.w.x[0], h: this.axes.h.x[0] };
  }
}

const close = (a: number, b: number, tol = 1e-6) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThan(tol);

describe('BoxKalman', () => {
  it('starts at the detection, standing still', () => {
    const b = { x1: 10, y1: 20, x2: 50, y2: 120 };
    const k = new BoxKalman(b);
    expect(k.box()).toEqual(b);
    expect(k.velocity()).toEqual({ vx: 0, vy: 0 });
    // standing still it stays put however far ahead it predicts
    k.predict(3);
    expect(k.box()).toEqual(b);
  });

  it('is the textbook filter on each of centre x, centre y, width and height', () => {
    const r = rng(7);
    for (const noise of [
      defaultBoxNoise,
      { measurement: 0.1, accel: 3, sizeAccel: 0.5, initialVelocity: 2 },
    ]) {
      let truth = { cx: 300, cy: 200, w: 60, h: 150, vx: 80, vy: -20, vh: 15 };
      const first = box(truth.cx, truth.cy, truth.w, truth.h);
      const k = new BoxKalman(first, noise);
      const ref = new ReferenceBox(first, noise);
      for (let f = 1; f <= 60; f++) {
        const dt = 0.05 + r() * 0.2;
        const lost = f % 11 > 7; // now and then a few frames unseen: size kept, no update
        truth = {
          ...truth,
          cx: truth.cx + truth.vx * dt,
          cy: truth.cy + truth.vy * dt,
          h: truth.h + truth.vh * dt,
        };
        k.predict(dt, lost);
        ref.predict(dt, lost);
        if (!lost) {
          const seen = box(
            truth.cx + (r() - 0.5) * 6,
            truth.cy + (r() - 0.5) * 6,
            truth.w + r() * 4,
            truth.h + r() * 4,
          );
          k.update(seen);
          ref.update(seen);
        }
        const got = centre(k.box());
        const want = ref.state();
        close(got.cx, want.cx);
        close(got.cy, want.cy);
        close(got.w, want.w);
        close(got.h, want.h);
        close(k.velocity().vx, ref.axes.cx.x[1]);
        close(k.velocity().vy, ref.axes.cy.x[1]);
      }
    }
  });

  it('learns a constant velocity and carries it forward', () => {
    // walking right at 100 px/s and down at 30 px/s, 10 fps
    const k = new BoxKalman(box(100, 200, 40, 100));
    for (let f = 1; f <= 30; f++) {
      k.predict(0.1);
      k.update(box(100 + f * 10, 200 + f * 3, 40, 100));
    }
    const { vx, vy } = k.velocity();
    expect(Math.abs(vx - 100)).toBeLessThan(5);
    expect(Math.abs(vy - 30)).toBeLessThan(3);
    const before = centre(k.box());
    expect(Math.abs(before.cx - 400)).toBeLessThan(2);
    k.predict(0.5);
    const after = centre(k.box());
    expect(Math.abs(after.cx - before.cx - 50)).toBeLessThan(3);
    expect(Math.abs(after.cy - before.cy - 15)).toBeLessThan(2);
    // the size stays what was seen
    expect(Math.abs(after.w - 40)).toBeLessThan(1);
    expect(Math.abs(after.h - 100)).toBeLessThan(1);
  });

  it('an update moves the estimate toward the detection, not onto it', () => {
    const k = new BoxKalman(box(100, 100, 40, 100));
    for (let f = 0; f < 10; f++) {
      k.predict(0.1);
      k.update(box(100, 100, 40, 100));
    }
    k.predict(0.1);
    k.update(box(120, 90, 40, 100)); // a jump: 20 px right, 10 up
    const c = centre(k.box());
    expect(c.cx).toBeGreaterThan(100);
    expect(c.cx).toBeLessThan(120);
    expect(c.cy).toBeLessThan(100);
    expect(c.cy).toBeGreaterThan(90);
    expect(k.velocity().vx).toBeGreaterThan(0);
    expect(k.velocity().vy).toBeLessThan(0);
  });

  it('a lost track keeps its size, not its growth; its centre keeps moving', () => {
    const grow = () => {
      const k = new BoxKalman(box(100, 300, 40, 100));
      for (let f = 1; f <= 20; f++) {
        k.predict(0.1);
        k.update(box(100 + f * 5, 300, 40 + f * 2, 100 + f * 5)); // approaching: growing 50 px/s in height
      }
      return k;
    };
    const seen = centre(grow().box());
    const free = grow();
    free.predict(1);
    const kept = grow();
    kept.predict(1, true);
    const a = centre(free.box());
    const b = centre(kept.box());
    expect(a.h - seen.h).toBeGreaterThan(30);
    expect(a.w - seen.w).toBeGreaterThan(10);
    close(b.h, seen.h, 1e-9);
    close(b.w, seen.w, 1e-9);
    expect(b.cx - seen.cx).toBeGreaterThan(35);
    close(b.cx, a.cx, 1e-9);
    // the growth rate is dropped, not paused: it comes back only from new detections, even if the frame
    // that found the track lost came at the same scene time
    const again = grow();
    again.predict(0, true);
    again.predict(1);
    close(centre(again.box()).h, seen.h, 1e-9);
  });

  it('no time, no change', () => {
    const k = new BoxKalman(box(100, 100, 40, 100));
    for (let f = 1; f <= 5; f++) {
      k.predict(0.1);
      k.update(box(100 + f * 10, 100, 40, 100));
    }
    const b = k.box();
    k.predict(0);
    expect(k.box()).toEqual(b);
    k.predict(-0.5); // a clock going backwards is no step back in space
    expect(k.box()).toEqual(b);
    // the uncertainty did not grow either: the next update lands where it would have
    const twin = new BoxKalman(box(100, 100, 40, 100));
    for (let f = 1; f <= 5; f++) {
      twin.predict(0.1);
      twin.update(box(100 + f * 10, 100, 40, 100));
    }
    k.predict(0.1);
    twin.predict(0.1);
    k.update(box(170, 100, 40, 100));
    twin.update(box(170, 100, 40, 100));
    expect(k.box()).toEqual(twin.box());
  });

  it('noise scales with the box: the same motion three times larger gives the same estimate three times larger', () => {
    const run = (s: number) => {
      const r = rng(3);
      const k = new BoxKalman(box(100 * s, 100 * s, 20 * s, 50 * s));
      for (let f = 1; f <= 25; f++) {
        k.predict(0.1);
        k.update(box((100 + f * 4 + r() * 3) * s, (100 + r() * 3) * s, (20 + r()) * s, (50 + r() * 2) * s));
      }
      k.predict(0.7);
      return k.box();
    };
    const small = run(1);
    const large = run(3);
    for (const key of ['x1', 'y1', 'x2', 'y2'] as const) close(large[key], small[key] * 3, 1e-6);
  });

  it('never reports a box smaller than a pixel', () => {
    const k = new BoxKalman(box(50, 50, 4, 4));
    for (let f = 1; f <= 10; f++) {
      k.predict(0.1);
      k.update(box(50, 50, Math.max(0.2, 4 - f * 0.4), Math.max(0.2, 4 - f * 0.4)));
    }
    k.predict(5);
    const c = centre(k.box());
    expect(c.w).toBe(1);
    expect(c.h).toBe(1);
    close(c.cx, 50, 1e-6);
  });
});
