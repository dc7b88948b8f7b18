import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import { Pm25Estimator } from '../../../models/pm25/estimator.js';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import type { RawFeatures, RgbFrame } from '../../../models/pm25/raw-features.js';
import { loadState } from '../../../models/pm25/state-store.js';
import { pm25Windows } from '../../../pipeline/pm25/pm25-windows.js';
import { logLines } from '../../support/log-lines.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

// Real Milan frames of February (never April), measured once by the real feature graph.
const cfg: Pm25CameraConfig = milanConfig();
const at = (wall: string) => parseLocalTime(wall, cfg.timezone);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = ['20250210-0900.jpg', '20250210-1000.jpg', '20250210-1100.jpg', '20250210-1200.jpg'];
const raw = new Map<string, RawFeatures>();
const frames = new Map<string, RgbFrame>();
const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-state-'));
let n = 0;
const dirOf = () => {
  const d = path.join(work, `run-${n++}`);
  mkdirSync(d);
  return d;
};

beforeAll(async () => {
  if (!hasShared) return;
  const fx = await FeatureExtractor.create(cfg);
  try {
    for (const f of DAY) {
      frames.set(f, await milanFrame(f, cfg));
      raw.set(f, await fx.run(frames.get(f)!));
    }
  } finally {
    await fx.close();
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Four hourly frames, each paired with a reading five minutes later. */
function calibrate(est: Pm25Estimator): void {
  for (let i = 0; i < DAY.length; i++) {
    const ts = new Date(at('2025-02-10T09:00').getTime() + i * HOUR);
    expect(est.estimateFromRaw(raw.get(DAY[i]!)!, ts).estimable).toBe(true);
    expect(est.addReading({ ts: new Date(ts.getTime() + 5 * MIN), pm25: 20 + i })).toBe(true);
  }
}

describe.skipIf(!hasShared)('PM2.5 state persistence and robustness', () => {
  const broken: [string, string][] = [
    ['empty', ''],
    ['truncated (kill -9 without the rename)', '{"version":1,"calibrator":{"features":["lnBeta","lnSky'],
    ['garbage', 'not json at all \u0000\u0001'],
    ['JSON null', 'null'],
    ['another version', JSON.stringify({ version: 2, calibrator: {}, gates: {}, reference: null })],
    ['version 1 without its parts', '{"version":1}'],
    [
      'gates of the wrong shape',
      JSON.stringify({
        version: 1,
        calibrator: { pairs: [], scores: [], conformal: [], model: null, sinceRefit: 0, lastRefit: null },
        gates: { sharpness: 'x' },
        reference: null,
      }),
    ],
  ];
  it.each(broken)(
    'a %s state file does not stop the camera: a precise warning, kept aside, calibration starts over',
    async (_what, content) => {
      const file = path.join(dirOf(), 'pm25-milan-south.json');
      writeFileSync(file, content);
      const { log, lines } = logLines();
      const est = await Pm25Estimator.create(cfg, { statePath: file, log });
      expect(est.status()).toEqual({ state: 'uncalibrated', samples: 0, lastRefit: null });
      const warned = lines.filter((l) => l.msg === 'PM2.5 state unreadable, calibration starts over');
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ level: 'warn', file, keptAs: `${file}.corrupt` });
      expect(String(warned[0]!.reason)).not.toBe('');
      // The broken file is kept for a look, not overwritten by the fresh state.
      expect(readFileSync(`${file}.corrupt`, 'utf8')).toBe(content);
      calibrate(est);
      await est.close();
      expect(loadState(file)!.calibrator.pairs).toHaveLength(4);
      const again = await Pm25Estimator.create(cfg, { statePath: file, log });
      expect(again.status()).toMatchObject({ state: 'calibrating', samples: 4 });
      await again.close();
    },
  );

  it('a state path that cannot be read (a directory where the file should be) does not stop the camera', async () => {
    const file = path.join(dirOf(), 'pm25-milan-south.json');
    mkdirSync(file);
    const { log, lines } = logLines();
    const est = await Pm25Estimator.create(cfg, { statePath: file, log });
    expect(est.status().state).toBe('uncalibrated');
    expect(lines.some((l) => l.level === 'warn' && l.file === file)).toBe(true);
    calibrate(est);
    await est.close();
  });

  // Writes that fail: the parent is a regular file (ENOTDIR), a directory sits where the file goes (EISDIR),
  // or the data directory turns into a file after a good start.
  const unwritable: [string, () => { file: string; spoil?: () => void }][] = [
    [
      'under a regular file',
      () => {
        const d = dirOf();
        writeFileSync(path.join(d, 'data'), 'a file, not a directory');
        return { file: path.join(d, 'data', 'pm25-milan-south.json') };
      },
    ],
    [
      'where a directory stands',
      () => {
        const file = path.join(dirOf(), 'pm25-milan-south.json');
        mkdirSync(path.join(file, 'x'), { recursive: true });
        return { file };
      },
    ],
    [
      'data directory replaced by a file after start',
      () => {
        const d = path.join(dirOf(), 'data');
        return {
          file: path.join(d, 'pm25-milan-south.json'),
          spoil: () => {
            rmSync(d, { recursive: true, force: true });
            writeFileSync(d, '');
          },
        };
      },
    ],
  ];
  it.each(unwritable)(
    'a state write that fails (%s) is logged, never thrown: pairing, estimates and close go on',
    async (_what, make) => {
      const { file, spoil } = make();
      const { log, lines } = logLines();
      const est = await Pm25Estimator.create(cfg, { statePath: file, log });
      spoil?.();
      calibrate(est);
      expect(est.status()).toMatchObject({ state: 'calibrating', samples: 4 });
      const e = est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-11T09:00'));
      expect(e.source).toBe('site-model');
      await est.close();
      const failed = lines.filter((l) => l.msg === 'PM2.5 state not saved, kept in memory');
      // One line per distinct failure, not one per pair.
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ level: 'warn', file });
      expect(String(failed[0]!.reason)).toMatch(/ENOTDIR|EISDIR|EEXIST/);
      // Nothing half-written left behind.
      const dir = path.dirname(path.dirname(file));
      expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('.tmp-'))).toEqual([]);
    },
  );

  it('the PM2.5 stage on real frames survives a failing state write (the first reference view is saved)', async () => {
    const d = path.join(dirOf(), 'data');
    const { log } = logLines();
    const est = await Pm25Estimator.create(cfg, { statePath: path.join(d, 'pm25.json'), log });
    writeFileSync(d, ''); // after a good start, the data directory is gone: the reference view cannot be saved
    const inputs = DAY.map((f, i) => ({
      camera: 'milan-south',
      ts: new Date(at('2025-02-10T09:00').getTime() + i * HOUR),
      ...frames.get(f)!,
    }));
    const payloads = await lastValueFrom(from(inputs).pipe(pm25Windows(est, 5), toArray()));
    expect(payloads).toHaveLength(4);
    expect(payloads.every((p) => p.estimable)).toBe(true);
    await est.close();
  });

  it('a temp file left by a kill -9 mid-write is ignored and cleaned; the previous state is loaded', async () => {
    const dir = dirOf();
    const file = path.join(dir, 'pm25-milan-south.json');
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    calibrate(est);
    // Killed mid-write: the temp file of another process is half there, the rename never happened.
    const full = readFileSync(file, 'utf8');
    writeFileSync(`${file}.tmp-999999`, full.slice(0, full.length / 2));
    const { log, lines } = logLines();
    const resumed = await Pm25Estimator.create(cfg, { statePath: file, log });
    expect(resumed.status()).toEqual(est.status());
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    expect(readdirSync(dir)).toEqual([path.basename(file)]);
    await resumed.close();
    await est.close();
  });

  it('a duplicate reading (QoS 1 redelivery) pairs once, not again with the next-nearest frame', async () => {
    const est = await Pm25Estimator.create(cfg);
    est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-10T10:00'));
    est.estimateFromRaw(raw.get(DAY[1]!)!, at('2025-02-10T10:30'));
    const reading = { ts: at('2025-02-10T10:10'), pm25: 30 };
    expect(est.addReading(reading)).toBe(true);
    expect(est.addReading({ ...reading })).toBe(false);
    expect(est.status().samples).toBe(1);
    // Another reading at another time still pairs with the frame left.
    expect(est.addReading({ ts: at('2025-02-10T10:35'), pm25: 31 })).toBe(true);
    await est.close();
  });

  // A sensor's retained reading comes again at every reconnect and restart. After a restart no frame is kept
  // yet, so the repeat once read as "no frame near it", and days later as a wrong clock.
  it('a reading already paired before a restart is a repeat after it, not a reading without a frame', async () => {
    const file = path.join(dirOf(), 'pm25-milan-south.json');
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    calibrate(est);
    await est.close();
    const resumed = await Pm25Estimator.create(cfg, { statePath: file });
    const retained = { ts: new Date(at('2025-02-10T09:00').getTime() + 5 * MIN), pm25: 20 };
    expect(resumed.offerReading(retained)).toEqual({ paired: false, why: 'repeat' });
    expect(resumed.offerReading({ ts: at('2025-02-10T13:30'), pm25: 20 })).toEqual({
      paired: false,
      why: 'no-frame',
    });
    expect(resumed.offerReading({ ts: at('2025-02-10T13:30'), pm25: 0 })).toEqual({
      paired: false,
      why: 'zero',
    });
    expect(resumed.status().samples).toBe(4);
    await resumed.close();
  });

  // A gateway sending mg/m³ (0.028 for 28 µg/m³) had each reading fitted: on the live agent, six of them on
  // 55 pairs moved the estimate from 23.4 to 13.0 µg/m³ and the 95 % band to [0.016, 10021].
  it('does not fit a reading under 1 ug/m3 (another unit), nor use its frame up; 1 is fitted', async () => {
    const file = path.join(dirOf(), 'pm25-milan-south.json');
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    calibrate(est);
    const before = loadState(file)!.calibrator;
    est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-10T15:00'));
    for (const pm25 of [0.028, 0.5, 0.999])
      expect(est.offerReading({ ts: at('2025-02-10T15:05'), pm25 })).toEqual({
        paired: false,
        why: 'below-floor',
      });
    expect(loadState(file)!.calibrator).toEqual(before);
    expect(est.offerReading({ ts: at('2025-02-10T15:05'), pm25: 1 })).toEqual({ paired: true });
    await est.close();
  });

  it('readings far in the future or past pair with nothing and leave the calibration as it was', async () => {
    const file = path.join(dirOf(), 'pm25-milan-south.json');
    const est = await Pm25Estimator.create(cfg, { statePath: file });
    calibrate(est);
    const before = loadState(file)!.calibrator;
    est.estimateFromRaw(raw.get(DAY[0]!)!, at('2025-02-10T15:00'));
    for (const ts of [at('2035-02-10T15:00'), at('2015-02-10T15:00'), new Date(0), new Date(8.64e15)])
      expect(est.addReading({ ts, pm25: 500 })).toBe(false);
    expect(loadState(file)!.calibrator).toEqual(before);
    // The frame is still there for its own reading.
    expect(est.addReading({ ts: at('2025-02-10T15:05'), pm25: 22 })).toBe(true);
    await est.close();
  });
});
