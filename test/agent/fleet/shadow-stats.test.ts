import { describe, expect, it } from 'vitest';
import { iou, matchFrame, ShadowStats } from '../../../agent/fleet/shadow-stats.js';
import { ShadowReportPayload } from '../../../agent/fleet/fleet-payloads.js';
import type { Detection } from '../../../models/types.js';

const det = (label: string, x: number, y = 0, w = 10): Detection => ({
  label,
  classId: 0,
  score: 0.9,
  box: { x1: x, y1: y, x2: x + w, y2: y + w },
});

describe('shadow agreement', () => {
  it('iou of identical, disjoint and half-overlapping boxes', () => {
    expect(iou(det('a', 0).box, det('a', 0).box)).toBe(1);
    expect(iou(det('a', 0).box, det('a', 20).box)).toBe(0);
    expect(iou(det('a', 0).box, det('a', 5).box)).toBeCloseTo(50 / 150);
  });

  it('matches per label, each box once, best overlaps first', () => {
    const current = [det('person', 0), det('person', 100), det('car', 50)];
    const candidate = [det('person', 1), det('person', 2), det('car', 200), det('dog', 0)];
    const m = matchFrame(current, candidate, 0.5);
    expect(m.get('person')).toEqual({ matched: 1, candidateOnly: 1, currentOnly: 1 });
    expect(m.get('car')).toEqual({ matched: 0, candidateOnly: 1, currentOnly: 1 });
    expect(m.get('dog')).toEqual({ matched: 0, candidateOnly: 1, currentOnly: 0 });
  });

  it('reports precision and recall of the candidate against the current model, and latency', () => {
    const s = new ShadowStats(0.5);
    s.add([det('person', 0), det('person', 100)], [det('person', 0)], { current: 10, candidate: 30 });
    s.add([det('person', 0)], [det('person', 0)], { current: 12, candidate: 34 });
    s.add([], [], { current: 11, candidate: 32 });
    const r = s.report();
    expect(r).toMatchObject({ frames: 3, agreedFrames: 2, skipped: 0 });
    expect(r.labels.person).toEqual({
      matched: 2,
      candidateOnly: 0,
      currentOnly: 1,
      precision: 1,
      recall: 2 / 3,
    });
    expect(r.latencyMs.current).toMatchObject({ n: 3, p50: 11, mean: 11 });
    expect(r.latencyMs.candidate.p95).toBe(34);
    // The report is a valid payload once identity is added.
    expect(() =>
      ShadowReportPayload.parse({ site: 's', device: 'd', revision: 1, candidate: 'c', ...r, ts: 1 }),
    ).not.toThrow();
  });
});
