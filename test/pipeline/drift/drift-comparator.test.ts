import { describe, expect, it } from 'vitest';
import { DriftConfig } from '../../../config/drift-schema.js';
import { DriftAccumulator, type DetectionsSample } from '../../../pipeline/drift/drift-accumulator.js';
import { DriftComparator, scoreProfiles } from '../../../pipeline/drift/drift-comparator.js';
import type { ImageStats } from '../../../pipeline/drift/image-stats.js';

const cfg = DriftConfig.parse({ minSamples: 20 });
const image = (brightness: number, sharpness: number): ImageStats => ({
  brightness,
  contrast: 40,
  sharpness,
  castRB: 0.01,
  castG: 0,
  saturated: 0,
  dark: 0,
  samples: 1000,
});
const people = (n: number, score: number): DetectionsSample => ({
  srcWidth: 768,
  srcHeight: 576,
  result: {
    inferenceMs: 10,
    detections: Array.from({ length: n }, (_, i) => ({
      label: 'person',
      classId: 0,
      score,
      box: { x1: 50 + i * 60, y1: 100, x2: 90 + i * 60, y2: 200 },
    })),
  },
});

/** A profile of `frames` frames whose values wobble a little around the given ones, deterministically. */
function profile(frames: number, brightness: number, sharpness: number, extra?: DetectionsSample) {
  const acc = new DriftAccumulator();
  for (let i = 0; i < frames; i++) {
    const wobble = Math.sin(i * 1.7);
    acc.addFrame(image(brightness + 3 * wobble, sharpness * (1 + 0.05 * wobble)));
    acc.addDetections(people(3 + (i % 3), 0.6 + 0.2 * Math.sin(i * 0.9)));
    if (extra) acc.addDetections(extra);
  }
  return acc.snapshot();
}

describe('scoring a window against a reference', () => {
  const reference = profile(400, 120, 12);

  it('the same scene scores nothing: no significant statistic, small PSI for the per-frame image statistics', () => {
    const scores = scoreProfiles(profile(60, 120, 12), reference, cfg);
    expect(scores.length).toBeGreaterThan(10);
    // PSI alone is noisy on small windows (det.score here reaches well above 0.1): the test gate holds it
    expect(scores.filter((s) => s.significant)).toEqual([]);
    const image = scores.filter((s) => s.name.startsWith('image.'));
    expect(image).toHaveLength(7);
    expect(Math.max(...image.map((s) => s.psi!))).toBeLessThan(0.1);
  });

  it('a darker, blurred window: brightness and sharpness significant with a large PSI, ordered stats use KS', () => {
    const scores = scoreProfiles(profile(60, 40, 3), reference, cfg);
    const byName = new Map(scores.map((s) => [s.name, s]));
    for (const name of ['image.brightness', 'image.sharpness']) {
      const s = byName.get(name)!;
      expect(s.significant).toBe(true);
      expect(s.psi).toBeGreaterThan(1);
      expect(s.ks!.d).toBe(1);
      expect(s.chi2).toBeNull();
    }
    expect(byName.get('det.position[person]')!.ks).toBeNull(); // cells have no order: chi-square
    expect(byName.get('det.position[person]')!.chi2).not.toBeNull();
  });

  it('a label the reference never saw moves the label mix and its per-frame count', () => {
    const bus: DetectionsSample = {
      ...people(0, 0),
      result: {
        inferenceMs: 10,
        detections: [{ label: 'bus', classId: 5, score: 0.8, box: { x1: 0, y1: 0, x2: 400, y2: 300 } }],
      },
    };
    const scores = scoreProfiles(profile(60, 120, 12, bus), reference, cfg);
    const names = scores.filter((s) => s.significant).map((s) => s.name);
    expect(names).toContain('det.labels');
    expect(names).toContain('det.perFrame[bus]');
    // the bus's own score histogram has no reference samples: not scored
    expect(scores.find((s) => s.name === 'det.score[bus]')).toMatchObject({
      skipped: 'few-samples',
      psi: null,
    });
  });

  it('a window too small for a statistic leaves it unscored', () => {
    const scores = scoreProfiles(profile(10, 40, 3), reference, cfg);
    expect(scores.find((s) => s.name === 'image.brightness')).toMatchObject({
      n: 10,
      skipped: 'few-samples',
    });
  });
});

describe('DriftComparator', () => {
  const reference = profile(400, 120, 12);

  it('names the statistics that drive the state, largest first; the others that moved are named apart', () => {
    const comparator = new DriftComparator(
      DriftConfig.parse({ minSamples: 20, driveWith: ['image.brightness'] }),
    );
    const c = comparator.compare(profile(60, 40, 3), reference);
    expect(c).toMatchObject({ state: 'alarm', previous: 'ok', changed: true, drivers: ['image.brightness'] });
    expect(c.moved).toContain('image.sharpness');
    expect(c.scores.find((s) => s.name === 'image.sharpness')).toMatchObject({
      significant: true,
      drives: false,
    });
    // hysteresis: one quiet window does not clear the alarm
    expect(comparator.compare(profile(60, 120, 12), reference)).toMatchObject({
      state: 'alarm',
      drivers: [],
    });
  });

  it('by default only image statistics drive: a changed crowd is reported as moved, the state stays ok', () => {
    const comparator = new DriftComparator(DriftConfig.parse({ minSamples: 20 }));
    const crowd = new DriftAccumulator();
    for (let i = 0; i < 60; i++) {
      crowd.addFrame(image(120 + 3 * Math.sin(i * 1.7), 12 * (1 + 0.05 * Math.sin(i * 1.7))));
      crowd.addDetections(people(12, 0.35));
    }
    const c = comparator.compare(crowd.snapshot(), reference);
    expect(c).toMatchObject({ state: 'ok', score: 0, drivers: [] });
    expect(c.moved).toEqual(expect.arrayContaining(['det.perFrame[person]', 'det.score[person]']));
  });
});
