import { describe, expect, it } from 'vitest';
import type { FrameEstimate } from '../../../models/pm25/estimator.js';
import type { GateFlag } from '../../../models/pm25/gates.js';
import { Pm25Payload } from '../../../models/pm25/payloads.js';
import { aggregateWindow } from '../../../models/pm25/window.js';

const start = new Date('2025-02-18T10:00:00Z');

/** A frame that passed the gates, its band a fixed ratio around the value and its features tied to it. */
function passed(pm25: number, over: Partial<FrameEstimate> = {}): FrameEstimate {
  return {
    ts: start.toISOString(),
    estimable: true,
    flags: [],
    pm25,
    i80: [pm25 / 2, pm25 * 2],
    i95: [pm25 / 4, pm25 * 4],
    source: 'physical-prior',
    features: {
      betaPerKm: pm25 / 100,
      visibilityKm: 391.2 / pm25,
      angstrom: 1.2,
      skyLuminance: 0.6,
      skyBlueRed: 1.1,
      skySaturation: 0.1,
      sharpness: 0.3,
      transmission: {},
    },
    calibration: { state: 'uncalibrated', samples: 0, lastRefit: null },
    ...over,
  };
}

function withheld(flags: GateFlag[], over: Partial<FrameEstimate> = {}): FrameEstimate {
  return { ...passed(0), estimable: false, flags, pm25: null, i80: null, i95: null, source: null, ...over };
}

describe('aggregateWindow', () => {
  it('publishes the numeric median of an odd number of frames, untouched by an outlier', () => {
    const out = aggregateWindow('cam', start, 15, [
      passed(30),
      passed(9),
      passed(900),
      passed(20),
      passed(25),
    ]);
    expect(out.pm25).toBe(25);
    expect(out.estimable).toBe(true);
    expect(out.frames).toBe(5);
    expect(out.framesUsed).toBe(5);
    expect(Pm25Payload.parse(out)).toEqual(out);
  });

  it('averages the two middle values for an even number of frames', () => {
    expect(aggregateWindow('cam', start, 15, [passed(40), passed(10), passed(20), passed(30)]).pm25).toBe(25);
  });

  it('takes each band edge and each feature as its own median', () => {
    const frames = [
      passed(10, { i80: [1, 50], i95: [0.5, 80] }),
      passed(20, { i80: [8, 30], i95: [4, 60] }),
      passed(30, { i80: [5, 40], i95: [2, 70] }),
    ];
    frames[0]!.features.angstrom = 2;
    frames[1]!.features.angstrom = 0.4;
    frames[2]!.features.angstrom = 1.1;
    const out = aggregateWindow('cam', start, 15, frames);
    // Edge by edge, not the band of the median frame ([8, 30]).
    expect(out.interval80).toEqual([5, 40]);
    expect(out.interval95).toEqual([2, 70]);
    expect(out.features.angstrom).toBe(1.1);
    expect(out.features.betaPerKm).toBeCloseTo(0.2, 12);
    expect(out.features.visibilityKm).toBeCloseTo(391.2 / 20, 12);
    expect(out.features.sharpness).toBe(0.3);
  });

  it('uses only frames that passed the gates, and counts every raised flag', () => {
    const frames = [
      passed(10),
      withheld(['night', 'low_light']),
      passed(12),
      withheld(['blur']),
      withheld(['night']),
      passed(14),
      // Claims to pass but has no value: not used.
      passed(0, { pm25: null }),
    ];
    const out = aggregateWindow('cam', start, 15, frames);
    expect(out.pm25).toBe(12);
    expect(out.frames).toBe(7);
    expect(out.framesUsed).toBe(3);
    expect(out.flags).toEqual({ night: 2, low_light: 1, blur: 1 });
  });

  it('leaves out features a frame could not measure instead of counting them as zero', () => {
    const frames = [passed(10), passed(20), passed(30)];
    frames[0]!.features.betaPerKm = null;
    frames[1]!.features.betaPerKm = null;
    frames[0]!.features.sharpness = 0.1;
    frames[1]!.features.sharpness = 0.5;
    frames[2]!.features.sharpness = NaN;
    const out = aggregateWindow('cam', start, 15, frames);
    expect(out.features.betaPerKm).toBeCloseTo(0.3, 12);
    expect(out.features.sharpness).toBeCloseTo(0.3, 12);
  });

  it('withholds the window when no frame passed, with nulls and the flags that withheld it', () => {
    const out = aggregateWindow('cam', start, 15, [
      withheld(['night']),
      withheld(['night', 'fog'], { calibration: { state: 'calibrating', samples: 7, lastRefit: null } }),
    ]);
    expect(out.estimable).toBe(false);
    expect(out.pm25).toBeNull();
    expect(out.interval80).toBeNull();
    expect(out.interval95).toBeNull();
    expect(out.source).toBeNull();
    expect(out.framesUsed).toBe(0);
    expect(out.features).toEqual({
      betaPerKm: null,
      visibilityKm: null,
      angstrom: null,
      skyBlueRed: null,
      skySaturation: null,
      sharpness: null,
    });
    expect(out.flags).toEqual({ night: 2, fog: 1 });
    expect(out.calibration).toEqual({ state: 'calibrating', samples: 7, lastRefit: null });
    expect(Pm25Payload.parse(out)).toEqual(out);
  });

  it('says site-model when any used frame came from it, physical-prior otherwise', () => {
    const prior = [passed(10), passed(20)];
    expect(aggregateWindow('cam', start, 15, prior).source).toBe('physical-prior');
    expect(aggregateWindow('cam', start, 15, [...prior, passed(30, { source: 'site-model' })]).source).toBe(
      'site-model',
    );
    // A withheld frame does not count, whatever source it carries.
    const stale = withheld(['blur'], { source: 'site-model' });
    expect(aggregateWindow('cam', start, 15, [...prior, stale]).source).toBe('physical-prior');
  });

  it('stamps the window: ts is its end, windowStart its start, in ISO 8601', () => {
    const out = aggregateWindow('milan-south', start, 15, [passed(10)]);
    expect(out.camera).toBe('milan-south');
    expect(out.windowStart).toBe('2025-02-18T10:00:00.000Z');
    expect(out.ts).toBe('2025-02-18T10:15:00.000Z');
    expect(out.windowMinutes).toBe(15);
    expect(out.unit).toBe('ug/m3');
    expect(aggregateWindow('cam', start, 2.5, [passed(10)]).ts).toBe('2025-02-18T10:02:30.000Z');
  });

  it('reports the calibration of the last frame, as a copy', () => {
    const last = { state: 'calibrated' as const, samples: 60, lastRefit: '2025-02-18T09:00:00.000Z' };
    const frames = [passed(10, { calibration: { state: 'calibrating', samples: 40, lastRefit: null } })];
    frames.push(passed(20, { calibration: last }));
    const out = aggregateWindow('cam', start, 15, frames);
    expect(out.calibration).toEqual(last);
    expect(out.calibration).not.toBe(last);
    expect(aggregateWindow('cam', start, 15, []).calibration).toEqual({
      state: 'uncalibrated',
      samples: 0,
      lastRefit: null,
    });
  });
});
