import type { DetectionResult } from '../../models/types.js';
import { Histogram, type KeyedCounts } from './histogram.js';
import type { ImageStats } from './image-stats.js';
import type { DriftProfile } from './profile.js';
import {
  frameStatSpecs,
  imageStatSpecs,
  labelStatName,
  labelStatSpecs,
  type ImageStatName,
  type KeyedStatName,
  type LabelStatKind,
} from './statistics.js';

/** What addDetections needs of a DetectionEvent. */
export interface DetectionsSample {
  srcWidth: number;
  srcHeight: number;
  result: Pick<DetectionResult, 'detections' | 'inferenceMs'>;
}

type LabelHists = Record<LabelStatKind, Histogram>;

/** The label that detections beyond maxLabels are counted under. */
export const otherLabel = 'other';

const imageKeys = Object.keys(imageStatSpecs).map((name) => [name, name.slice('image.'.length)]) as [
  ImageStatName,
  keyof ImageStats,
][];

/**
 * One camera's histograms for the current window. Every add is a handful of bin increments, so it can
 * run on every frame; snapshot() hands the window over as a DriftProfile and reset() starts the next.
 */
export class DriftAccumulator {
  private frames = 0;
  private imageFrames = 0;
  private readonly image = new Map<ImageStatName, Histogram>();
  private readonly labels = new Map<string, LabelHists>();
  private readonly frame = new Map<string, Histogram>();
  private readonly keyed = new Map<KeyedStatName, KeyedCounts>();
  /** Reused per call: detections per label in the frame being added. */
  private readonly perLabel = new Map<string, number>();

  constructor(private readonly opts: { maxLabels: number } = { maxLabels: 16 }) {}

  get frameCount(): number {
    return this.frames;
  }

  /** Image statistics of one frame (imageStatsOf); null (a detached buffer) is skipped. */
  addFrame(stats: ImageStats | null): void {
    if (!stats) return;
    this.imageFrames++;
    for (const [name, key] of imageKeys) {
      let h = this.image.get(name);
      if (!h) this.image.set(name, (h = new Histogram(imageStatSpecs[name])));
      h.add(stats[key]);
    }
  }

  /** The detections of one processed frame (a DetectionEvent fits). */
  addDetections(sample: DetectionsSample): void {
    this.frames++;
    const { srcWidth: w, srcHeight: h, result } = sample;
    const frameArea = w * h;
    const { cols, rows } = labelStatSpecs.position;
    this.perLabel.clear();
    for (const d of result.detections) {
      const label = this.labelFor(d.label);
      const hs = this.histsOf(label);
      const bw = d.box.x2 - d.box.x1;
      const bh = d.box.y2 - d.box.y1;
      hs.score.add(d.score);
      hs.area.add(frameArea > 0 ? (bw * bh) / frameArea : NaN);
      hs.aspect.add(bh > 0 ? bw / bh : NaN);
      const col = Math.min(cols - 1, Math.max(0, Math.floor((((d.box.x1 + d.box.x2) / 2) * cols) / w)));
      const row = Math.min(rows - 1, Math.max(0, Math.floor((((d.box.y1 + d.box.y2) / 2) * rows) / h)));
      hs.position.addToBin(row * cols + col);
      this.perLabel.set(label, (this.perLabel.get(label) ?? 0) + 1);
    }
    // Zero counts are implicit (frames − total), so only labels present in this frame are touched.
    let total = 0;
    const labels = this.keyedOf('det.labels');
    for (const [label, n] of this.perLabel) {
      this.labels.get(label)!.perFrame.add(n);
      labels[label] = (labels[label] ?? 0) + n;
      total += n;
    }
    if (total > 0) this.frameHist('det.perFrame').add(total);
    if (Number.isFinite(result.inferenceMs)) this.frameHist('latency.inferenceMs').add(result.inferenceMs);
  }

  /** A PM2.5 estimate (µg/m³) for this camera. */
  addPm25(ugm3: number): void {
    this.frameHist('pm25').add(ugm3);
  }

  /** A quality gate's verdict on one frame (models/pm25 gates): `pass`, or each flag that withheld it. */
  addQualityGate(result: { passed: boolean; flags: readonly string[] }): void {
    const gate = this.keyedOf('quality.gate');
    for (const outcome of result.passed ? ['pass'] : result.flags.length ? result.flags : ['withheld']) {
      gate[outcome] = (gate[outcome] ?? 0) + 1;
    }
  }

  snapshot(): DriftProfile {
    const hists: DriftProfile['hists'] = {};
    for (const [name, h] of this.image) hists[name] = h.toJSON();
    for (const [label, hs] of this.labels) {
      for (const kind of Object.keys(hs) as LabelStatKind[]) {
        if (hs[kind].n > 0) hists[labelStatName(kind, label)] = hs[kind].toJSON();
      }
    }
    for (const [name, h] of this.frame) hists[name] = h.toJSON();
    const keyed: DriftProfile['keyed'] = {};
    for (const [name, k] of this.keyed) keyed[name] = { ...k };
    return { frames: this.frames, imageFrames: this.imageFrames, hists, keyed };
  }

  reset(): void {
    this.frames = 0;
    this.imageFrames = 0;
    this.image.clear();
    this.labels.clear();
    this.frame.clear();
    this.keyed.clear();
  }

  private labelFor(label: string): string {
    if (this.labels.has(label) || this.labels.size < this.opts.maxLabels) return label;
    return otherLabel;
  }

  private histsOf(label: string): LabelHists {
    let hs = this.labels.get(label);
    if (!hs) {
      const s = labelStatSpecs;
      hs = {
        score: new Histogram(s.score),
        area: new Histogram(s.area),
        aspect: new Histogram(s.aspect),
        position: new Histogram(s.position),
        perFrame: new Histogram(s.perFrame),
      };
      this.labels.set(label, hs);
    }
    return hs;
  }

  private frameHist(name: keyof typeof frameStatSpecs): Histogram {
    let h = this.frame.get(name);
    if (!h) this.frame.set(name, (h = new Histogram(frameStatSpecs[name])));
    return h;
  }

  private keyedOf(name: KeyedStatName): KeyedCounts {
    let k = this.keyed.get(name);
    if (!k) this.keyed.set(name, (k = {}));
    return k;
  }
}
