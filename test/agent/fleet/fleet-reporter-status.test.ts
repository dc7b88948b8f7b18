import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json, lastPushFile, reporter, rows, useReporterOutbox } from './fleet-reporter-fixture.js';

// The fleet section of the status page (docs/http.md `fleet`): the running revision and how the last push
// ended, kept across a restart.

useReporterOutbox();

describe('FleetReporter.status', () => {
  it('for the status page: the revision only while a fleet config runs; the last push as docs/http.md shows', () => {
    const r = reporter();
    expect(r.status({ revision: 0, source: 'file' })).toEqual({ lastPush: null });
    expect(r.status({ revision: 7, source: 'fleet' })).toEqual({ revision: '7', lastPush: null });
    const before = Date.now();
    r.result(
      { revision: 8, status: 'rolled_back', errors: ['camera "dock": failed', 'second'], changed: [] },
      { revision: 7, source: 'fleet' },
    );
    const s = r.status({ revision: 7, source: 'fleet' }) as { lastPush: { at: number } };
    expect(s).toEqual({
      revision: '7',
      lastPush: { at: s.lastPush.at, result: 'rolled-back', revision: '8', message: 'camera "dock": failed' },
    });
    expect(s.lastPush.at).toBeGreaterThanOrEqual(before); // the time of the result, however slow the machine
    expect(s.lastPush.at).toBeLessThanOrEqual(Date.now());
    r.result(
      { revision: null, status: 'rejected', errors: ['not-json: x'], changed: [] },
      { revision: 7, source: 'file' },
    );
    expect(r.status({ revision: 7, source: 'file' })).toEqual({
      lastPush: { at: expect.any(Number) as number, result: 'rejected', message: 'not-json: x' },
    });
    r.result({ revision: 9, status: 'applied', errors: [], changed: [] }, { revision: 9, source: 'fleet' });
    expect((r.status({ revision: 9, source: 'fleet' }) as { lastPush: unknown }).lastPush).toEqual({
      at: expect.any(Number) as number,
      result: 'applied',
      revision: '9',
    });
    // Applied past a model that still fails: the page says so.
    const warnings = ['model "det": file not found: /m.onnx (still retried; camera dock waits for it)'];
    r.result(
      { revision: 10, status: 'applied', errors: [], changed: [], warnings },
      { revision: 10, source: 'fleet' },
    );
    expect((r.status({ revision: 10, source: 'fleet' }) as { lastPush: unknown }).lastPush).toMatchObject({
      result: 'applied',
      message: warnings[0],
    });
    expect(json(rows().at(-1)!).warnings).toEqual(warnings);
  });
});

describe('FleetReporter after a restart', () => {
  // The page said "none yet" after every restart, though the box had applied or refused pushes before.
  it('still knows how the last push ended (saved in <dataDir>/config/last-push.json)', () => {
    expect(reporter().lastPush).toBeNull();
    reporter().result(
      { revision: 8, status: 'rolled_back', errors: ['camera "dock": failed'], changed: [] },
      { revision: 7, source: 'fleet' },
    );
    const again = reporter(); // a new process on the same data dir
    expect(again.status({ revision: 7, source: 'fleet' })).toEqual({
      revision: '7',
      lastPush: {
        at: expect.any(Number) as number,
        result: 'rolled-back',
        revision: '8',
        message: 'camera "dock": failed',
      },
    });
    // A file it cannot read is no outcome, not a failure.
    writeFileSync(lastPushFile, '{"at": "yesterday"');
    expect(reporter().lastPush).toBeNull();
  });
});
