import type { Box } from '../../models/types.js';

/**
 * Constant-velocity Kalman filter on one coordinate: state [position, velocity], covariance 2×2. The box
 * filter runs four of these (centre x, centre y, width, height). With the noise diagonal per coordinate,
 * as in SORT and DeepSORT, four 2-state filters are the 8-state filter exactly, at a fraction of the cost.
 */
class AxisFilter {
  p: number;
  v = 0;
  private p00: number;
  private p01 = 0;
  private p11: number;

  constructor(position: number, positionStd: number, velocityStd: number) {
    this.p = position;
    this.p00 = positionStd * positionStd;
    this.p11 = velocityStd * velocityStd;
  }

  /** Advances dt seconds; `accelStd` is the white-noise acceleration (units per s²). */
  predict(dt: number, accelStd: number, freezeVelocity = false): void {
    if (freezeVelocity) this.v = 0;
    if (dt <= 0) return;
    this.p += this.v * dt;
    const q = accelStd * accelStd;
    const dt2 = dt * dt;
    // P = F P Fᵀ + Q, F = [[1, dt], [0, 1]], Q = q·[[dt⁴/4, dt³/2], [dt³/2, dt²]]
    const p00 = this.p00 + 2 * dt * this.p01 + dt2 * this.p11 + (q * dt2 * dt2) / 4;
    const p01 = this.p01 + dt * this.p11 + (q * dt2 * dt) / 2;
    const p11 = this.p11 + q * dt2;
    this.p00 = p00;
    this.p01 = p01;
    this.p11 = p11;
  }

  update(z: number, measurementStd: number): void {
    const r = measurementStd * measurementStd;
    const s = this.p00 + r;
    const k0 = this.p00 / s;
    const k1 = this.p01 / s;
    const y = z - this.p;
    this.p += k0 * y;
    this.v += k1 * y;
    const p00 = (1 - k0) * this.p00;
    const p01 = (1 - k0) * this.p01;
    const p11 = this.p11 - k1 * this.p01;
    this.p00 = p00;
    this.p01 = p01;
    this.p11 = p11;
  }
}

/** Noise scales, as multiples of the box height (so a far, small person is not held to a near one's pixels). */
export interface BoxNoise {
  /** Measurement noise of a detection's centre and size. */
  measurement: number;
  /** Random acceleration of the centre, per s². */
  accel: number;
  /** Random change rate of the size, per s². */
  sizeAccel: number;
  /** Uncertainty of a new track's velocity, per s. */
  initialVelocity: number;
}

export const defaultBoxNoise: BoxNoise = { measurement: 0.05, accel: 1, sizeAccel: 0.25, initialVelocity: 1 };

/** Constant-velocity motion model of a box: centre and size, each with its own velocity. */
export class BoxKalman {
  private readonly cx: AxisFilter;
  private readonly cy: AxisFilter;
  private readonly w: AxisFilter;
  private readonly h: AxisFilter;

  constructor(
    box: Box,
    private readonly noise: BoxNoise = defaultBoxNoise,
  ) {
    const { cx, cy, w, h } = centreForm(box);
    const m = noise.measurement * h;
    const v = noise.initialVelocity * h;
    this.cx = new AxisFilter(cx, 2 * m, v);
    this.cy = new AxisFilter(cy, 2 * m, v);
    this.w = new AxisFilter(w, 2 * m, v / 2);
    this.h = new AxisFilter(h, 2 * m, v / 2);
  }

  /** Moves the state dt seconds ahead. A lost track keeps its size: its growth rate is not trusted blind. */
  predict(dt: number, keepSize = false): void {
    const scale = Math.max(1, this.h.p);
    this.cx.predict(dt, this.noise.accel * scale);
    this.cy.predict(dt, this.noise.accel * scale);
    this.w.predict(dt, this.noise.sizeAccel * scale, keepSize);
    this.h.predict(dt, this.noise.sizeAccel * scale, keepSize);
  }

  update(box: Box): void {
    const { cx, cy, w, h } = centreForm(box);
    const m = Math.max(1, this.noise.measurement * h);
    this.cx.update(cx, m);
    this.cy.update(cy, m);
    this.w.update(w, m);
    this.h.update(h, m);
  }

  /** The current estimate as a box. */
  box(): Box {
    const w = Math.max(1, this.w.p);
    const h = Math.max(1, this.h.p);
    return { x1: this.cx.p - w / 2, y1: this.cy.p - h / 2, x2: this.cx.p + w / 2, y2: this.cy.p + h / 2 };
  }

  /** Centre velocity, pixels per second. */
  velocity(): { vx: number; vy: number } {
    return { vx: this.cx.v, vy: this.cy.v };
  }
}

function centreForm(b: Box) {
  return { cx: (b.x1 + b.x2) / 2, cy: (b.y1 + b.y2) / 2, w: b.x2 - b.x1, h: b.y2 - b.y1 };
}
