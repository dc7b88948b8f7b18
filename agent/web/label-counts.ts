import type { Detection } from '../../models/types.js';

interface Bucket {
  second: number;
  frames: number;
  /** Per label: detections in the bucket, and the most in one frame. */
  counts: Map<string, { n: number; max: number }>;
}

export interface LabelCount {
  label: string;
  /** Detections over the window (a parked car counts once per frame). */
  count: number;
  /** The most in one frame. */
  max: number;
  /** Mean per processed frame: roughly how many are in view. */
  perFrame: number;
}

/**
 * Detections per label per camera over a sliding window, in one-second buckets: what a camera has been
 * seeing lately. Adding a frame's detections is a few map updates, cheap enough for every event.
 */
export class LabelCounts {
  private readonly cameras = new Map<string, Bucket[]>();

  constructor(
    readonly windowS = 60,
    /** Monotonic: on the wall clock a step back kept the buckets from before it in the window. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(camera: string, detections: readonly Pick<Detection, 'label'>[]): void {
    const second = Math.floor(this.now() / 1000);
    let buckets = this.cameras.get(camera);
    if (!buckets) this.cameras.set(camera, (buckets = []));
    let last = buckets.at(-1);
    if (!last || last.second !== second) {
      last = { second, frames: 0, counts: new Map() };
      buckets.push(last);
      this.trim(buckets, second);
    }
    last.frames++;
    const inFrame = new Map<string, number>();
    for (const d of detections) inFrame.set(d.label, (inFrame.get(d.label) ?? 0) + 1);
    for (const [label, n] of inFrame) {
      const c = last.counts.get(label);
      if (c) {
        c.n += n;
        c.max = Math.max(c.max, n);
      } else last.counts.set(label, { n, max: n });
    }
  }

  /** Labels seen in the window, most frequent first (ties by name, so the page does not shuffle). */
  recent(camera: string): LabelCount[] {
    const buckets = this.cameras.get(camera);
    if (!buckets) return [];
    this.trim(buckets, Math.floor(this.now() / 1000));
    let frames = 0;
    const total = new Map<string, { n: number; max: number }>();
    for (const b of buckets) {
      frames += b.frames;
      for (const [label, c] of b.counts) {
        const t = total.get(label);
        if (t) {
          t.n += c.n;
          t.max = Math.max(t.max, c.max);
        } else total.set(label, { ...c });
      }
    }
    return (
      [...total]
        .map(([label, t]) => ({
          label,
          count: t.n,
          max: t.max,
          perFrame: Math.round((t.n / frames) * 10) / 10,
        }))
        // Plain code-unit order for the ties: a stable order is all the page needs, and localeCompare (ICU) was
        // most of the status build's cost in a profile.
        .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
    );
  }

  /** Cameras with counts kept. */
  get cameraIds(): string[] {
    return [...this.cameras.keys()];
  }

  forget(camera: string): void {
    this.cameras.delete(camera);
  }

  private trim(buckets: Bucket[], second: number): void {
    while (buckets.length && buckets[0]!.second <= second - this.windowS) buckets.shift();
  }
}
