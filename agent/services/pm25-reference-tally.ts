/** What became of a message on `…/pm25/reference`. */
export type ReferenceOutcome = 'paired' | 'not-paired' | 'refused';

export interface LastReference {
  /** When this box received it, epoch ms. */
  receivedAt: number;
  /** The reading's own time (ISO 8601, as sent); null for a refused message. */
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

  /** `topic`: where the camera's readings are subscribed, shown so the installer can check the sensor's. */
  constructor(readonly topic: string) {}

  record(reading: LastReference): void {
    this.counts[reading.outcome]++;
    this.last = reading;
  }
}
