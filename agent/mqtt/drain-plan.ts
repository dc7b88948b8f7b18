import type { OutboxReader } from '../outbox/outbox-reader.js';
import type { OutboxRow } from '../outbox/outbox.js';

const scanChunk = 64;

/**
 * Chooses the rows a connection publishes next. Rows committed before the connection was made are the
 * backlog: they go out oldest first at no more than `ratePerS`. Rows committed after are live and go at
 * once, except that a key (stream, else topic) still holding backlog is blocked until that backlog is
 * acknowledged: within a key, order is commit order. Live and backlog rows alternate in the window, so
 * neither starves the other.
 */
export class DrainPlan {
  private boundary = 0;
  private backlogCursor = 0;
  private liveCursor = 0;
  private blocked = new Set<string>();
  private tokens = 0;
  private refilledAt = 0;
  private readonly burst: number;

  constructor(
    private readonly outbox: OutboxReader,
    private readonly ratePerS: number,
    /** Monotonic ms: a wall clock stepped back an hour would owe the bucket an hour of rows. */
    private readonly now: () => number = () => performance.now(),
  ) {
    // A tenth of a second's worth: smooth, yet a low rate still sends one at a time.
    this.burst = Math.max(1, Math.ceil(ratePerS / 10));
  }

  /** A new connection: everything committed so far is backlog. */
  reset(): void {
    this.boundary = this.outbox.lastRowid();
    this.backlogCursor = 0;
    this.liveCursor = this.boundary;
    this.blocked = new Set(this.boundary > 0 ? this.outbox.keysUpTo(this.boundary) : []);
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  /** Rows of the backlog not yet acknowledged (in flight included). */
  backlogRows(): number {
    return this.boundary > 0 ? this.outbox.countUpTo(this.boundary) : 0;
  }

  /** Up to `room` rows to publish now, none of them in `inflight`. */
  take(room: number, inflight: ReadonlySet<number>): OutboxRow[] {
    if (room <= 0) return [];
    this.refill();
    this.unblock();
    const backlog = this.outbox.rowsAfter(
      this.backlogCursor,
      Math.min(room, Math.floor(this.tokens)),
      this.boundary,
    );
    const live = this.scanLive(room, inflight);
    const out: OutboxRow[] = [];
    let b = 0;
    let l = 0;
    while (out.length < room && (b < backlog.length || l < live.rows.length)) {
      const liveTurn = out.length % 2 === 0 || b === backlog.length;
      out.push(liveTurn && l < live.rows.length ? live.rows[l++]! : backlog[b++]!);
    }
    if (b > 0) {
      this.backlogCursor = backlog[b - 1]!.rowid;
      this.tokens -= b;
    }
    // Rows passed over (blocked, in flight) up to the last one used need no second look until a key unblocks.
    if (l === live.rows.length) this.liveCursor = live.scanEnd;
    else if (l > 0) this.liveCursor = live.rows[l - 1]!.rowid;
    return out;
  }

  /** Milliseconds until the rate allows the next backlog row, when backlog rows are waiting for it. */
  waitMs(): number | undefined {
    this.refill();
    if (this.tokens >= 1) return undefined;
    if (this.outbox.rowsAfter(this.backlogCursor, 1, this.boundary).length === 0) return undefined;
    return Math.ceil(((1 - this.tokens) / this.ratePerS) * 1000);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.refilledAt) / 1000) * this.ratePerS);
    this.refilledAt = t;
  }

  /** A key whose backlog is all acknowledged (or dropped) is live from now on. */
  private unblock(): void {
    let any = false;
    for (const key of this.blocked) {
      if (this.outbox.hasKeyUpTo(key, this.boundary)) continue;
      this.blocked.delete(key);
      any = true;
    }
    // Its live rows were passed over: look at the live rows again from the start.
    if (any) this.liveCursor = this.boundary;
  }

  private scanLive(room: number, inflight: ReadonlySet<number>): { rows: OutboxRow[]; scanEnd: number } {
    const rows: OutboxRow[] = [];
    let cursor = this.liveCursor;
    for (;;) {
      const chunk = this.outbox.rowsAfter(cursor, scanChunk);
      for (const r of chunk) {
        if (rows.length === room) return { rows, scanEnd: cursor };
        cursor = r.rowid;
        if (!inflight.has(r.rowid) && !this.blocked.has(r.key)) rows.push(r);
      }
      if (chunk.length < scanChunk || rows.length === room) return { rows, scanEnd: cursor };
    }
  }
}
