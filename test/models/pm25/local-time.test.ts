import { describe, expect, it } from 'vitest';
import { localHour, parseCutoff, parseLocalTime, timeFromFileName } from '../../../models/pm25/local-time.js';

const iso = (text: string, zone: string) => parseLocalTime(text, zone).toISOString();
/** Wall clock of an instant in a zone, independently of the module (sv-SE formats as YYYY-MM-DD HH:MM:SS). */
const wall = (d: Date, zone: string) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(d);

describe('PM2.5 local time', () => {
  it('takes timestamps with an offset or Z as they are, whatever the zone', () => {
    expect(iso('2025-02-18T10:00:00+01:00', 'Asia/Tokyo')).toBe('2025-02-18T09:00:00.000Z');
    expect(iso('2025-02-18T10:00:00-0530', 'Europe/Rome')).toBe('2025-02-18T15:30:00.000Z');
    expect(iso('2025-02-18T10:00:00Z', 'Europe/Rome')).toBe('2025-02-18T10:00:00.000Z');
    expect(iso(' 2025-02-18T10:00:00z ', 'Europe/Rome')).toBe('2025-02-18T10:00:00.000Z');
  });

  it('reads wall-clock times in the zone, winter and summer', () => {
    expect(iso('2025-01-29T16:00:00', 'Europe/Rome')).toBe('2025-01-29T15:00:00.000Z');
    expect(iso('2025-04-01T10:00', 'Europe/Rome')).toBe('2025-04-01T08:00:00.000Z');
    expect(iso('2025-04-01 10:00:45', 'Europe/Rome')).toBe('2025-04-01T08:00:45.000Z');
    expect(iso('2025-07-01T10:00', 'America/New_York')).toBe('2025-07-01T14:00:00.000Z');
    expect(iso('2025-01-01T10:00', 'America/New_York')).toBe('2025-01-01T15:00:00.000Z');
    expect(iso('2025-01-01T10:00', 'UTC')).toBe('2025-01-01T10:00:00.000Z');
  });

  it('handles fractional-hour offsets and the date line', () => {
    expect(iso('2025-01-01T00:00', 'Asia/Kolkata')).toBe('2024-12-31T18:30:00.000Z');
    expect(iso('2025-01-01T00:00', 'Asia/Kathmandu')).toBe('2024-12-31T18:15:00.000Z');
    expect(iso('2025-03-01T12:00', 'America/St_Johns')).toBe('2025-03-01T15:30:00.000Z');
    expect(iso('2025-01-01T00:00', 'Pacific/Kiritimati')).toBe('2024-12-31T10:00:00.000Z');
    expect(iso('2025-01-01T00:00', 'Pacific/Pago_Pago')).toBe('2025-01-01T11:00:00.000Z');
  });

  it('is right on both sides of the spring and autumn DST changes (Europe/Rome, 2025)', () => {
    // Spring: 02:00 CET jumps to 03:00 CEST on 30 March (01:00Z).
    expect(iso('2025-03-30T01:59', 'Europe/Rome')).toBe('2025-03-30T00:59:00.000Z');
    expect(iso('2025-03-30T03:00', 'Europe/Rome')).toBe('2025-03-30T01:00:00.000Z');
    expect(iso('2025-03-30T03:30', 'Europe/Rome')).toBe('2025-03-30T01:30:00.000Z');
    expect(iso('2025-03-30T12:00', 'Europe/Rome')).toBe('2025-03-30T10:00:00.000Z');
    expect(iso('2025-03-29T12:00', 'Europe/Rome')).toBe('2025-03-29T11:00:00.000Z');
    // Autumn: 03:00 CEST falls back to 02:00 CET on 26 October (01:00Z).
    expect(iso('2025-10-26T01:30', 'Europe/Rome')).toBe('2025-10-25T23:30:00.000Z');
    expect(iso('2025-10-26T03:30', 'Europe/Rome')).toBe('2025-10-26T02:30:00.000Z');
    expect(iso('2025-10-26T12:00', 'Europe/Rome')).toBe('2025-10-26T11:00:00.000Z');
    // The repeated hour exists twice: either reading is a correct instant for that wall time.
    const twice = parseLocalTime('2025-10-26T02:30', 'Europe/Rome');
    expect(['2025-10-26T00:30:00.000Z', '2025-10-26T01:30:00.000Z']).toContain(twice.toISOString());
    expect(wall(twice, 'Europe/Rome')).toBe('2025-10-26 02:30:00');
    // The skipped hour does not exist: it lands an hour on, as a clock set forward would.
    expect(iso('2025-03-30T02:30', 'Europe/Rome')).toBe('2025-03-30T01:30:00.000Z');
    // Other hemisphere and a 30-minute DST (Lord Howe: +11 in summer, +10:30 in winter).
    expect(iso('2025-04-06T03:00', 'Australia/Sydney')).toBe('2025-04-05T17:00:00.000Z');
    expect(iso('2025-01-15T12:00', 'Australia/Lord_Howe')).toBe('2025-01-15T01:00:00.000Z');
    expect(iso('2025-07-15T12:00', 'Australia/Lord_Howe')).toBe('2025-07-15T01:30:00.000Z');
  });

  it('round-trips every hour of a year that has both DST changes', () => {
    for (const zone of ['Europe/Rome', 'America/New_York', 'Australia/Sydney']) {
      for (let h = 0; h < 365 * 24; h += 11) {
        const instant = new Date(Date.UTC(2025, 0, 1) + h * 3_600_000 + 17 * 60_000);
        const text = wall(instant, zone).replace(' ', 'T');
        const back = parseLocalTime(text, zone);
        // Unambiguous hours map back to the same instant; a repeated hour to one an hour away.
        const diff = Math.abs(back.getTime() - instant.getTime());
        expect(diff === 0 || diff === 3_600_000, `${zone} ${text}`).toBe(true);
        expect(wall(back, zone), `${zone} ${text}`).toBe(wall(instant, zone));
      }
    }
  });

  it('refuses text that is not a timestamp', () => {
    expect(() => parseLocalTime('yesterday', 'Europe/Rome')).toThrow(/not a timestamp/);
    expect(() => parseLocalTime('2025-04-01', 'Europe/Rome')).toThrow(/not a timestamp/);
  });

  it('reads a calibration cutoff as the scripts and the CLI take it: a date is its local midnight', () => {
    expect(parseCutoff('2025-05-01', 'Europe/Rome').toISOString()).toBe('2025-04-30T22:00:00.000Z');
    expect(parseCutoff(' 2025-02-01 ', 'Europe/Rome').toISOString()).toBe('2025-01-31T23:00:00.000Z');
    expect(parseCutoff('2025-04-01T06:00', 'Europe/Rome').toISOString()).toBe('2025-04-01T04:00:00.000Z');
    expect(parseCutoff('2025-04-01T06:00Z', 'Europe/Rome').toISOString()).toBe('2025-04-01T06:00:00.000Z');
    expect(() => parseCutoff('soon', 'Europe/Rome')).toThrow(
      'not a time: soon (2025-04-01 or 2025-04-01T06:00)',
    );
    expect(() => parseCutoff('2025-13-45Z', 'Europe/Rome')).toThrow(/not a time/);
  });

  it('reads the wall-clock time out of camera-archive file names', () => {
    expect(timeFromFileName('20250401-1000.jpg')).toBe('2025-04-01T10:00:00');
    expect(timeFromFileName('20250218-0945.png')).toBe('2025-02-18T09:45:00');
    expect(timeFromFileName('cam_20250218_094512.jpg')).toBe('2025-02-18T09:45:12');
    expect(timeFromFileName('20250218T0945.jpg')).toBe('2025-02-18T09:45:00');
    expect(timeFromFileName('202502180945.jpg')).toBe('2025-02-18T09:45:00');
    expect(timeFromFileName('snapshot.jpg')).toBeUndefined();
    // The result is what parseLocalTime reads in the camera's zone.
    expect(parseLocalTime(timeFromFileName('20250129-1600.jpg')!, 'Europe/Rome').toISOString()).toBe(
      '2025-01-29T15:00:00.000Z',
    );
  });

  it('gives the local hour of day, 0-23, across DST', () => {
    expect(localHour(new Date('2025-03-30T00:59:00Z'), 'Europe/Rome')).toBe(1);
    expect(localHour(new Date('2025-03-30T01:00:00Z'), 'Europe/Rome')).toBe(3);
    expect(localHour(new Date('2025-10-26T00:30:00Z'), 'Europe/Rome')).toBe(2);
    expect(localHour(new Date('2025-10-26T01:30:00Z'), 'Europe/Rome')).toBe(2);
    expect(localHour(new Date('2025-02-18T23:00:00Z'), 'Europe/Rome')).toBe(0);
    expect(localHour(new Date('2025-02-18T22:59:59Z'), 'Europe/Rome')).toBe(23);
    expect(localHour(new Date('2025-02-18T18:29:00Z'), 'Asia/Kolkata')).toBe(23);
    expect(localHour(new Date('2025-02-18T18:30:00Z'), 'Asia/Kolkata')).toBe(0);
    expect(localHour(new Date('2025-02-18T10:00:00Z'), 'UTC')).toBe(10);
  });
});
