import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  Pm25Calibration,
  Pm25CameraConfig,
  Pm25Gates,
  Pm25Prior,
  Pm25Target,
  PixelRect,
} from '../../config/pm25-schema.js';
import { repoRoot } from '../support/shared.js';

const minimal = {
  frame: { width: 960, height: 540 },
  sky: [0, 0, 100, 50],
  targets: [{ name: 'towers', rect: [0, 60, 100, 90], distanceKm: 8 }],
  near: { rect: [0, 100, 200, 300], distanceKm: 0.3 },
  registration: [0, 0, 960, 256],
  exposure: [0, 16, 800, 520],
};
function firstIssue(value: unknown): string | undefined {
  const r = Pm25CameraConfig.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('Pm25CameraConfig defaults (docs/config.md, cameras[].pm25)', () => {
  const cfg = Pm25CameraConfig.parse(minimal);

  it('fills the documented top-level defaults', () => {
    expect(cfg).toMatchObject({
      enabled: true,
      timezone: 'UTC',
      gamma: 2.2,
      windowMinutes: 15,
      sampleEveryS: 20,
    });
    expect(cfg.latitude).toBeUndefined();
    expect(cfg.longitude).toBeUndefined();
  });

  it('fills a target', () => {
    expect(cfg.targets[0]).toEqual({
      name: 'towers',
      rect: [0, 60, 100, 90],
      distanceKm: 8,
      darkFraction: 0.1,
      intrinsicTransmission: 1,
    });
  });

  it('fills the prior', () => {
    expect(cfg.prior).toEqual({ beta0PerKm: 0.012, massExtinction: 4, logSd: 0.8 });
  });

  it('fills the gates (docs/pm25.md)', () => {
    expect(cfg.gates).toEqual({
      minSunElevationDeg: 5,
      minSkyLuminance: 0.04,
      maxClippedFraction: 0.03,
      minSharpnessRatio: 0.6,
      sharpnessWarmup: 5,
      maxShiftPx: 12,
      followShiftPx: 32,
      minRegistrationPeak: 0.04,
      occlusionMargin: 0.08,
      fogMaxAngstrom: 0.3,
      fogMaxVisibilityKm: 2,
      fogMinHumidity: 93,
    });
  });

  it('fills calibration', () => {
    expect(cfg.calibration).toEqual({
      features: ['lnBeta', 'lnSkyLuminance'],
      intervals: 'prequential',
      forecastLagDays: 14,
      windowDays: 45,
      minSamples: 48,
      refitEvery: 6,
      ridge: 4,
      pairWithinMinutes: 40,
      aciGamma: 0.01,
    });
    expect(cfg.calibration.halfLifeDays).toBeUndefined();
  });

  it('fills the rest of a partly given section', () => {
    const partial = Pm25CameraConfig.parse({
      ...minimal,
      gates: { maxShiftPx: 4 },
      calibration: { ridge: 16 },
    });
    expect(partial.gates).toEqual({ ...Pm25Gates.parse({}), maxShiftPx: 4 });
    expect(partial.calibration).toEqual({ ...Pm25Calibration.parse({}), ridge: 16 });
    expect(Pm25Prior.parse({ logSd: 1 })).toEqual({ beta0PerKm: 0.012, massExtinction: 4, logSd: 1 });
  });
});

describe('Pm25CameraConfig bounds', () => {
  it.each([
    { patch: { gamma: 0.9 }, issue: 'gamma: Too small: expected number to be >=1' },
    { patch: { gamma: 3.1 }, issue: 'gamma: Too big: expected number to be <=3' },
    { patch: { latitude: 91 }, issue: 'latitude: Too big: expected number to be <=90' },
    { patch: { longitude: -181 }, issue: 'longitude: Too small: expected number to be >=-180' },
    { patch: { targets: [] }, issue: 'targets: Too small: expected array to have >=1 items' },
    {
      patch: { targets: Array(5).fill(minimal.targets[0]) },
      issue: 'targets: Too big: expected array to have <=4 items',
    },
    { patch: { sky: [10, 0, 10, 50] }, issue: 'sky: expected [x0, y0, x1, y1] with x1 > x0 and y1 > y0' },
    {
      patch: { exposure: [0, 60, 10, 50] },
      issue: 'exposure: expected [x0, y0, x1, y1] with x1 > x0 and y1 > y0',
    },
    {
      patch: { registration: [0, 0, 10.5, 50] },
      issue: 'registration.2: Invalid input: expected int, received number',
    },
    { patch: { sky: [-1, 0, 10, 50] }, issue: 'sky.0: Too small: expected number to be >=0' },
    {
      patch: { frame: { width: 0, height: 540 } },
      issue: 'frame.width: Too small: expected number to be >0',
    },
    {
      patch: { near: { rect: [0, 0, 1, 1] } },
      issue: 'near.distanceKm: Invalid input: expected number, received undefined',
    },
    { patch: { sampleEveryS: 0.5 }, issue: 'sampleEveryS: Too small: expected number to be >=1' },
    { patch: { windowMinutes: 0 }, issue: 'windowMinutes: Too small: expected number to be >0' },
    {
      patch: { gates: { fogMinHumidity: 101 } },
      issue: 'gates.fogMinHumidity: Too big: expected number to be <=100',
    },
    {
      patch: { gates: { sharpnessWarmup: 0 } },
      issue: 'gates.sharpnessWarmup: Too small: expected number to be >=1',
    },
    {
      patch: { gates: { maxClippedFraction: 1.5 } },
      issue: 'gates.maxClippedFraction: Too big: expected number to be <=1',
    },
    {
      patch: { calibration: { aciGamma: 0.6 } },
      issue: 'calibration.aciGamma: Too big: expected number to be <=0.5',
    },
    {
      patch: { calibration: { minSamples: 1 } },
      issue: 'calibration.minSamples: Too small: expected number to be >=2',
    },
    {
      patch: { calibration: { features: [] } },
      issue: 'calibration.features: Too small: expected array to have >=1 items',
    },
    {
      patch: { calibration: { intervals: 'rolling' } },
      issue: 'calibration.intervals: Invalid option: expected one of "prequential"|"forecast"',
    },
    {
      patch: { prior: { massExtinction: 0 } },
      issue: 'prior.massExtinction: Too small: expected number to be >0',
    },
    { patch: { bogus: 1 }, issue: ': Unrecognized key: "bogus"' },
  ])('$issue', ({ patch, issue }) => {
    expect(firstIssue({ ...minimal, ...patch })).toBe(issue);
  });

  it('bounds a target', () => {
    const target = minimal.targets[0]!;
    expect(Pm25Target.safeParse({ ...target, darkFraction: 0 }).success).toBe(false);
    expect(Pm25Target.safeParse({ ...target, darkFraction: 1 }).success).toBe(true);
    expect(Pm25Target.safeParse({ ...target, intrinsicTransmission: 1.01 }).success).toBe(false);
    expect(Pm25Target.safeParse({ ...target, name: 'a b' }).success).toBe(false);
    expect(Pm25Target.safeParse({ ...target, name: 'x'.repeat(33) }).success).toBe(false);
    expect(Pm25Target.safeParse({ ...target, distanceKm: 0 }).success).toBe(false);
  });

  it('accepts the documented edges', () => {
    expect(
      firstIssue({ ...minimal, gamma: 1, latitude: -90, longitude: 180, sampleEveryS: 1 }),
    ).toBeUndefined();
    expect(firstIssue({ ...minimal, gamma: 3, targets: Array(4).fill(minimal.targets[0]) })).toBeUndefined();
    expect(PixelRect.parse([0, 0, 1, 1])).toEqual([0, 0, 1, 1]);
  });
});

describe('the PM2.5 example config', () => {
  it('config/examples/pm25-milan.yaml: its pm25 block parses and keeps what it sets', () => {
    const doc = parseYaml(readFileSync(path.join(repoRoot, 'config/examples/pm25-milan.yaml'), 'utf8')) as {
      cameras: { pm25: unknown }[];
    };
    const cfg = Pm25CameraConfig.parse(doc.cameras[0]!.pm25);
    expect(cfg.gamma).toBe(1);
    expect(cfg.timezone).toBe('Europe/Rome');
    expect(cfg.targets.map((t) => t.name)).toEqual(['skyline', 'town']);
    expect(cfg.calibration).toMatchObject({
      features: ['lnBetaTotal', 'lnBetaRatio'],
      windowDays: 30,
      ridge: 16,
      intervals: 'forecast',
      forecastLagDays: 14,
      minSamples: 48,
    });
  });
});
