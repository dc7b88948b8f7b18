import { describe, expect, it } from 'vitest';
import { DiskLowRefusal, pageCount } from '../../../agent/outbox/disk-low-bound.js';
import {
  at,
  capFile,
  commitOf,
  detection,
  diskFull,
  diskFullText,
  dropped,
  events,
  failed,
  full,
  pks,
  put,
  range,
  reading,
  refused,
  sql,
  storedDrops,
  thrownBy,
  useFullDisk,
} from './full-disk-fixture.js';

// FullDisk.retryOrRefuse refusing a message (agent/outbox/full-disk.ts): under the free-space margin, and
// for a message that is not counted.

useFullDisk();

describe('FullDisk.retryOrRefuse under the free-space margin', () => {
  it('refuses at once, freeing nothing: every row the message may displace was tried already', () => {
    put(5, 0, 100);
    // A real refusal: not even the 5 small routine rows make room for 40 kB without growing the file.
    const commit = commitOf(detection, 40_000, () => pageCount(sql));
    const err = thrownBy(commit);
    expect(err).toBeInstanceOf(DiskLowRefusal);

    const { attempt, deltas } = failed(detection, commit, 500);
    expect(full.retryOrRefuse(err, attempt)).toEqual(refused);
    expect(commit.calls).toBe(1);
    expect(deltas).toEqual([]);
    expect(pks()).toEqual(range(1, 5));
    const why = 'no room under the free-space margin even with 5 older messages evicted';
    expect(events).toEqual([diskFull(detection, 0, true, why)]);
    expect(full.failure).toEqual({ message: `disk full: ${why}`, at });
    expect(storedDrops()).toEqual([{ reason: 'disk-full', priority: 0, count: 1 }]);
  });
});

describe('FullDisk.retryOrRefuse for a message not counted (a drop report, rebuilt at its next try)', () => {
  it('counts no drop of its own: after SQLITE_FULL only the rows freed for it, under the margin none', () => {
    put(10, 0);
    capFile();
    const commit = commitOf(reading, 200_000);
    const { attempt } = failed(reading, commit, 10_000, false);
    expect(full.retryOrRefuse(thrownBy(commit), attempt)).toEqual(refused);
    expect(commit.calls).toBe(2);
    expect(events).toEqual([diskFull(reading, 10, false, diskFullText)]);
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 10 }]);

    const margin = failed(detection, commit, 0, false).attempt;
    expect(full.retryOrRefuse(new DiskLowRefusal('no room'), margin)).toEqual(refused);
    expect(commit.calls).toBe(2);
    expect(events.at(-1)).toEqual(diskFull(detection, 0, false, 'no room'));
    expect(dropped.detail()).toEqual([{ reason: 'disk-full', priority: 0, count: 10 }]);
    expect(full.failure).toEqual({ message: 'disk full: no room', at });
  });
});
