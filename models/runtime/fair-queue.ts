interface KeyQueue<T> {
  items: T[];
  weight: number;
  /** Credit left in this key's turn (deficit round robin), in items. */
  deficit: number;
  /** The key's turn has begun: its quantum is already added. */
  inTurn: boolean;
}

/**
 * A queue shared by several producers (cameras) that hands items out fairly: deficit round robin, one
 * unit of cost per item. Each key with items waiting takes its turn in order; a turn adds the key's
 * weight to its credit and serves while the credit lasts, so under saturation each key gets a share
 * proportional to its weight (weight 2: twice the items of weight 1) and none starves. A key that runs
 * dry loses its credit: idling earns no burst later. Items of one key leave in the order they came.
 *
 * Drop-in for a FIFO array in a worker pool: `push(key, item)` for `queue.push`, `shift()` for
 * `queue.shift()`, `size` for `queue.length`, `drain()` for `queue.splice(0)`.
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, KeyQueue<T>>();
  /** Keys with items, in turn order; the first is the one being served. */
  private readonly active: string[] = [];
  private count = 0;

  constructor(private readonly defaultWeight = 1) {
    checkWeight(defaultWeight);
  }

  get size(): number {
    return this.count;
  }

  /** Items waiting for one key. */
  sizeOf(key: string): number {
    return this.queues.get(key)?.items.length ?? 0;
  }

  /** A key's share relative to others (default 1); takes effect from its next turn. */
  setWeight(key: string, weight: number): void {
    checkWeight(weight);
    this.queueOf(key).weight = weight;
  }

  weightOf(key: string): number {
    return this.queues.get(key)?.weight ?? this.defaultWeight;
  }

  push(key: string, item: T): void {
    const q = this.queueOf(key);
    if (!q.items.length) {
      q.deficit = 0;
      q.inTurn = false;
      this.active.push(key);
    }
    q.items.push(item);
    this.count++;
  }

  shift(): T | undefined {
    if (!this.count) return undefined;
    // Terminates: every pass over the active keys adds a positive weight to each one's credit.
    for (;;) {
      const key = this.active[0]!;
      const q = this.queues.get(key)!;
      if (!q.inTurn) {
        q.deficit += q.weight;
        q.inTurn = true;
      }
      if (q.deficit < 1) {
        this.endTurn(q);
        continue;
      }
      q.deficit -= 1;
      const item = q.items.shift()!;
      this.count--;
      if (!q.items.length) {
        this.active.shift();
        q.deficit = 0;
        q.inTurn = false;
      } else if (q.deficit < 1) {
        this.endTurn(q);
      }
      return item;
    }
  }

  /** Removes and returns one key's waiting items (its camera stopped). */
  remove(key: string): T[] {
    const q = this.queues.get(key);
    if (!q?.items.length) return [];
    const items = q.items.splice(0);
    this.count -= items.length;
    this.active.splice(this.active.indexOf(key), 1);
    q.deficit = 0;
    q.inTurn = false;
    return items;
  }

  /** Removes and returns every waiting item, oldest key turn first (pool closing). */
  drain(): T[] {
    const out: T[] = [];
    for (const key of [...this.active]) out.push(...this.remove(key));
    return out;
  }

  private endTurn(q: KeyQueue<T>): void {
    q.inTurn = false;
    this.active.push(this.active.shift()!);
  }

  private queueOf(key: string): KeyQueue<T> {
    let q = this.queues.get(key);
    if (!q) {
      q = { items: [], weight: this.defaultWeight, deficit: 0, inTurn: false };
      this.queues.set(key, q);
    }
    return q;
  }
}

function checkWeight(w: number): void {
  if (!(w > 0) || !Number.isFinite(w)) throw new Error(`a queue weight must be a positive number, got ${w}`);
}
