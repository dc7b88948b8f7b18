import { describe, expect, it } from 'vitest';
import { Pm25Calibration, Pm25Prior } from '../../../config/pm25-schema.js';
import { Calibrator } from '../../../models/pm25/calibrator.js';

/** Deterministic normal draws (mulberry32 + Box-Muller). */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

describe('Calibrator (ridge toward the prior + adaptive conformal)', () => {
  it('recovers a known site model and its 80 % / 95 % bands cover as they say', () => {
    const cal = new Calibrator(
      Pm25Calibration.parse({ windowDays: 1000, minSamples: 50 }),
      Pm25Prior.parse({}),
    );
    const rand = normals(7);
    const truth = { a: 3.1, b: [0.4, 0.3] };
    const draw = (i: number) => {
      const x = [-4 + rand(), -0.7 + 0.3 * rand()];
      return { ts: i * 3_600_000, x, y: truth.a + truth.b[0]! * x[0]! + truth.b[1]! * x[1]! + 0.35 * rand() };
    };
    expect(cal.status().state).toBe('uncalibrated');
    for (let i = 0; i < 600; i++) {
      cal.add(draw(i));
      if (i === 20) expect(cal.status().state).toBe('calibrating');
    }
    expect(cal.status().state).toBe('calibrated');
    const model = cal.snapshot().model!;
    expect(model.slopes[0]).toBeCloseTo(truth.b[0]!, 1);
    const centre = Math.log(cal.estimate([-4, -0.7], 0.8)!.pm25);
    expect(centre).toBeCloseTo(truth.a + truth.b[0]! * -4 + truth.b[1]! * -0.7, 1);

    let in80 = 0;
    let in95 = 0;
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const p = draw(600 + i);
      const est = cal.estimate(p.x, 0.8)!;
      const y = Math.exp(p.y);
      if (est.i80[0] <= y && y <= est.i80[1]) in80++;
      if (est.i95[0] <= y && y <= est.i95[1]) in95++;
      cal.add(p);
    }
    expect(in80 / n).toBeGreaterThan(0.75);
    expect(in80 / n).toBeLessThan(0.85);
    expect(in95 / n).toBeGreaterThan(0.92);
  });

  it('keeps the bands nested (lo95 ≤ lo80 ≤ estimate ≤ hi80 ≤ hi95) even when each level adapts fast', () => {
    // The fastest adaptation the schema allows: one reading between the two bands would push the 80 % level
    // alone to its edge, and the 80 % band past the 95 % one.
    const cal = new Calibrator(
      Pm25Calibration.parse({ intervals: 'prequential', aciGamma: 0.5, minSamples: 10 }),
      Pm25Prior.parse({}),
    );
    const rand = normals(11);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const x = [-4 + rand(), -0.7 + 0.3 * rand()];
      // Heavy tails: now and then a reading far off the model.
      const noise = 0.2 * rand() + (i % 17 === 0 ? 1.5 * rand() : 0);
      const est = cal.estimate(x, 0.8);
      if (est) {
        const [lo80, hi80] = est.i80;
        const [lo95, hi95] = est.i95;
        expect(lo95, `pair ${i}`).toBeLessThanOrEqual(lo80);
        expect(lo80, `pair ${i}`).toBeLessThanOrEqual(est.pm25);
        expect(est.pm25, `pair ${i}`).toBeLessThanOrEqual(hi80);
        expect(hi80, `pair ${i}`).toBeLessThanOrEqual(hi95);
        checked++;
      }
      cal.add({ ts: i * 3_600_000, x, y: 3 + 0.5 * x[0]! + noise });
    }
    expect(checked).toBeGreaterThan(250);
  });

  // A gateway's backlog, or one late hourly mean, arrives after newer readings have paired.
  it('refits at its newest pair when a late reading comes after newer ones, and keeps pairs in time order', () => {
    const cal = new Calibrator(Pm25Calibration.parse({ windowDays: 2, refitEvery: 1 }), Pm25Prior.parse({}));
    const H = 3_600_000;
    const pair = (h: number) => ({ ts: h * H, x: [-4 + 0.01 * h, -0.7], y: 3 + 0.01 * (h % 5) });
    for (let h = 0; h <= 60; h++) if (h !== 57) cal.add(pair(h));
    expect(cal.status().lastRefit).toBe(new Date(60 * H).toISOString());
    cal.add(pair(57));
    expect(cal.status().lastRefit).toBe(new Date(60 * H).toISOString());
    const ts = cal.snapshot().pairs.map((p) => p.ts / H);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(ts[0]).toBe(12);
    expect(ts).toContain(57);
  });

  it('starts calibration over when the persisted pairs hold another regressor set', () => {
    const two = new Calibrator(Pm25Calibration.parse({}), Pm25Prior.parse({}));
    for (let i = 0; i < 12; i++) two.add({ ts: i * 3_600_000, x: [-4 + i / 10, -0.5], y: 3 + i / 20 });
    expect(two.snapshot().model!.slopes).toHaveLength(2);
    // Same regressors after a restart: everything resumes.
    const same = new Calibrator(Pm25Calibration.parse({}), Pm25Prior.parse({}), two.snapshot());
    expect(same.status().samples).toBe(12);
    // Another set of the same length: the stored x mean something else, so nothing is reused.
    const other = new Calibrator(
      Pm25Calibration.parse({ features: ['lnBetaTotal', 'lnBetaRatio'] }),
      Pm25Prior.parse({}),
      two.snapshot(),
    );
    expect(other.status()).toMatchObject({ state: 'uncalibrated', samples: 0 });
    expect(other.estimate([-4, -3], 0.8)).toBeUndefined();
  });
});
