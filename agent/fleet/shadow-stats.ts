import type { Box, Detection } from '../../models/types.js';
import type { LabelAgreement, ShadowReportPayload } from './fleet-payloads.js';

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (r: Box) => (r.x2 - r.x1) * (r.y2 - r.y1);
  return inter / (area(a) + area(b) - inter);
}

interface Counts {
  matched: number;
  candidateOnly: number;
  currentOnly: number;
}

/**
 * Matches one frame's boxes: per label, greedily by IoU (highest pairs first), each box used once. The
 * current model is the reference: a candidate box with no partner is `candidateOnly`, a current box with
 * none is `currentOnly`.
 */
export function matchFrame(
  current: Detection[],
  candidate: Detection[],
  minIou: number,
): Map<string, Counts> {
  const out = new Map<string, Counts>();
  const labels = new Set([...current.map((d) => d.label), ...candidate.map((d) => d.label)]);
  for (const label of labels) {
    const cur = current.filter((d) => d.label === label);
    const cand = candidate.filter((d) => d.label === label);
    const pairs: [number, number, number][] = [];
    cur.forEach((a, i) => cand.forEach((b, j) => pairs.push([iou(a.box, b.box), i, j])));
    pairs.sort((p, q) => q[0] - p[0]);
    const usedCur = new Set<number>();
    const usedCand = new Set<number>();
    for (const [v, i, j] of pairs) {
      if (v < minIou) break;
      if (usedCur.has(i) || usedCand.has(j)) continue;
      usedCur.add(i);
      usedCand.add(j);
    }
    out.set(label, {
      matched: usedCur.size,
      candidateOnly: cand.length - usedCand.size,
      currentOnly: cur.length - usedCur.size,
    });
  }
  return out;
}

function agreement(c: Counts): LabelAgreement {
  const p = c.matched + c.candidateOnly;
  const r = c.matched + c.currentOnly;
  return { ...c, precision: p ? c.matched / p : null, recall: r ? c.matched / r : null };
}

function latency(xs: number[]) {
  if (!xs.length) return { n: 0, mean: 0, p50: 0, p95: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: s.length, mean: r(s.reduce((a, b) => a + b, 0) / s.length), p50: r(q(0.5)), p95: r(q(0.95)) };
}

/** Running agreement of a candidate model with the current one, since a trial began. */
export class ShadowStats {
  frames = 0;
  skipped = 0;
  agreedFrames = 0;
  private readonly labels = new Map<string, Counts>();
  /** Latest inference times (bounded: the report is about the recent behaviour). */
  private readonly latency = { current: [] as number[], candidate: [] as number[] };
  readonly since = Date.now();

  constructor(private readonly minIou: number) {}

  add(current: Detection[], candidate: Detection[], ms: { current: number; candidate: number }): void {
    this.frames++;
    let agreed = true;
    for (const [label, c] of matchFrame(current, candidate, this.minIou)) {
      const t = this.labels.get(label) ?? { matched: 0, candidateOnly: 0, currentOnly: 0 };
      t.matched += c.matched;
      t.candidateOnly += c.candidateOnly;
      t.currentOnly += c.currentOnly;
      this.labels.set(label, t);
      if (c.candidateOnly || c.currentOnly) agreed = false;
    }
    if (agreed) this.agreedFrames++;
    for (const k of ['current', 'candidate'] as const) {
      this.latency[k].push(ms[k]);
      if (this.latency[k].length > 1000) this.latency[k].shift();
    }
  }

  report(): Omit<ShadowReportPayload, 'site' | 'device' | 'revision' | 'candidate' | 'ts'> {
    const total: Counts = { matched: 0, candidateOnly: 0, currentOnly: 0 };
    const labels: Record<string, LabelAgreement> = {};
    for (const [label, c] of [...this.labels].sort(([a], [b]) => a.localeCompare(b))) {
      labels[label] = agreement(c);
      total.matched += c.matched;
      total.candidateOnly += c.candidateOnly;
      total.currentOnly += c.currentOnly;
    }
    return {
      frames: this.frames,
      skipped: this.skipped,
      agreedFrames: this.agreedFrames,
      overall: agreement(total),
      labels,
      latencyMs: { current: latency(this.latency.current), candidate: latency(this.latency.candidate) },
      since: this.since,
    };
  }
}
