import { readFileSync } from 'node:fs';

/** One reading of the agent under soak: its memory (from /proc and its /metrics) and its counters. */
export interface SoakSample {
  /** Seconds since the soak began. */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  processed: number;
  dropped: number;
  outboxRows: number;
  outboxDrops: number;
  connected: boolean;
}

/** Resident memory of a process (all its threads), MiB, from /proc/<pid>/status. */
export function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kib) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) / 1024;
}

/** The sum of a metric's samples over all its labels in Prometheus text (undefined when absent). */
export function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue; // a longer name with this prefix
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

export function sampleFromMetrics(t: number, pid: number, text: string): SoakSample {
  const v = (name: string) => metricSum(text, name) ?? NaN;
  const MiB = 1024 * 1024;
  return {
    t,
    rssMiB: rssMiB(pid),
    heapUsedMiB: v('nodejs_heap_size_used_bytes') / MiB,
    externalMiB: v('nodejs_external_memory_bytes') / MiB,
    processed: v('vigil_camera_processed_frames_total'),
    dropped: v('vigil_camera_dropped_frames_total'),
    outboxRows: v('vigil_outbox_rows'),
    outboxDrops: v('vigil_outbox_dropped_messages_total'),
    connected: v('vigil_mqtt_connected') === 1,
  };
}

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

/**
 * The lowest value of each `bucketS`-second stretch: the heap saws up between collections, and the floor
 * after each collection is what a leak lifts.
 */
export function floors(samples: SoakSample[], pick: (s: SoakSample) => number, bucketS: number) {
  const byBucket = new Map<number, [number, number]>();
  for (const s of samples) {
    const b = Math.floor(s.t / bucketS);
    const v = pick(s);
    const seen = byBucket.get(b);
    if (!seen || v < seen[1]) byBucket.set(b, [s.t, v]);
  }
  return [...byBucket.values()];
}

/** Per stretch of `blockS` seconds: mean and lowest RSS, lowest heap and external (the floors after GC). */
export function blocks(samples: SoakSample[], blockS: number) {
  const by = new Map<number, SoakSample[]>();
  for (const s of samples) {
    const b = Math.floor(s.t / blockS);
    const list = by.get(b);
    if (list) list.push(s);
    else by.set(b, [s]);
  }
  return [...by].map(([b, ss]) => ({
    from: b * blockS,
    to: Math.min((b + 1) * blockS, ss.at(-1)!.t),
    rssMean: ss.reduce((a, s) => a + s.rssMiB, 0) / ss.length,
    rssMin: Math.min(...ss.map((s) => s.rssMiB)),
    heapMin: Math.min(...ss.map((s) => s.heapUsedMiB)),
    externalMin: Math.min(...ss.map((s) => s.externalMiB)),
  }));
}

/** Per camera: the `seq` values a subscriber received, and what is missing between the first and the last. */
export class SeqLedger {
  private readonly seen = new Map<string, Set<number>>();
  duplicates = 0;
  received = 0;

  add(camera: string, seq: number): void {
    let set = this.seen.get(camera);
    if (!set) this.seen.set(camera, (set = new Set()));
    this.received++;
    if (set.has(seq)) this.duplicates++;
    else set.add(seq);
  }

  summary(): { camera: string; min: number; max: number; unique: number; missing: number }[] {
    return [...this.seen].map(([camera, set]) => {
      let min = Infinity;
      let max = -Infinity;
      for (const v of set) [min, max] = [Math.min(min, v), Math.max(max, v)];
      return { camera, min, max, unique: set.size, missing: max - min + 1 - set.size };
    });
  }
}
