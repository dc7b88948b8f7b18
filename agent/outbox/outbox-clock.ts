import type { OutboxStatements } from './outbox-sql.js';

/** Where the clock stood against the wall clock, remembered in the database's meta table. */
interface Saved {
  age: number;
  wall: number;
}

/** A change of the wall clock's offset smaller than this is a slew, not a step worth reporting. */
const stepMs = 1000;

/**
 * The clock the outbox measures ages and expiries by (docs/adr/0009-outbox-age-clock.md). It runs at the
 * monotonic clock's pace, so a wall-clock step (NTP years ahead after a boot at 1970, or back a few minutes)
 * neither ages nor rejuvenates stored rows. It starts where the last run left it plus the downtime the wall
 * clock shows (none when the wall clock reads earlier than at the last save: no RTC), and never behind the
 * newest row, so rows stay in creation order by it.
 */
export class OutboxClock {
  private readonly base: number;
  private readonly mono0: number;
  private lastOffset: number;

  constructor(
    sql: OutboxStatements,
    private readonly wall: () => number,
    private readonly monotonic: () => number,
  ) {
    const wallNow = wall();
    const saved = readSaved(sql);
    const resumed = saved ? saved.age + Math.max(0, wallNow - saved.wall) : wallNow;
    const newest = (sql.newest.get() as { createdAt: number } | undefined)?.createdAt;
    this.base = Math.max(resumed, newest ?? -Infinity);
    this.mono0 = monotonic();
    this.lastOffset = wallNow - this.base;
  }

  /** Whole ms, as the wall clock's: stored in an INTEGER column and reported as ages. */
  now(): number {
    return Math.round(this.base + (this.monotonic() - this.mono0));
  }

  /**
   * Remembers where the clock stands against the wall clock (called inside a commit: no fsync of its own).
   * Returns how far the wall clock stepped since the previous save, 0 for none.
   */
  save(sql: OutboxStatements): number {
    const age = this.now();
    const wall = this.wall();
    sql.setMeta.run('clock', JSON.stringify({ age, wall } satisfies Saved));
    const offset = wall - age;
    const step = offset - this.lastOffset;
    this.lastOffset = offset;
    return Math.abs(step) >= stepMs ? step : 0;
  }
}

function readSaved(sql: OutboxStatements): Saved | undefined {
  const row = sql.getMeta.get('clock') as { value: string } | undefined;
  if (!row) return undefined;
  try {
    const saved = JSON.parse(row.value) as Partial<Saved>;
    return Number.isFinite(saved.age) && Number.isFinite(saved.wall) ? (saved as Saved) : undefined;
  } catch {
    return undefined;
  }
}
