import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { derivePhysics } from '../../../models/pm25/physics.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { hasShared } from '../../support/shared.js';
import {
  at,
  cfg,
  DAY,
  expectOrderedBands,
  GREY,
  HOUR,
  MIN,
  NIGHT,
  raw,
  statePath,
  useMeasuredFrames,
} from './estimator-fixture.js';
import { milanConfig, milanFrame } from './helpers.js';

// The estimator's frames: which one is the reference view, the fog gate, a real frame end to end. Pairing with
// readings and the calibration are in estimator-calibration.test.ts.

useMeasuredFrames();

describe.skipIf(!hasShared)('Pm25Estimator', () => {
  it('never takes a night or dark frame as the reference view; the first good-light frame is, and stays, persisted', async () => {
    const file = statePath();
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    const night = est.estimateFromRaw(raw.get(NIGHT)!, at('2025-01-29T20:00'));
    expect(night.flags).toContain('night');
    expect(night).toMatchObject({ estimable: false, pm25: null, i80: null, i95: null, source: null });
    expect(night.features.shiftPx).toBeUndefined();
    est.save();
    expect(loadState(file)!.reference).toBeNull();

    // A frame too dark to trust, by day, without a location to call the night: not the reference either.
    const noSun = milanConfig({ latitude: undefined, longitude: undefined });
    const frame = await milanFrame(DAY[1]!, noSun);
    const dimmed = await sharp(Buffer.from(frame.rgb), { raw: { width: 960, height: 540, channels: 3 } })
      .linear(0.03, 0)
      .raw()
      .toBuffer();
    const darkFile = statePath();
    const blind = await Pm25Estimator.create(noSun, { statePath: darkFile });
    const dark = await blind.evaluate({ ...frame, rgb: new Uint8Array(dimmed) }, at('2025-02-10T10:00'));
    await blind.close();
    expect(dark.flags).toEqual(['low_light']);
    expect(dark).toMatchObject({ estimable: false, pm25: null, source: null });
    expect(loadState(darkFile)!.reference).toBeNull();

    // The first day frame becomes the reference, written to disk at once (no close needed).
    const first = est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-10T09:00'));
    expect(first.estimable).toBe(true);
    expect(first.features.shiftPx).toBeUndefined();
    const ref = loadState(file)!.reference!;
    expect(ref.width * ref.height).toBe(raw.get(DAY[0]!)!.thumb.length);
    ref.thumb.forEach((v, i) => expect(v).toBeCloseTo(raw.get(DAY[0]!)!.thumb[i]!, 3));

    // Later day frames are measured against it and do not replace it; nor does a later night frame.
    const second = est.estimateFromRaw(raw.get(DAY[7]!)!, at('2025-02-18T10:00'));
    expect(second.features.shiftPx).toBeDefined();
    est.estimateFromRaw(raw.get(NIGHT)!, at('2025-02-18T21:00'));
    est.save();
    expect(loadState(file)!.reference).toEqual(ref);

    // After a restart the persisted reference is used: the same frame gets the same shift.
    const again = await Pm25Estimator.create(cfg, { statePath: file });
    const shifted = again.estimateFromRaw(raw.get(DAY[7]!)!, at('2025-02-18T10:00'));
    expect(shifted.features.shiftPx).toEqual(second.features.shiftPx);
    await again.close();
    await est.close();
  });

  it('raises fog on grey extinction only with a humidity reading at most two hours old', async () => {
    const grey = raw.get(GREY)!;
    const t = at('2025-02-06T10:00').getTime();
    const physics = derivePhysics(cfg, grey);
    // The frame itself: grey (|Ångström| < 0.3) but visibility far above the fog limit.
    expect(Math.abs(physics.angstrom)).toBeLessThan(cfg.gates.fogMaxAngstrom);
    expect(physics.visibilityKm).toBeGreaterThan(cfg.gates.fogMaxVisibilityKm);
    const est = await Pm25Estimator.create(cfg);
    expect(est.estimateFromRaw(grey, new Date(t)).flags).toEqual([]);
    // Humidity arrives with a reading (here one without PM2.5, so it pairs with nothing).
    expect(est.addReading({ ts: new Date(t), pm25: 0, humidity: 95 })).toBe(false);
    const foggy = est.estimateFromRaw(grey, new Date(t + HOUR));
    expect(foggy.flags).toEqual(['fog']);
    expect(foggy).toMatchObject({ estimable: false, pm25: null, i80: null, i95: null, source: null });
    // A withheld frame is not paired with a reading either.
    expect(est.addReading({ ts: new Date(t + HOUR), pm25: 12 })).toBe(false);
    expect(est.estimateFromRaw(grey, new Date(t + 2 * HOUR)).flags).toEqual(['fog']);
    const stale = est.estimateFromRaw(grey, new Date(t + 2 * HOUR + MIN));
    expect(stale.flags).toEqual([]);
    expect(stale.estimable).toBe(true);
    // Below the humidity threshold, no fog; at it, fog.
    est.addReading({ ts: new Date(t + 3 * HOUR), pm25: 0, humidity: 92 });
    expect(est.estimateFromRaw(grey, new Date(t + 3 * HOUR)).flags).toEqual([]);
    est.addReading({ ts: new Date(t + 3 * HOUR), pm25: 0, humidity: 93 });
    expect(est.estimateFromRaw(grey, new Date(t + 3 * HOUR + 10 * MIN)).flags).toEqual(['fog']);
    await est.close();
  });

  it('evaluates real frames end to end, with intervals present and ordered', async () => {
    const est = await Pm25Estimator.create(cfg);
    try {
      const e = await est.evaluate(await milanFrame(DAY[3]!, cfg), at('2025-02-10T12:00'));
      expectOrderedBands(e);
      expect(e.source).toBe('physical-prior');
      expect(e.features.betaPerKm).toBeCloseTo(derivePhysics(cfg, raw.get(DAY[3]!)!).beta, 6);
      expect(Object.keys(e.features.transmission)).toEqual(cfg.targets.map((t) => t.name));
      await expect(
        est.evaluate({ rgb: new Uint8Array(480 * 270 * 3), width: 480, height: 270 }, at('2025-02-10T12:00')),
      ).rejects.toThrow(/960x540/);
    } finally {
      await est.close();
    }
  });
});
