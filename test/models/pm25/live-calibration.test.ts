import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import { replay, type ReplayLine } from '../../../models/pm25/replay.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame, milanImages, milanLabels } from './helpers.js';

// Small numbers so a fortnight of hourly frames walks through every state and slides the window.
const cfg = milanConfig({ calibration: { minSamples: 10, windowDays: 3, refitEvery: 2 } });
const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-live-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!hasShared)('PM2.5 calibration with a live co-located sensor', () => {
  it('moves uncalibrated → calibrating → calibrated, refits on its rolling window, and survives a restart', async () => {
    // The first fortnight of frames (symlinked: shared data is never copied).
    const images = path.join(work, 'images');
    mkdirSync(images);
    for (const f of readdirSync(milanImages()).filter((f) => f < '20250211'))
      symlinkSync(path.join(milanImages(), f), path.join(images, f));
    const statePath = path.join(work, 'pm25-milan-south.json');

    const lines: ReplayLine[] = [];
    // Readings arrive every hour, one hour late, and never stop (the sensor stays).
    for await (const line of replay(cfg, {
      images,
      labels: milanLabels(),
      calibrateUntil: parseLocalTime('2025-12-31T00:00', cfg.timezone),
      statePath,
    })) {
      lines.push(line);
    }
    const states = lines.map((l) => l.state);
    const firstCalibrating = states.indexOf('calibrating');
    const firstCalibrated = states.indexOf('calibrated');
    expect(states[0]).toBe('uncalibrated');
    expect(firstCalibrating).toBeGreaterThan(0);
    expect(firstCalibrated).toBeGreaterThan(firstCalibrating);
    // Uncalibrated estimates come from the physical prior, calibrated ones from the site model.
    expect(lines.find((l) => l.state === 'uncalibrated' && l.pm25 !== null)?.source).toBe('physical-prior');
    expect(lines.slice(firstCalibrated).find((l) => l.pm25 !== null)?.source).toBe('site-model');

    const saved = loadState(statePath)!;
    const cal = saved.calibrator;
    // Rolling window: nothing older than windowDays before the newest pair is kept, though more were seen.
    const newest = Math.max(...cal.pairs.map((p) => p.ts));
    expect(Math.min(...cal.pairs.map((p) => p.ts))).toBeGreaterThanOrEqual(newest - 3 * 86_400_000);
    expect(cal.totalPairs).toBeGreaterThan(cal.pairs.length);
    expect(cal.lastRefit).not.toBeNull();
    expect(cal.lastRefit!).toBeGreaterThan(Math.min(...cal.pairs.map((p) => p.ts)));

    // Restart: a new estimator from the same file reports the same state and gives the same estimate.
    const frame = await milanFrame('20250210-1100.jpg', cfg);
    const ts = parseLocalTime('2025-02-10T11:30', cfg.timezone);
    const a = await Pm25Estimator.create(cfg, { statePath });
    const b = await Pm25Estimator.create(cfg, { statePath });
    try {
      expect(a.status()).toEqual(b.status());
      expect(a.status().state).toBe(lines.at(-1)!.state);
      const ea = await a.evaluate(frame, ts);
      const eb = await b.evaluate(frame, ts);
      expect(ea.source).toBe('site-model');
      expect(eb.pm25).toBe(ea.pm25);
      expect(eb.i80).toEqual(ea.i80);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
