import { describe, expect, it } from 'vitest';
import { RecentErrors } from '../../../agent/web/recent-errors.js';
import { RecentError } from '../../../agent/web/status-schema.js';

/** A clock the test moves by hand, so `at` is known exactly. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RecentErrors: the errors the status page lists', () => {
  it('lists newest first, each entry valid against the status schema', () => {
    const c = clock();
    const errors = new RecentErrors(50, c.now);
    errors.add('camera', 'stalled: no frame for 10 s', 'gate');
    c.advance(1000);
    errors.add('mqtt', 'connect ECONNREFUSED 127.0.0.1:1883');
    const list = errors.list();
    expect(list.map((e) => e.source)).toEqual(['mqtt', 'camera']);
    expect(list[1]).toEqual({
      at: 1_700_000_000_000,
      source: 'camera',
      camera: 'gate',
      message: 'stalled: no frame for 10 s',
      count: 1,
    });
    // No camera: the key is left out, not set to undefined (the schema is strict).
    expect('camera' in list[0]!).toBe(false);
    for (const e of list) RecentError.parse(e);
  });

  it('folds the same message from the same place in a row into one entry with a count and the latest time', () => {
    const c = clock();
    const errors = new RecentErrors(50, c.now);
    for (let i = 0; i < 5; i++) {
      errors.add('camera', 'stalled: no frame for 10 s', 'gate');
      c.advance(500);
    }
    expect(errors.list()).toEqual([
      {
        at: 1_700_000_002_000,
        source: 'camera',
        camera: 'gate',
        message: 'stalled: no frame for 10 s',
        count: 5,
      },
    ]);
  });

  it('does not fold a different camera, source or message, nor a repeat with something in between', () => {
    const errors = new RecentErrors();
    errors.add('camera', 'stalled', 'gate');
    errors.add('camera', 'stalled', 'yard');
    errors.add('inference', 'stalled', 'yard');
    errors.add('inference', 'failed', 'yard');
    errors.add('inference', 'stalled', 'yard');
    const list = errors.list();
    expect(list).toHaveLength(5);
    expect(list.every((e) => e.count === 1)).toBe(true);
    expect(list.map((e) => `${e.source}/${e.camera}/${e.message}`)).toEqual([
      'inference/yard/stalled',
      'inference/yard/failed',
      'inference/yard/stalled',
      'camera/yard/stalled',
      'camera/gate/stalled',
    ]);
  });

  it('keeps the newest `max` entries only', () => {
    const errors = new RecentErrors(3);
    for (let i = 1; i <= 7; i++) errors.add('api', `error ${i}`);
    expect(errors.list().map((e) => e.message)).toEqual(['error 7', 'error 6', 'error 5']);
  });

  it('never shows a credential: user and password in URLs are replaced, before folding', () => {
    const errors = new RecentErrors();
    errors.add('camera', 'cannot open rtsp://admin:s3cret-pw@10.0.0.5:554/stream: 401', 'gate');
    errors.add('camera', 'cannot open rtsp://admin:0ther-pw@10.0.0.5:554/stream: 401', 'gate');
    const list = errors.list();
    expect(JSON.stringify(list)).not.toMatch(/s3cret-pw|0ther-pw|admin/);
    // Only the credentials differed: after redaction it is the same message, folded.
    expect(list).toEqual([
      expect.objectContaining({ message: 'cannot open rtsp://***@10.0.0.5:554/stream: 401', count: 2 }),
    ]);
  });

  it('cuts a long message to 500 characters', () => {
    const errors = new RecentErrors();
    errors.add('outbox', 'x'.repeat(2000));
    expect(errors.list()[0]!.message).toBe('x'.repeat(500));
  });

  it('hands out copies: changing a listed entry changes nothing inside', () => {
    const errors = new RecentErrors();
    errors.add('api', 'detect API: boom');
    const first = errors.list()[0]!;
    first.count = 99;
    first.message = 'changed';
    expect(errors.list()[0]).toMatchObject({ message: 'detect API: boom', count: 1 });
  });
});
