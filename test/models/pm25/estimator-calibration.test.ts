import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pm25Estimator, type FrameEstimate } from '../../../models/pm25/estimator.js';
import { derivePhysics } from '../../../models/pm25/physics.js';
import { priorInterval } from '../../../models/pm25/physical-prior.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { hasShared } from '../../support/shared.js';
import {
  at,
  cfg,
  DAY,
  expectOrderedBands,
  HOUR,
  labels,
  MIN,
  NIGHT,
  raw,
  statePath,
  useMeasuredFrames,
  xOf,
} from './estimator-fixture.js';
import { milanConfig } from './helpers.js';

// The estimator's calibration: readings paired with frames, the prior then the site model, persisted.

useMeasuredFrames();

describe.skipIf(!hasShared)('Pm25Estimator', () => {
  it('pairs a reading with the nearest evaluated frame, within pairWithinMinutes, each frame once', async () => {
    const file = statePath();
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    const pairs = () => loadState(file)!.calibrator.pairs;
    est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-10T10:00'));
    est.estimateFromRaw(raw.get(DAY[1]!)!, at('2025-02-10T10:30'));
    expect(xOf(DAY[0]!)).not.toEqual(xOf(DAY[1]!));

    // 10:20 is nearer the 10:30 frame (after it) than the 10:00 one.
    expect(est.addReading({ ts: at('2025-02-10T10:20'), pm25: 30 })).toBe(true);
    expect(pairs()).toEqual([{ ts: at('2025-02-10T10:20').getTime(), x: xOf(DAY[1]!), y: Math.log(30) }]);
    // 10:25 is less than 10 minutes from the 10:20 pair: not fitted (minPairSpacingMs), no frame used up.
    expect(est.offerReading({ ts: at('2025-02-10T10:25'), pm25: 20 })).toEqual({
      paired: false,
      why: 'too-close',
    });
    // 10:35 is nearer 10:30 too, but that frame is taken: the 10:00 one (35 min away) pairs.
    expect(est.addReading({ ts: at('2025-02-10T10:35'), pm25: 20 })).toBe(true);
    expect(pairs()[1]!.x).toEqual(xOf(DAY[0]!));
    // Both used: nothing left to pair with.
    expect(est.offerReading({ ts: at('2025-02-10T10:50'), pm25: 25 })).toEqual({
      paired: false,
      why: 'no-frame',
    });
    expect(est.status().samples).toBe(2);

    // The window is inclusive at pairWithinMinutes (40) and not a second more, on either side.
    est.estimateFromRaw(raw.get(DAY[2]!)!, at('2025-02-10T12:00'));
    expect(
      est.addReading({ ts: new Date(at('2025-02-10T12:00').getTime() + 40 * MIN + 1000), pm25: 20 }),
    ).toBe(false);
    expect(
      est.addReading({ ts: new Date(at('2025-02-10T12:00').getTime() - 40 * MIN - 1000), pm25: 20 }),
    ).toBe(false);
    // A reading that cannot pair (no PM2.5) does not use the frame up.
    expect(est.addReading({ ts: at('2025-02-10T12:00'), pm25: 0 })).toBe(false);
    expect(est.addReading({ ts: at('2025-02-10T12:00'), pm25: Number.NaN })).toBe(false);
    expect(est.addReading({ ts: at('2025-02-10T12:40'), pm25: 20 })).toBe(true);
    expect(pairs()[2]).toEqual({ ts: at('2025-02-10T12:40').getTime(), x: xOf(DAY[2]!), y: Math.log(20) });

    // Frames the gates withheld are never paired: a reading at the night frame's time is dropped.
    est.estimateFromRaw(raw.get(NIGHT)!, at('2025-02-10T21:00'));
    expect(est.addReading({ ts: at('2025-02-10T21:00'), pm25: 40 })).toBe(false);
    expect(pairs()).toHaveLength(3);
    await est.close();
  });

  it('keeps frames a few hours for late readings (an hourly mean lands after its hour), not for ever', async () => {
    const est = await Pm25Estimator.create(cfg);
    // Frames every hour 09:00-14:00; the 09:00 reading arrives after all of them (5 h late) and still pairs.
    for (let h = 0; h < 6; h++)
      est.estimateFromRaw(raw.get(DAY[h]!)!, new Date(at('2025-02-10T09:00').getTime() + h * HOUR));
    expect(est.addReading({ ts: at('2025-02-10T09:00'), pm25: 30 })).toBe(true);
    // A frame at 16:00 is more than six hours after 09:30; a reading for 09:30 (pairs with 10:00) is too late.
    est.estimateFromRaw(raw.get(DAY[6]!)!, at('2025-02-10T16:30'));
    expect(est.addReading({ ts: at('2025-02-10T10:00'), pm25: 30 })).toBe(false);
    expect(est.addReading({ ts: at('2025-02-10T11:00'), pm25: 30 })).toBe(true);
    await est.close();
  });

  it('uses the physical prior until 4 pairs, then the site model; calibrating, then calibrated at minSamples', async () => {
    const file = statePath();
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    const seen: FrameEstimate[] = [];
    for (let i = 0; i < DAY.length; i++) {
      const ts = new Date(at('2025-02-10T09:00').getTime() + i * HOUR);
      const e = est.estimateFromRaw(raw.get(DAY[i]!)!, ts);
      seen.push(e);
      expectOrderedBands(e);
      expect(e.calibration.samples).toBe(i);
      if (i < 4) {
        expect(e.calibration.state).toBe('uncalibrated');
        expect(e.source).toBe('physical-prior');
        const prior = priorInterval(cfg.prior, derivePhysics(cfg, raw.get(DAY[i]!)!));
        expect(e.pm25).toBeCloseTo(prior.pm25, 9);
        expect(e.i80).toEqual(prior.i80);
        expect(e.i95).toEqual(prior.i95);
        expect(e.calibration.lastRefit).toBeNull();
      } else {
        expect(e.calibration.state).toBe(i < cfg.calibration.minSamples ? 'calibrating' : 'calibrated');
        expect(e.source).toBe('site-model');
        expect(e.calibration.lastRefit).not.toBeNull();
      }
      expect(est.addReading({ ts: new Date(ts.getTime() + 5 * MIN), pm25: labels[i]! })).toBe(true);
    }
    expect(seen.map((e) => e.calibration.state)).toEqual([
      ...Array<string>(4).fill('uncalibrated'),
      'calibrating',
      'calibrating',
      'calibrated',
      'calibrated',
      'calibrated',
    ]);
    // The site model is not the prior: the labels pulled it somewhere else.
    const prior = priorInterval(cfg.prior, derivePhysics(cfg, raw.get(DAY[8]!)!));
    expect(Math.abs(Math.log(seen[8]!.pm25! / prior.pm25))).toBeGreaterThan(0.05);
    expect(est.status()).toMatchObject({ state: 'calibrated', samples: DAY.length });
    await est.close();
  });

  it('persists its calibration to a real file on every pair, and resumes it after a restart', async () => {
    const file = statePath();
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    for (let i = 0; i < 7; i++) {
      const ts = new Date(at('2025-02-10T09:00').getTime() + i * HOUR);
      est.estimateFromRaw(raw.get(DAY[i]!)!, ts);
      est.addReading({ ts, pm25: labels[i]! });
    }
    expect(est.status()).toMatchObject({ state: 'calibrated', samples: 7 });
    // No close: a crash now must not lose the pairs. Written by rename, nothing half-written left beside it.
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    const resumed = await Pm25Estimator.create(cfg, { statePath: file });
    expect(resumed.status()).toEqual(est.status());
    const ts = at('2025-02-18T11:00');
    const a = est.estimateFromRaw(raw.get(DAY[8]!)!, ts);
    const b = resumed.estimateFromRaw(raw.get(DAY[8]!)!, ts);
    expect(b.source).toBe('site-model');
    expect(b.pm25).toBe(a.pm25);
    expect(b.i80).toEqual(a.i80);
    expect(b.i95).toEqual(a.i95);
    expect(b.calibration).toEqual(a.calibration);
    // The sharpness baselines persist with it.
    await est.close();
    expect(loadState(file)!.gates.sharpnessCount.reduce((s, c) => s + c, 0)).toBeGreaterThan(0);
    await resumed.close();

    // Another regressor set: the stored pairs mean something else, calibration starts over.
    const other = milanConfig({
      calibration: { ...cfg.calibration, features: ['lnBeta', 'lnSkyLuminance'] },
    });
    const restarted = await Pm25Estimator.create(other, { statePath: file });
    expect(restarted.status()).toEqual({ state: 'uncalibrated', samples: 0, lastRefit: null });
    expect(restarted.estimateFromRaw(raw.get(DAY[8]!)!, ts).source).toBe('physical-prior');
    await restarted.close();
    // Without a file there is nothing to resume.
    const fresh = await Pm25Estimator.create(cfg, { statePath: statePath() });
    expect(fresh.status()).toEqual({ state: 'uncalibrated', samples: 0, lastRefit: null });
    await fresh.close();
  });
});
