import { describe, expect, it } from 'vitest';
import { clockSkewReason, parseReferenceReading } from '../../../agent/services/pm25-reference.js';

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
      reason: expect.stringMatching(/ts: expected an ISO 8601 time; pm25: .*; Unrecognized key: "foo"/),
    });
  });
});

describe('clockSkewReason', () => {
  const now = Date.UTC(1970, 0, 1, 0, 5); // a box booted without RTC
  it("names both clocks when a reading is further from the box's clock than a pair may span", () => {
    expect(clockSkewReason('2026-12-03T10:00:00Z', now, 40)).toBe(
      "its ts (2026-12-03T10:00:00Z) is 20790 days ahead of this box's clock (1970-01-01T00:05:00.000Z): " +
        "the box's clock or the sensor's is wrong, so it pairs with no frame",
    );
    expect(clockSkewReason('1969-12-31T22:05:00Z', now, 40)).toMatch(/ is 2 h behind this box's clock /);
  });

  it('says nothing within the pairing span: the reading simply found no frame', () => {
    expect(clockSkewReason('1970-01-01T00:40:00Z', now, 40)).toBeUndefined();
  });
});
