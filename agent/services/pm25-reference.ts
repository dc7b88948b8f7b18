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
