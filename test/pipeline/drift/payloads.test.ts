import { describe, expect, it } from 'vitest';
import type { StatScore } from '../../../pipeline/drift/drift-comparator.js';
import type { DriftReport } from '../../../pipeline/drift/drift-window.js';
import {
  DriftPayload,
  DriftSummaryPayload,
  driftPayload,
  driftSummaryPayload,
} from '../../../pipeline/drift/payloads.js';
import { binsVersion } from '../../../pipeline/drift/statistics.js';

// Payloads built from a report. The examples in docs/mqtt.md against the schemas:
// payloads-doc-examples.test.ts.

const score = (over: Partial<StatScore> & { name: string }): StatScore => ({
  n: 100,
  refN: 400,
  psi: 0.01,
  ks: { d: 0.05, p: 0.9 },
  chi2: null,
  significant: false,
  drives: over.name.startsWith('image.'),
  ...over,
});

function report(over: Partial<DriftReport> = {}): DriftReport {
  return {
    camera: 'gate',
    modelId: 'det',
    configRevision: '0840e8904565',
    window: { start: 900_000, end: 1_800_000, frames: 4500, imageFrames: 4400 },
    status: 'scored',
    state: 'warn',
    previous: 'ok',
    changed: true,
    stateSince: 1_800_000,
    score: 0.123456789,
    drivers: ['image.dark'],
    moved: ['det.position[person]'],
    scores: [
      score({ name: 'det.position[person]', psi: 0.33333333, ks: null, chi2: { statistic: 88.123456, df: 47, p: 0.000123456 }, significant: true }), // prettier-ignore
      score({ name: 'det.score[car]', psi: null, ks: null, skipped: 'few-samples', n: 3 }),
      score({ name: 'image.brightness', psi: 0.05, ks: { d: 0.1, p: 0.5 }, significant: false }),
      score({
        name: 'image.dark',
        psi: 0.123456789,
        ks: { d: 0.123456789, p: 1.23456e-12 },
        significant: true,
      }),
      score({ name: 'image.sharpness', psi: 0.2, ks: { d: 0.3, p: 0 }, significant: true }),
    ],
    reference: {
      id: 3,
      camera: 'gate',
      modelId: 'det',
      configRevision: '0840e8904565',
      binsVersion,
      source: 'baseline',
      from: 0,
      to: 7_200_000,
      windows: 8,
      createdAt: 7_300_000,
    },
    baseline: null,
    profile: { frames: 4500, imageFrames: 4400, hists: {}, keyed: { 'det.labels': { person: 12 } } },
    ...over,
  };
}

describe('drift payloads built from a report', () => {
  it('rounds PSI and D to 4 decimals and p-values to 3 significant digits, keeping 0 and tiny ones', () => {
    const p = driftPayload(report(), { id: 'm-1', ts: 1_800_123 });
    expect(DriftPayload.parse(p)).toEqual(p);
    expect(p).toMatchObject({
      id: 'm-1',
      camera: 'gate',
      model: 'det',
      configRevision: '0840e8904565',
      ts: 1_800_123,
      window: { start: 900_000, end: 1_800_000, frames: 4500, imageFrames: 4400 },
      status: 'scored',
      state: 'warn',
      previousState: 'ok',
      changed: true,
      stateSince: 1_800_000,
      score: 0.1235,
      drivers: ['image.dark'],
      moved: ['det.position[person]'],
      baseline: null,
      binsVersion,
    });
    expect(p.stats).toEqual([
      { name: 'det.position[person]', n: 100, refN: 400, psi: 0.3333, ks: null, chi2: { statistic: 88.1235, df: 47, p: 0.000123 }, significant: true, drives: false }, // prettier-ignore
      { name: 'det.score[car]', n: 3, refN: 400, psi: null, ks: null, chi2: null, significant: false, drives: false, skipped: 'few-samples' }, // prettier-ignore
      { name: 'image.brightness', n: 100, refN: 400, psi: 0.05, ks: { d: 0.1, p: 0.5 }, chi2: null, significant: false, drives: true }, // prettier-ignore
      { name: 'image.dark', n: 100, refN: 400, psi: 0.1235, ks: { d: 0.1235, p: 1.23e-12 }, chi2: null, significant: true, drives: true }, // prettier-ignore
      { name: 'image.sharpness', n: 100, refN: 400, psi: 0.2, ks: { d: 0.3, p: 0 }, chi2: null, significant: true, drives: true }, // prettier-ignore
    ]);
    expect(p.stats[0]).not.toHaveProperty('skipped');
    expect(p.histograms).toEqual(report().profile);
  });

  it('sends the reference without its profile or key, with origin only when it has one', () => {
    const p = driftPayload(report(), { id: 'x', ts: 0 });
    expect(p.reference).toEqual({
      id: 3,
      source: 'baseline',
      from: 0,
      to: 7_200_000,
      windows: 8,
      createdAt: 7_300_000,
    });
    expect(p.reference).not.toHaveProperty('origin');
    expect(driftSummaryPayload(report(), 0).reference).not.toHaveProperty('origin');
    const imported = report({
      reference: { ...report().reference!, source: 'import', origin: 'plaza/det/7e4c' },
    });
    expect(driftPayload(imported, { id: 'x', ts: 0 }).reference).toMatchObject({ origin: 'plaza/det/7e4c' });
    expect(driftSummaryPayload(imported, 0).reference).toMatchObject({ origin: 'plaza/det/7e4c' });
    const none = report({ reference: null, status: 'no-reference', score: null, baseline: { collectedMs: 60_000, neededMs: 7_200_000, built: false } }); // prettier-ignore
    const p2 = driftPayload(none, { id: 'y', ts: 1 });
    expect(DriftPayload.parse(p2)).toEqual(p2);
    expect(p2).toMatchObject({ reference: null, score: null, baseline: { collectedMs: 60_000, neededMs: 7_200_000, built: false } }); // prettier-ignore
  });

  it('keeps the last scored explanation in the summary of a window that was not scored, in the same state', () => {
    const scored = driftSummaryPayload(report(), 10);
    const unscored = report({
      status: 'too-few-samples',
      score: null,
      drivers: [],
      moved: [],
      scores: [],
      window: { start: 1_800_000, end: 2_700_000, frames: 3, imageFrames: 3 },
    });
    const s = driftSummaryPayload(unscored, 20, scored);
    expect(DriftSummaryPayload.parse(s)).toEqual(s);
    expect(s).toMatchObject({
      ts: 20,
      state: 'warn',
      lastWindow: { start: 1_800_000, frames: 3, status: 'too-few-samples' },
      score: scored.score,
      drivers: ['image.dark'],
      moved: scored.moved,
      top: scored.top,
    });
    expect(scored.drivers.length).toBeGreaterThan(0);
    // nothing to carry: no previous summary, another state, another reference or a scored window
    expect(driftSummaryPayload(unscored, 20)).toMatchObject({ score: null, drivers: [], top: [] });
    expect(driftSummaryPayload(report({ ...unscored, state: 'ok' }), 20, scored)).toMatchObject({
      drivers: [],
    });
    const otherRef = report({ ...unscored, reference: { ...report().reference!, id: 4 } });
    expect(driftSummaryPayload(otherRef, 20, scored)).toMatchObject({ drivers: [] });
    const rescored = report({ drivers: ['image.sharpness'] });
    expect(driftSummaryPayload(rescored, 20, scored).drivers).toEqual(['image.sharpness']);
  });

  it('summarises the five largest significant statistics, PSI first, with the p of the test that applies', () => {
    const many = report({
      scores: [
        ...report().scores,
        score({ name: 'image.castG', psi: 0.9, ks: { d: 0.5, p: 1e-30 }, significant: true }),
        score({ name: 'image.castRB', psi: 0.7, ks: { d: 0.4, p: 0.00456789 }, significant: true }),
        score({ name: 'image.contrast', psi: 5, ks: { d: 0.3, p: 0.5 }, significant: false }),
        score({ name: 'det.labels', psi: 0.15, ks: null, chi2: { statistic: 10, df: 2, p: 0.006737 }, significant: true }), // prettier-ignore
      ],
    });
    const s = driftSummaryPayload(many, 42);
    expect(DriftSummaryPayload.parse(s)).toEqual(s);
    expect(s.top).toEqual([
      { name: 'image.castG', psi: 0.9, p: 1e-30 },
      { name: 'image.castRB', psi: 0.7, p: 0.00457 },
      { name: 'det.position[person]', psi: 0.3333, p: 0.000123 },
      { name: 'image.sharpness', psi: 0.2, p: 0 },
      { name: 'det.labels', psi: 0.15, p: 0.00674 },
    ]);
    expect(s).toMatchObject({
      camera: 'gate',
      ts: 42,
      state: 'warn',
      stateSince: 1_800_000,
      lastWindow: { start: 900_000, end: 1_800_000, frames: 4500, imageFrames: 4400, status: 'scored' },
      score: 0.1235,
      drivers: ['image.dark'],
    });
    // the report's own order is left alone
    expect(many.scores.map((x) => x.name).slice(0, 2)).toEqual(['det.position[person]', 'det.score[car]']);
  });
});
