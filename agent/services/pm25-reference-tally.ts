/** What became of a reference reading (a message on `…/pm25/reference` or a line of the reference CSV). */
export type ReferenceOutcome = 'paired' | 'not-paired' | 'refused';

export interface LastReference {
  /** When this box received it, epoch ms. */
  receivedAt: number;
  /** Where it came from: the reference topic or the reference CSV. */
  via: 'mqtt' | 'csv';
  /** The reading's own time (ISO 8601); null for a refused message. */
  ts: string | null;
  /** µg/m³ as sent; null for a refused message. */
  pm25: number | null;
  outcome: ReferenceOutcome;
  /** Why it was not paired, or refused; absent when paired. */
  reason?: string;
}

/**
 * One camera's reference readings since the agent started: what the status page and `/metrics` say of the
 * co-located sensor. An installer wiring a sensor sees there whether its readings arrive and pair, without
 * reading the log: a wrong topic, a wrong unit or a wrong clock shows as no reading, refusals or no pairs.
 */
export class Pm25ReferenceTally {
  readonly counts: Record<ReferenceOutcome, number> = { paired: 0, 'not-paired': 0, refused: 0 };
  last: LastReference | null = null;
  /** What is wrong with the reference CSV as a whole (missing, unreadable, no usable header), if anything. */
  csvProblem: string | null = null;

  /**
   * `topic`: where readings are subscribed (null without a broker); `csv`: the file followed (null without
   * one). Both are shown, so the installer can check the sensor's side against them.
   */
  constructor(
    readonly topic: string | null,
    readonly csv: string | null = null,
  ) {}

  record(reading: LastReference): void {
    this.counts[reading.outcome]++;
    this.last = reading;
  }
}
