import { describe, expect, it } from 'vitest';
import {
  toReference,
  toWindow,
  type ReferenceRow,
  type WindowRow,
} from '../../../pipeline/drift/drift-database.js';
import { binsVersion } from '../../../pipeline/drift/statistics.js';
import { profile } from './drift-database-fixture.js';

describe('drift database rows', () => {
  const windowRow = (over: Partial<WindowRow> = {}): WindowRow => ({
    camera: 'gate',
    model_id: 'det',
    config_rev: 'abc',
    start_ms: 60_000,
    end_ms: 120_000,
    status: 'too-few-samples',
    state: 'alarm',
    state_since: 1234,
    profile: JSON.stringify(profile(3)),
    reference_id: 9,
    ...over,
  });

  it('maps a window row to its record', () => {
    expect(toWindow(windowRow())).toEqual({
      camera: 'gate',
      modelId: 'det',
      configRevision: 'abc',
      start: 60_000,
      end: 120_000,
      status: 'too-few-samples',
      state: 'alarm',
      stateSince: 1234,
      profile: profile(3),
      referenceId: 9,
    });
    expect(toWindow(windowRow({ reference_id: null })).referenceId).toBeNull();
  });

  it('reads a state it does not know as ok, and refuses a profile that is not one', () => {
    for (const state of ['ok', 'warn', 'alarm'] as const)
      expect(toWindow(windowRow({ state })).state).toBe(state);
    expect(toWindow(windowRow({ state: 'critical' as never })).state).toBe('ok');
    expect(() => toWindow(windowRow({ profile: JSON.stringify({ frames: -1 }) }))).toThrow();
    expect(() => toWindow(windowRow({ profile: JSON.stringify({ ...profile(3), extra: 1 }) }))).toThrow();
  });

  it('maps a reference row, with origin only when there is one', () => {
    const row: ReferenceRow = {
      id: 5,
      camera: 'dock',
      model_id: 'det',
      config_rev: 'abc',
      from_ms: 0,
      to_ms: 7_200_000,
      windows: 8,
      source: 'import',
      created_at: 99,
      origin: 'gate/det/0840e8904565',
      bins_version: binsVersion,
      profile: JSON.stringify(profile(4)),
    };
    expect(toReference(row)).toEqual({
      id: 5,
      camera: 'dock',
      modelId: 'det',
      configRevision: 'abc',
      binsVersion,
      from: 0,
      to: 7_200_000,
      windows: 8,
      source: 'import',
      createdAt: 99,
      origin: 'gate/det/0840e8904565',
      profile: profile(4),
    });
    const own = toReference({ ...row, source: 'auto', origin: null });
    expect(own).not.toHaveProperty('origin');
    expect(own.source).toBe('auto');
  });
});
