import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Pm25CameraConfig } from '../../../config/pm25-schema.js';
import type { FrameEstimate } from '../../../models/pm25/estimator.js';
import { FeatureExtractor } from '../../../models/pm25/feature-extractor.js';
import { parseLocalTime } from '../../../models/pm25/local-time.js';
import { derivePhysics } from '../../../models/pm25/physics.js';
import type { RawFeatures } from '../../../models/pm25/raw-features.js';
import { regressorValues } from '../../../models/pm25/regressors.js';
import { hasShared } from '../../support/shared.js';
import { milanConfig, milanFrame } from './helpers.js';

// What estimator.test.ts and estimator-calibration.test.ts share.

// Real Milan frames (January–March only), measured once by the real feature graph; the estimator is then fed
// those measurements at chosen times (`estimateFromRaw`, as the replay tool does) or real frames (`evaluate`).
const base = milanConfig();
export const cfg: Pm25CameraConfig = milanConfig({ calibration: { ...base.calibration, minSamples: 6 } });
export const at = (wall: string) => parseLocalTime(wall, cfg.timezone);
export const MIN = 60_000;
export const HOUR = 3_600_000;

// Clear-ish day frames of two February days; a grey-extinction morning (Ångström 0.12, visibility 18 km);
// a night frame (auto-exposure makes its sky bright).
export const DAY = [
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
export const GREY = '20250206-1000.jpg';
export const NIGHT = '20250129-2000.jpg';
/** Real labels of the DAY frames (labels.csv, µg/m³). */
export let labels: number[] = [];

export const raw = new Map<string, RawFeatures>();
const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-estimator-'));
let n = 0;
export const statePath = () => path.join(work, `run-${n++}`, 'pm25-milan-south.json');
export const xOf = (file: string) =>
  regressorValues(cfg.prior, derivePhysics(cfg, raw.get(file)!), cfg.calibration.features);

export function expectOrderedBands(e: FrameEstimate): void {
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

/** Registers the file's hooks: the frames measured (and `labels` read) before its tests, `work` removed after. */
export function useMeasuredFrames(): void {
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
}
