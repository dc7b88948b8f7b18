import type { Logger } from '../../config/logger.js';
import type { Pm25Estimator } from '../../models/pm25/estimator.js';
import { minPairSpacingMs, pairMemoryMs, type ReadingOutcome } from '../../models/pm25/pairing.js';
import { minFittedPm25, Pm25ReferenceReading } from '../../models/pm25/payloads.js';
import type { LastReference, Pm25ReferenceTally } from './pm25-reference-tally.js';

export type ParsedReference = { ok: true; reading: Pm25ReferenceReading } | { ok: false; reason: string };

/**
 * A message on `…/pm25/reference`, read into a reading or the reason it is refused: every problem with the
 * field it is about, since the sensor's integrator has to know which one to fix.
 */
export function parseReferenceReading(payload: Buffer): ParsedReference {
  // Zero bytes is how MQTT clears a retained message: said as such, not as JSON that ended early.
  if (payload.length === 0)
    return { ok: false, reason: 'empty payload (a retained reading cleared?): no reading in it' };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = Pm25ReferenceReading.safeParse(json);
  if (parsed.success) return { ok: true, reading: parsed.data };
  const reason = parsed.error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  return { ok: false, reason };
}

/** How a reading's outcome is logged: a warning when the sensor's integrator has something to fix. */
export interface ReadingNote {
  level: 'info' | 'warn';
  reason?: string;
}

/** The log line for a reading that parsed: what became of it, and why when it did not pair. */
export function readingNote(
  outcome: ReadingOutcome,
  readingTs: string,
  now: number,
  pairWithinMinutes: number,
): ReadingNote {
  if (outcome.paired) return { level: 'info' };
  if (outcome.why === 'zero')
    return {
      level: 'info',
      reason: '0 ug/m3 is not fitted (the site model works in ln PM2.5); its humidity is taken',
    };
  if (outcome.why === 'below-floor')
    return {
      level: 'warn',
      reason:
        `under ${minFittedPm25} ug/m3 is not fitted: below what sensors resolve, and its ln would outweigh the ` +
        'other pairs (a reading in mg/m3?); its humidity is taken',
    };
  if (outcome.why === 'repeat')
    return {
      level: 'info',
      reason: 'a reading at this ts is already paired (a re-delivery or a retained repeat)',
    };
  if (outcome.why === 'too-close')
    return {
      level: 'info',
      reason:
        `a pair less than ${minPairSpacingMs / 60_000} min from this ts is kept: readings closer than that are ` +
        'not all fitted (send hourly means)',
    };
  const skew = clockSkewReason(readingTs, now, pairWithinMinutes);
  if (skew) return { level: 'warn', reason: skew };
  return {
    level: 'info',
    reason:
      `no frame that passed the gates within ${pairWithinMinutes} min of its ts (night, fog or another gate, ` +
      'the camera not streaming then, or those frames already paired)',
  };
}

/**
 * Why a reading could not pair, when it is the clocks: its `ts` further ahead of this box's clock than a pair
 * may span, or older than the frames kept for late readings. Frames are stamped with the box's clock, so a
 * box booted without RTC (1970, or its image's date) or a sensor with a wrong clock pairs nothing, and the
 * log must say which two times disagree. A reading a few hours late is normal (a gateway's backlog): it pairs
 * with the frames of its time when there were any, and is not blamed on a clock.
 */
export function clockSkewReason(
  readingTs: string,
  now: number,
  pairWithinMinutes: number,
): string | undefined {
  const skewMs = Date.parse(readingTs) - now;
  const within = pairWithinMinutes * 60_000;
  const ahead = skewMs > within;
  if (!ahead && !(-skewMs > pairMemoryMs + within)) return undefined;
  const hours = Math.abs(skewMs) / 3_600_000;
  const span = hours >= 48 ? `${Math.round(hours / 24)} days` : `${Math.round(hours * 10) / 10} h`;
  const clocks = `${span} ${ahead ? 'ahead of' : 'behind'} this box's clock (${new Date(now).toISOString()})`;
  return ahead
    ? `its ts (${readingTs}) is ${clocks}: the box's clock or the sensor's is wrong, so it pairs with no frame`
    : `its ts (${readingTs}) is ${clocks}, older than the ${pairMemoryMs / 3_600_000} h of frames kept for ` +
        "late readings: the box's clock or the sensor's is wrong, or the reading came too late to pair";
}

/** Where a camera's reference readings go: its estimator, its log and its tally. */
export interface ReadingSink {
  estimator: Pm25Estimator;
  tally: Pm25ReferenceTally;
  log: Logger;
  pairWithinMinutes: number;
}

/** Offers a reading to the estimator; logs and counts what became of it, and why when it did not pair. */
export function takeReading(
  sink: ReadingSink,
  r: { ts: string; pm25: number; humidity?: number },
  via: LastReference['via'],
  receivedAt = Date.now(),
): void {
  const outcome = sink.estimator.offerReading({
    ts: new Date(r.ts),
    pm25: r.pm25,
    ...(r.humidity === undefined ? {} : { humidity: r.humidity }),
  });
  const note = readingNote(outcome, r.ts, receivedAt, sink.pairWithinMinutes);
  const reason = note.reason ? { reason: note.reason } : {};
  sink.log[note.level]('PM2.5 reference reading', { pm25: r.pm25, paired: outcome.paired, via, ...reason });
  const result = outcome.paired ? 'paired' : 'not-paired';
  sink.tally.record({ receivedAt, via, ts: r.ts, pm25: r.pm25, outcome: result, ...reason });
}

/** Logs and counts a reading refused before it reached the estimator (not JSON, a field wrong, a bad line). */
export function refuseReading(sink: ReadingSink, reason: string, via: LastReference['via']): void {
  sink.log.warn('refused a PM2.5 reference reading', { reason, via });
  sink.tally.record({ receivedAt: Date.now(), via, ts: null, pm25: null, outcome: 'refused', reason });
}
