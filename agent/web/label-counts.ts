import type { Detection } from '../../models/types.js';

interface Bucket {
  second: number;
  counts: Map<string, number>;
}

/**
 * Detections per label per camera over a sliding window, in one-second buckets: what a camera has been
 * seeing lately. Adding a frame's detections is a few map updates, cheap enough for every event.
 */
export class LabelCounts {
  private readonly cameras = new Map<string, Bucket[]>();

  constructor(
    readonly windowS = 60,
    private readonly now: () => number = Date.now,
  ) {}

  add(camera: string, detections: readonly Pick<Detection, 'label'>[]): void {
    const second = Math.floor(this.now() / 1000);
    let buckets = this.cameras.get(camera);
    if (!buckets) this.cameras.set(camera, (buckets = []));
    let last = buckets.at(-1);
    if (!last || last.second !== second) {
      last = { second, counts: new Map() };
      buckets.push(last);
      this.trim(buckets, second);
    }
    for (const d of detections) last.counts.set(d.label, (last.counts.get(d.label) ?? 0) + 1);
  }

  /** Labels seen in the window, most frequent first (ties by name, so the page does not shuffle). */
  recent(camera: string): { label: string; count: number }[] {
    const buckets = this.cameras.get(camera);
    if (!buckets) return [];
    this.trim(buckets, Math.floor(this.now() / 1000));
    const total = new Map<string, number>();
    for (const b of buckets) for (const [label, n] of b.counts) total.set(label, (total.get(label) ?? 0) + n);
    return [...total]
      .map(([label, count]) => ({ label, count }))
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  }

  forget(camera: string): void {
    this.cameras.delete(camera);
  }

  private trim(buckets: Bucket[], second: number): void {
    while (buckets.length && buckets[0]!.second <= second - this.windowS) buckets.shift();
  }
}
