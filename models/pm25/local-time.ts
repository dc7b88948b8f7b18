/** Offset of an IANA zone from UTC at a given instant, in minutes (Intl only, no tz database package). */
function offsetMinutes(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/**
 * A timestamp to an instant: ISO strings with an offset or `Z` are taken as they are; wall-clock strings
 * (`2025-04-01T10:00:00`, CSV and file names) are read in `timeZone`.
 */
export function parseLocalTime(text: string, timeZone: string): Date {
  const trimmed = text.trim();
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(trimmed)) return new Date(trimmed);
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?$/.exec(trimmed);
  if (!m) throw new Error(`not a timestamp: "${text}"`);
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  // Two passes settle the offset across DST changes.
  let instant = wall - offsetMinutes(wall, timeZone) * 60_000;
  instant = wall - offsetMinutes(instant, timeZone) * 60_000;
  return new Date(instant);
}

/**
 * A calibration cutoff (`--calibrate-until`): a date, read as its midnight in `timeZone`, or any time
 * parseLocalTime takes. Throws with the accepted forms named.
 */
export function parseCutoff(text: string, timeZone: string): Date {
  const trimmed = text.trim();
  let when: Date | undefined;
  try {
    when = parseLocalTime(/^\d{4}-\d\d-\d\d$/.test(trimmed) ? `${trimmed}T00:00` : trimmed, timeZone);
  } catch {
    when = undefined;
  }
  if (!when || Number.isNaN(when.getTime()))
    throw new Error(`not a time: ${text} (2025-04-01 or 2025-04-01T06:00)`);
  return when;
}

/** `20250401-1000.jpg` style names (camera archives) to a wall-clock string, or undefined. */
export function timeFromFileName(name: string): string | undefined {
  const m = /(\d{4})(\d\d)(\d\d)[-_T]?(\d\d)(\d\d)(\d\d)?/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}` : undefined;
}

/** Hour of day (0-23) of an instant in an IANA zone. */
export function localHour(when: Date, timeZone: string): number {
  return (
    Number(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit' }).format(when)) %
    24
  );
}
