import { z } from 'zod';
import { Histogram, HistogramJson, mergeKeyed, sameSpec, type KeyedCounts } from './histogram.js';
import { isPerFrameCount } from './statistics.js';

/**
 * The histograms of a stretch of time: one window, a reference, or any merge of them. Mergeable by
 * addition, so a fleet can add windows across time and devices.
 */
export const DriftProfile = z.strictObject({
  /** Frames whose detections were counted. */
  frames: z.number().int().nonnegative(),
  /** Frames whose pixels were measured (fewer when a buffer had already gone to the inference worker). */
  imageFrames: z.number().int().nonnegative(),
  hists: z.record(z.string(), HistogramJson),
  keyed: z.record(z.string(), z.record(z.string(), z.number().nonnegative())),
});
export type DriftProfile = z.infer<typeof DriftProfile>;

export const emptyProfile = (): DriftProfile => ({ frames: 0, imageFrames: 0, hists: {}, keyed: {} });

export function mergeProfiles(a: DriftProfile, b: DriftProfile): DriftProfile {
  const hists: Record<string, HistogramJson> = { ...a.hists };
  for (const [name, h] of Object.entries(b.hists)) {
    const mine = hists[name];
    if (mine && !sameSpec(mine.spec, h.spec)) throw new Error(`cannot merge ${name}: its bins differ`);
    hists[name] = mine ? Histogram.merge(Histogram.fromJSON(mine), Histogram.fromJSON(h)).toJSON() : h;
  }
  const keyed: Record<string, KeyedCounts> = { ...a.keyed };
  for (const [name, k] of Object.entries(b.keyed)) keyed[name] = mergeKeyed(keyed[name] ?? {}, k);
  return { frames: a.frames + b.frames, imageFrames: a.imageFrames + b.imageFrames, hists, keyed };
}

export function mergeAll(profiles: Iterable<DriftProfile>): DriftProfile {
  let out = emptyProfile();
  for (const p of profiles) out = mergeProfiles(out, p);
  return out;
}

/**
 * The counts of one statistic as compared: per-frame counts get their zero bin filled in, and a
 * per-frame count the profile never saw is all zeros. Null when the profile has no such histogram.
 */
export function countsOf(profile: DriftProfile, name: string, spec: HistogramJson['spec']): number[] | null {
  const h = profile.hists[name];
  if (h && !sameSpec(h.spec, spec)) return null;
  if (!isPerFrameCount(name)) return h ? [...h.counts] : null;
  const counts = h ? [...h.counts] : new Array<number>(spec.kind === 'edges' ? spec.lower.length : 0).fill(0);
  const seen = counts.reduce((s, c) => s + c, 0);
  counts[0] = (counts[0] ?? 0) + Math.max(0, profile.frames - seen);
  return counts;
}
