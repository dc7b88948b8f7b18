import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../models/types.js';
import {
  DriftAccumulator,
  otherLabel,
  type DetectionsSample,
} from '../../../pipeline/drift/drift-accumulator.js';
import { countsOf, mergeProfiles } from '../../../pipeline/drift/profile.js';
import { labelStatSpecs } from '../../../pipeline/drift/statistics.js';

const det = (label: string, score: number, x1: number, y1: number, x2: number, y2: number): Detection => ({
  label,
  classId: 0,
  score,
  box: { x1, y1, x2, y2 },
});
const sample = (detections: Detection[], inferenceMs = 12): DetectionsSample => ({
  srcWidth: 800,
  srcHeight: 600,
  result: { detections, inferenceMs },
});

describe('DriftAccumulator', () => {
  it('counts per label: score, area share, aspect, grid cell, and detections per frame with implicit zeros', () => {
    const acc = new DriftAccumulator();
    // a 100×200 person centred at (150, 100): column floor(150·8/800) = 1, row floor(100·6/600) = 1 → cell 9
    acc.addDetections(sample([det('person', 0.9, 100, 0, 200, 200), det('person', 0.5, 700, 500, 800, 600)]));
    acc.addDetections(sample([]));
    acc.addDetections(sample([det('car', 0.7, 0, 0, 400, 300)]));
    const p = acc.snapshot();
    expect(p.frames).toBe(3);
    expect(p.hists['det.score[person]']!.counts.reduce((a, b) => a + b)).toBe(2);
    expect(p.hists['det.position[person]']!.counts[9]).toBe(1);
    expect(p.hists['det.position[person]']!.counts[47]).toBe(1); // bottom-right cell
    // stored without zeros; filled in when compared: person seen in 1 of 3 frames, twice
    expect(p.hists['det.perFrame[person]']!.counts.slice(0, 3)).toEqual([0, 0, 1]);
    expect(countsOf(p, 'det.perFrame[person]', labelStatSpecs.perFrame)!.slice(0, 3)).toEqual([2, 0, 1]);
    // a label never seen is all zeros
    expect(countsOf(p, 'det.perFrame[bus]', labelStatSpecs.perFrame)!.slice(0, 2)).toEqual([3, 0]);
    expect(p.keyed['det.labels']).toEqual({ person: 2, car: 1 });
    expect(p.hists['latency.inferenceMs']!.counts.reduce((a, b) => a + b)).toBe(3);
  });

  it('labels beyond maxLabels are counted as other', () => {
    const acc = new DriftAccumulator({ maxLabels: 2 });
    acc.addDetections(sample(['a', 'b', 'c', 'd'].map((l) => det(l, 0.5, 0, 0, 10, 10))));
    expect(Object.keys(acc.snapshot().keyed['det.labels']!).sort()).toEqual(['a', 'b', otherLabel]);
  });

  it('image statistics: null (a detached frame) is skipped', () => {
    const acc = new DriftAccumulator();
    acc.addFrame(null);
    acc.addFrame({
      brightness: 100,
      contrast: 20,
      sharpness: 5,
      castRB: 0,
      castG: 0,
      saturated: 0,
      dark: 0,
      samples: 10,
    });
    expect(acc.snapshot()).toMatchObject({ imageFrames: 1 });
    acc.reset();
    expect(acc.snapshot()).toEqual({ frames: 0, imageFrames: 0, hists: {}, keyed: {} });
  });

  it('profiles merge associatively, and a merge equals counting everything in one window', () => {
    const detection = fc.record({
      label: fc.constantFrom('person', 'car', 'bus'),
      score: fc.double({ min: 0.25, max: 1, noNaN: true }),
      x: fc.integer({ min: 0, max: 700 }),
      y: fc.integer({ min: 0, max: 500 }),
      w: fc.integer({ min: 1, max: 100 }),
      h: fc.integer({ min: 1, max: 100 }),
    });
    const frames = fc.array(fc.array(detection, { maxLength: 6 }), { maxLength: 12 });
    type Frames = { label: string; score: number; x: number; y: number; w: number; h: number }[][];
    const toSamples = (fs: Frames) =>
      fs.map((ds) => sample(ds.map((d) => det(d.label, d.score, d.x, d.y, d.x + d.w, d.y + d.h))));
    const profileOf = (samples: DetectionsSample[]) => {
      const acc = new DriftAccumulator();
      for (const s of samples) acc.addDetections(s);
      return acc.snapshot();
    };
    const canonical = (p: ReturnType<typeof profileOf>) =>
      JSON.stringify({ ...p, hists: Object.fromEntries(Object.entries(p.hists).sort()) });
    fc.assert(
      fc.property(frames, frames, frames, (a, b, c) => {
        const [pa, pb, pc] = [a, b, c].map((f) => profileOf(toSamples(f))) as [
          ReturnType<typeof profileOf>,
          ReturnType<typeof profileOf>,
          ReturnType<typeof profileOf>,
        ];
        const left = mergeProfiles(mergeProfiles(pa, pb), pc);
        const right = mergeProfiles(pa, mergeProfiles(pb, pc));
        expect(canonical(left)).toBe(canonical(right));
        expect(canonical(left)).toBe(canonical(profileOf(toSamples([...a, ...b, ...c]))));
      }),
      { numRuns: 40 },
    );
  });
});

describe('DriftAccumulator: PM2.5 and quality gates', () => {
  it('counts PM2.5 estimates in log bins and gate outcomes by flag', () => {
    const acc = new DriftAccumulator();
    for (const v of [3, 12, 40, 40]) acc.addPm25(v);
    acc.addQualityGate({ passed: true, flags: [] });
    acc.addQualityGate({ passed: false, flags: ['blur', 'fog'] });
    acc.addQualityGate({ passed: false, flags: ['blur'] });
    const p = acc.snapshot();
    expect(p.hists.pm25!.counts.reduce((a, b) => a + b)).toBe(4);
    expect(p.keyed['quality.gate']).toEqual({ pass: 1, blur: 2, fog: 1 });
  });
});
