interface Tagged<T> {
  item: T;
  /** Virtual time at which this item may start (start-time fair queueing). */
  start: number;
  /** Push order, to break ties between equal tags. */
  seq: number;
}

interface KeyQueue<T> {
  items: Tagged<T>[];
  weight: number;
  /** Virtual finish time of this key's last item pushed: where its next item's tag starts. */
  finish: number;
  /** Its last waiting item was handed out: the next push continues its backlog (see push). */
  handedOut: boolean;
}

/**
 * A queue shared by several producers (cameras) that hands items out fairly, weighted: start-time fair
 * queueing (SFQ), one unit of work per item. Each item gets a virtual start tag — its key's previous
 * item's finish, or the queue's current virtual time if the key had nothing waiting — and costs
 * 1 / weight; the item with the smallest tag leaves first (ties in push order). Under saturation each key
 * gets a share proportional to its weight (weight 2: twice the items of weight 1) and none starves.
 *
 * Unlike a round robin that drops a key's turn when it momentarily runs dry, the tags remember how much a
 * key got: a camera with a frame or two in flight, whose next frame arrives just after a worker frees up,
 * still gets its weighted share. Idling earns no burst: a key that comes back starts at the current
 * virtual time, or, if its last item was handed out (one frame in flight), at most one unit before it.
 * Items of one key leave in the order they came.
 *
 * Drop-in for a FIFO array in a worker pool: `push(key, item)` for `queue.push`, `shift()` for
 * `queue.shift()`, `size` for `queue.length`, `drain()` for `queue.splice(0)`.
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, KeyQueue<T>>();
  /** Keys with items waiting. */
  private readonly active = new Set<string>();
  private count = 0;
  private seq = 0;
  /** The start tag of the item handed out last. */
  private virtualTime = 0;

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

  /** A key's share relative to others (default 1); applies to items pushed from now on. */
  setWeight(key: string, weight: number): void {
    checkWeight(weight);
    this.queueOf(key).weight = weight;
  }

  weightOf(key: string): number {
    return this.queues.get(key)?.weight ?? this.defaultWeight;
  }

  push(key: string, item: T): void {
    const q = this.queueOf(key);
    // A camera with one frame in flight (a pool of one worker) always runs dry: its next frame comes only
    // after the worker took another camera's item. Starting it at the virtual time would forfeit its weight
    // (measured: priority 2 got 1/3, as the others), so it continues from its own finish, at most one
    // unit behind (a camera back from a stall gets no more than one item ahead).
    const start = q.items.length
      ? q.finish
      : q.handedOut
        ? Math.max(this.virtualTime - 1, q.finish)
        : Math.max(this.virtualTime, q.finish);
    q.handedOut = false;
    q.finish = start + 1 / q.weight;
    q.items.push({ item, start, seq: this.seq++ });
    this.active.add(key);
    this.count++;
  }

  shift(): T | undefined {
    let best: KeyQueue<T> | undefined;
    let bestKey = '';
    for (const key of this.active) {
      const q = this.queues.get(key)!;
      const head = q.items[0]!;
      const b = best?.items[0];
      if (!b || head.start < b.start || (head.start === b.start && head.seq < b.seq)) {
        best = q;
        bestKey = key;
      }
    }
    if (!best) return undefined;
    const next = best.items.shift()!;
    if (!best.items.length) {
      this.active.delete(bestKey);
      best.handedOut = true;
    }
    this.count--;
    this.virtualTime = Math.max(this.virtualTime, next.start);
    return next.item;
  }

  /** Removes and returns one key's waiting items (its camera stopped). */
  remove(key: string): T[] {
    const q = this.queues.get(key);
    if (!q?.items.length) return [];
    const items = q.items.splice(0).map((t) => t.item);
    this.count -= items.length;
    this.active.delete(key);
    // What it did not get is not owed to it later.
    q.finish = this.virtualTime;
    q.handedOut = false;
    return items;
  }

  /** Removes and returns every waiting item, in the order they would have left (pool closing). */
  drain(): T[] {
    const out: T[] = [];
    while (this.count) out.push(this.shift() as T);
    return out;
  }

  private queueOf(key: string): KeyQueue<T> {
    let q = this.queues.get(key);
    if (!q) {
      q = { items: [], weight: this.defaultWeight, finish: 0, handedOut: false };
      this.queues.set(key, q);
    }
    return q;
  }
}

function checkWeight(w: number): void {
  if (!(w > 0) || !Number.isFinite(w)) throw new Error(`a queue weight must be a positive number, got ${w}`);
}
