import { Pm25ReferenceReading } from '../../models/pm25/payloads.js';

export type ParsedReference = { ok: true; reading: Pm25ReferenceReading } | { ok: false; reason: string };

/**
 * A message on `…/pm25/reference`, read into a reading or the reason it is refused: every problem with the
 * field it is about, since the sensor's integrator has to know which one to fix.
 */
export function parseReferenceReading(payload: Buffer): ParsedReference {
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

/**
 * Why a reading could not pair, when it is the clocks: its `ts` further from this box's clock than a pair may
 * span. Frames are stamped with the box's clock, so a box booted without RTC (1970, or its image's date) or a
 * sensor with a wrong clock pairs nothing, and the log must say which two times disagree.
 */
export function clockSkewReason(
  readingTs: string,
  now: number,
  pairWithinMinutes: number,
): string | undefined {
  const skewMs = Date.parse(readingTs) - now;
  if (!(Math.abs(skewMs) > pairWithinMinutes * 60_000)) return undefined;
  const hours = Math.abs(skewMs) / 3_600_000;
  const span = hours >= 48 ? `${Math.round(hours / 24)} days` : `${Math.round(hours * 10) / 10} h`;
  return (
    `its ts (${readingTs}) is ${span} ${skewMs > 0 ? 'ahead of' : 'behind'} this box's clock ` +
    `(${new Date(now).toISOString()}): the box's clock or the sensor's is wrong, so it pairs with no frame`
  );
}
