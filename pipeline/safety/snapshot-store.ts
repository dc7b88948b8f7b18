import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SnapshotLimits {
  maxCount: number;
  maxBytes: number;
  maxAgeMs: number;
}

interface Entry {
  bytes: number;
  createdAt: number;
}

/** Event ids are file names here: only these characters get near the file system. */
const safeId = /^[A-Za-z0-9_-]{1,64}$/;
const suffix = '.jpg';

/**
 * Event snapshots on disk (`<dir>/<eventId>.jpg`), bounded by count, bytes and age: the oldest go first.
 * What is there is indexed on open, so the bounds hold across restarts.
 */
export class SnapshotStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  private constructor(
    readonly dir: string,
    private readonly limits: SnapshotLimits,
    /** Ages: the wall clock at open, then elapsed time (see open). */
    private readonly now: () => number,
  ) {}

  /**
   * `now` is the wall clock, read once here: from then on ages are elapsed time (`monotonic`), so NTP stepping
   * the clock years ahead (a box booted at 1970) does not delete every snapshot as too old, nor a step back
   * keep them for ever. A file dated after the opening (the clock went back since) counts as new.
   */
  static open(
    dir: string,
    limits: SnapshotLimits,
    now: () => number = Date.now,
    monotonic: () => number = () => performance.now(),
  ): SnapshotStore {
    mkdirSync(dir, { recursive: true });
    const openedAt = now();
    const mono0 = monotonic();
    const store = new SnapshotStore(dir, limits, () => openedAt + (monotonic() - mono0));
    const found = readdirSync(dir)
      .filter((f) => f.endsWith(suffix) && safeId.test(f.slice(0, -suffix.length)))
      .map((f) => ({ id: f.slice(0, -suffix.length), stat: statSync(path.join(dir, f)) }))
      .sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs);
    for (const { id, stat } of found)
      store.index(id, { bytes: stat.size, createdAt: Math.min(stat.mtimeMs, openedAt) });
    return store;
  }

  get count(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  has(eventId: string): boolean {
    return this.entries.has(eventId);
  }

  async put(eventId: string, jpeg: Buffer): Promise<void> {
    if (!safeId.test(eventId)) throw new Error(`not a snapshot id: ${eventId}`);
    await writeFile(this.file(eventId), jpeg);
    this.index(eventId, { bytes: jpeg.length, createdAt: this.now() });
    await this.prune();
  }

  /** The JPEG, or undefined when there is none (never taken, or already pruned). */
  async get(eventId: string): Promise<Buffer | undefined> {
    if (!safeId.test(eventId) || !this.entries.has(eventId)) return undefined;
    try {
      return await readFile(this.file(eventId));
    } catch {
      return undefined;
    }
  }

  /** Removes the oldest snapshots until every bound holds. */
  async prune(): Promise<number> {
    const { maxCount, maxBytes, maxAgeMs } = this.limits;
    const cutoff = this.now() - maxAgeMs;
    const doomed: string[] = [];
    for (const [id, e] of this.entries) {
      const over =
        this.entries.size - doomed.length > maxCount || this.bytes > maxBytes || e.createdAt < cutoff;
      if (!over) break; // in age order: the rest are younger and fit
      doomed.push(id);
      this.bytes -= e.bytes;
    }
    for (const id of doomed) this.entries.delete(id);
    await Promise.all(doomed.map((id) => unlink(this.file(id)).catch(() => undefined)));
    return doomed.length;
  }

  private index(id: string, entry: Entry): void {
    const old = this.entries.get(id);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(id);
    }
    this.entries.set(id, entry);
    this.bytes += entry.bytes;
  }

  private file(id: string): string {
    return path.join(this.dir, id + suffix);
  }
}
