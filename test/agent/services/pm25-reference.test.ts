import { describe, expect, it } from 'vitest';
import {
  clockSkewReason,
  parseReferenceReading,
  readingNote,
} from '../../../agent/services/pm25-reference.js';

const parse = (text: string) => parseReferenceReading(Buffer.from(text, 'utf8'));

describe('parseReferenceReading', () => {
  it('takes a sensor reading', () => {
    expect(parse('{"ts": "2025-02-18T10:00:00+01:00", "pm25": 28, "humidity": 71, "sensor": "opc"}')).toEqual(
      {
        ok: true,
        reading: { ts: '2025-02-18T10:00:00+01:00', pm25: 28, humidity: 71, sensor: 'opc' },
      },
    );
  });

  it('says a message that is not JSON is not JSON, not that an object is missing', () => {
    const r = parse('garbage');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^not JSON: /);
  });

  it('says an empty payload (a retained reading cleared) is empty, not JSON that ended early', () => {
    expect(parse('')).toEqual({
      ok: false,
      reason: 'empty payload (a retained reading cleared?): no reading in it',
    });
  });

  it('refuses an impossible concentration (an error code, another unit) instead of fitting it', () => {
    for (const pm25 of [65535, 1e308])
      expect(parse(JSON.stringify({ ts: '2025-02-18T10:00:00Z', pm25 }))).toEqual({
        ok: false,
        reason: 'pm25: at most 2000 ug/m3 (a sensor fault or another unit)',
      });
    expect(parse('{"ts": "2025-02-18T10:00:00Z", "pm25": 999.9}').ok).toBe(true);
  });

  it('names each field that is wrong', () => {
    expect(parse('{"ts": "yesterday", "pm25": -1, "foo": 1}')).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /ts: expected an ISO 8601 time with its UTC offset, like .*; pm25: .*; Unrecognized key: "foo"/,
      ),
    });
  });

  // Any text Date.parse took was once a time: "12" paired as 1 Dec 2001, and a time without offset was read
  // in the zone of the box's process (UTC in a container), which a sensor's integrator cannot know.
  it('takes ISO 8601 times with their UTC offset only', () => {
    const ts = (t: string) => parse(JSON.stringify({ ts: t, pm25: 20 }));
    for (const t of ['2025-02-18T10:00:00+01:00', '2025-02-18T09:00:00Z', '2025-02-18 10:00:00.5+0100'])
      expect(ts(t).ok, t).toBe(true);
    for (const t of [
      '12',
      '2025-02-18 10:00',
      '2025-02-18T10:00:00',
      'Tue Feb 18 2025 10:00',
      '1739869200000',
    ])
      expect(ts(t), t).toEqual({
        ok: false,
        reason:
          'ts: expected an ISO 8601 time with its UTC offset, like 2025-02-18T10:00:00+01:00 or ' +
          '2025-02-18T09:00:00Z',
      });
    expect(ts('2025-13-01T10:00:00Z')).toEqual({
      ok: false,
      reason: 'ts: not a calendar time (a month 13, an hour 25?)',
    });
  });
});

describe('clockSkewReason', () => {
  const now = Date.UTC(1970, 0, 1, 0, 5); // a box booted without RTC
  it("names both clocks when a reading is further ahead of the box's clock than a pair may span", () => {
    expect(clockSkewReason('2026-12-03T10:00:00Z', now, 40)).toBe(
      "its ts (2026-12-03T10:00:00Z) is 20790 days ahead of this box's clock (1970-01-01T00:05:00.000Z): " +
        "the box's clock or the sensor's is wrong, so it pairs with no frame",
    );
  });

  it('names both clocks for a reading older than the frames kept for late readings', () => {
    expect(clockSkewReason('1969-12-31T17:00:00Z', now, 40)).toBe(
      "its ts (1969-12-31T17:00:00Z) is 7.1 h behind this box's clock (1970-01-01T00:05:00.000Z), older than " +
        "the 6 h of frames kept for late readings: the box's clock or the sensor's is wrong, or the reading " +
        'came too late to pair',
    );
  });

  // A reading 2 h late (a gateway's backlog) was once blamed on a wrong clock, though such a reading pairs
  // with the frames of its time when there were any.
  it('says nothing within the pairing span, nor for a reading a few hours late', () => {
    expect(clockSkewReason('1970-01-01T00:40:00Z', now, 40)).toBeUndefined();
    expect(clockSkewReason('1969-12-31T22:05:00Z', now, 40)).toBeUndefined();
    expect(clockSkewReason('1969-12-31T17:30:00Z', now, 40)).toBeUndefined();
  });
});

describe('readingNote', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const note = (outcome: Parameters<typeof readingNote>[0], ts = '2026-12-03T11:00:00Z') =>
    readingNote(outcome, ts, now, 40);

  it('gives every reading that did not pair a reason', () => {
    expect(note({ paired: true })).toEqual({ level: 'info' });
    expect(note({ paired: false, why: 'zero' })).toEqual({
      level: 'info',
      reason: '0 ug/m3 is not fitted (the site model works in ln PM2.5); its humidity is taken',
    });
    expect(note({ paired: false, why: 'below-floor' })).toEqual({
      level: 'warn',
      reason:
        'under 1 ug/m3 is not fitted: below what sensors resolve, and its ln would outweigh the other pairs ' +
        '(a reading in mg/m3?); its humidity is taken',
    });
    expect(note({ paired: false, why: 'repeat' })).toEqual({
      level: 'info',
      reason: 'a reading at this ts is already paired (a re-delivery or a retained repeat)',
    });
    expect(note({ paired: false, why: 'no-frame' })).toEqual({
      level: 'info',
      reason: expect.stringMatching(/^no frame that passed the gates within 40 min of its ts \(night/),
    });
  });

  it('warns, naming the clocks, only when a clock can be to blame', () => {
    expect(note({ paired: false, why: 'no-frame' }, '2026-12-03T14:00:00Z')).toEqual({
      level: 'warn',
      reason: expect.stringMatching(/ is 2 h ahead of this box's clock /),
    });
    // A retained reading from days ago, sent again at a reconnect: a repeat, not a clock problem.
    expect(note({ paired: false, why: 'repeat' }, '2026-11-30T12:00:00Z').level).toBe('info');
  });
});
