import { describe, expect, it } from 'vitest';
import { Pm25ReferenceTally } from '../../../agent/services/pm25-reference-tally.js';

describe('Pm25ReferenceTally', () => {
  it('counts each outcome and keeps the last message, whatever became of it', () => {
    const tally = new Pm25ReferenceTally('vigil/s/d/cameras/roof/pm25/reference');
    expect(tally.counts).toEqual({ paired: 0, 'not-paired': 0, refused: 0 });
    expect(tally.last).toBeNull();
    const paired = {
      via: 'mqtt' as const,
      receivedAt: 1000,
      ts: '2026-12-03T10:00:00Z',
      pm25: 20,
      outcome: 'paired' as const,
    };
    tally.record(paired);
    tally.record({ ...paired, receivedAt: 2000, outcome: 'not-paired', reason: 'a repeat' });
    const refused = {
      via: 'mqtt' as const,
      receivedAt: 3000,
      ts: null,
      pm25: null,
      outcome: 'refused' as const,
      reason: 'not JSON',
    };
    tally.record(refused);
    expect(tally.counts).toEqual({ paired: 1, 'not-paired': 1, refused: 1 });
    expect(tally.last).toEqual(refused);
    tally.record(paired);
    expect(tally.counts.paired).toBe(2);
    expect(tally.last).toEqual(paired);
  });
});
