import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import { Pm25Estimator, type FrameEstimate } from '../../../models/pm25/estimator.js';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import { derivePhysics } from '../../../models/pm25/physics.js';
import { priorInterval } from '../../../models/pm25/physical-prior.js';
import type { RawFeatures } from '../../../models/pm25/raw-features.js';
import { regressorValues } from '../../../models/pm25/regressors.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

// Real Milan frames (January–March only), measured once by the real feature graph; the estimator is then fed
// those measurements at chosen times (`estimateFromRaw`, as the replay tool does) or real frames (`evaluate`).
const base = milanConfig();
const cfg: Pm25CameraConfig = milanConfig({ calibration: { ...base.calibration, minSamples: 6 } });
const at = (wall: string) => parseLocalTime(wall, cfg.timezone);
const MIN = 60_000;
const HOUR = 3_600_000;

// Clear-ish day frames of two February days; a grey-extinction morning (Ångström 0.12, visibility 18 km);
// a night frame (auto-exposure makes its sky bright).
const DAY = [
  '20250210-0900.jpg',
  '20250210-1000.jpg',
  '20250210-1100.jpg',
  '20250210-1200.jpg',
  '20250210-1300.jpg',
  '20250210-1400.jpg',
  '20250218-0900.jpg',
  '20250218-1000.jpg',
  '20250218-1100.jpg',
];
const GREY = '20250206-1000.jpg';
const NIGHT = '20250129-2000.jpg';
/** Real labels of the DAY frames (labels.csv, µg/m³). */
let labels: number[] = [];

const raw = new Map<string, RawFeatures>();
const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-estimator-'));
let n = 0;
const statePath = () => path.join(work, `run-${n++}`, 'pm25-milan-south.json');
const xOf = (file: string) =>
  regressorValues(cfg.prior, derivePhysics(cfg, raw.get(file)!), cfg.calibration.features);

function expectOrderedBands(e: FrameEstimate): void {
  expect(e.estimable).toBe(true);
  const [lo80, hi80] = e.i80!;
  const [lo95, hi95] = e.i95!;
  for (const v of [e.pm25!, lo80, hi80, lo95, hi95]) expect(Number.isFinite(v) && v > 0).toBe(true);
  expect(lo95).toBeLessThanOrEqual(lo80);
  expect(lo80).toBeLessThanOrEqual(e.pm25!);
  expect(e.pm25!).toBeLessThanOrEqual(hi80);
  expect(hi80).toBeLessThanOrEqual(hi95);
  expect(lo80).toBeLessThan(hi80);
}

beforeAll(async () => {
  if (!hasShared) return;
  const { readFileSync } = await import('node:fs');
  const { milanLabels } = await import('./helpers.js');
  const rows = new Map(
    readFileSync(milanLabels(), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([file, , pm]) => [file!, Number(pm)]),
  );
  labels = DAY.map((f) => rows.get(f)!);
  const fx = await FeatureExtractor.create(cfg);
  try {
    for (const f of [...DAY, GREY, NIGHT]) raw.set(f, await fx.run(await milanFrame(f, cfg)));
  } finally {
    await fx.close();
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

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
