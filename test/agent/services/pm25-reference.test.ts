import { describe, expect, it } from 'vitest';
import { parseReferenceReading } from '../../../agent/services/pm25-reference.js';

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
