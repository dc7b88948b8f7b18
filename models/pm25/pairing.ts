/** Frames kept for pairing with readings that arrive late (a sensor's hourly mean lands after the hour). */
export const pairMemoryMs = 6 * 3_600_000;

/**
 * Pairs closer in time than this are not both kept: a gateway sending a reading a minute made a pair a
 * minute, and with `forecast` bands a refit grows with the square of the pairs (20,000 pairs took 7 s of the
 * main thread). At one pair per 10 minutes a 45-day window holds at most 6,480. Hourly means are untouched.
 */
export const minPairSpacingMs = 10 * 60_000;

/**
 * What became of a reference reading: paired, or why not. `zero`: 0 µg/m³ is not fitted (the site model
 * works in ln PM2.5); `below-floor`: nor is a reading under minFittedPm25 (another unit?); `repeat`: a reading at this time is already paired (a QoS 1 re-delivery, a retained
 * reading sent again at every reconnect); `too-close`: a pair less than minPairSpacingMs from it exists; `no-frame`: no usable frame within pairWithinMinutes of it is kept.
 */
export type ReadingOutcome =
  { paired: true } | { paired: false; why: 'zero' | 'below-floor' | 'repeat' | 'too-close' | 'no-frame' };

interface PairableFrame {
  ts: number;
  x: number[];
}

/** The frames that passed the gates in the last hours, with their regressors; each pairs at most once. */
export class PairableFrames {
  private frames: PairableFrame[] = [];

  remember(ts: number, x: number[]): void {
    this.frames.push({ ts, x });
    this.frames = this.frames.filter((f) => f.ts >= ts - pairMemoryMs);
  }

  /** The frame nearest `t`, if one is within `withinMs` of it. */
  nearest(t: number, withinMs: number): PairableFrame | undefined {
    let best: PairableFrame | undefined;
    for (const f of this.frames) if (!best || Math.abs(f.ts - t) < Math.abs(best.ts - t)) best = f;
    return best && Math.abs(best.ts - t) <= withinMs ? best : undefined;
  }

  /** A frame paired: no other reading pairs with it. */
  take(frame: PairableFrame): void {
    this.frames = this.frames.filter((f) => f !== frame);
  }
}
