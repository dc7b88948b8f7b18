import { describe, expect, it } from 'vitest';
import { PushTracker, renderPushTable } from '../../../agent/fleet/push-tracker.js';

const state = (device: string, revision: number, groups = ['north']) =>
  Buffer.from(JSON.stringify({ site: 'yard', device, groups, revision, source: 'fleet', keyIds: [], ts: 1 }));
const result = (device: string, revision: number, status: string, errors: string[] = [], extra = {}) =>
  Buffer.from(
    JSON.stringify({
      id: 'x',
      site: 'yard',
      device,
      revision,
      status,
      errors,
      changed: [],
      running: revision,
      ts: 2,
      ...extra,
    }),
  );

describe('PushTracker', () => {
  it('knows targeted boxes from their state, and is done when each answered', () => {
    const t = new PushTracker('group:north', 5);
    expect(t.onMessage('vigil/yard/a/config/state', state('a', 4))).toBe(true);
    expect(t.onMessage('vigil/yard/b/config/state', state('b', 5))).toBe(true); // already runs it
    expect(t.onMessage('vigil/yard/z/config/state', state('z', 1, ['south']))).toBe(false); // not targeted
    t.pushed(1000);
    expect(t.done()).toBe(false);
    expect(t.onMessage('vigil/yard/a/config/result', result('a', 4, 'applied'))).toBe(false); // older revision
    t.onMessage('vigil/yard/a/config/result', result('a', 5, 'rolled_back', ['camera "x": failed']), 3500);
    expect(t.done()).toBe(true);
    expect(t.done(3)).toBe(false);
    expect(t.counts()).toMatchObject({ current: 1, rolled_back: 1, waiting: 0 });
    const text = renderPushTable(t, 5, 4000);
    expect(text).toMatch(/yard\/a\s+ROLLED_BACK\s+5\s+2\.5s\s+camera "x": failed/);
    expect(text).toMatch(/yard\/b\s+CURRENT\s+5/);
    expect(text).toContain(
      'revision 5: 2 boxes, 0 applied, 1 already current, 0 rejected, 1 rolled back, 0 waiting',
    );
  });

  it('shows a waiting box that said it is offline as such, and one box as one box', () => {
    const t = new PushTracker('group:north', 5);
    const status = (st: string) => Buffer.from(JSON.stringify({ state: st, ts: 1, version: '1' }));
    // A status before the box's state is kept for it; a base topic with a slash is fine.
    expect(t.onMessage('acme/vigil/yard/a/status', status('offline'))).toBe(false);
    t.onMessage('acme/vigil/yard/a/config/state', state('a', 4));
    t.pushed(1000);
    expect(renderPushTable(t, 5, 2000)).toMatch(/yard\/a\s+WAITING \(OFFLINE\)\s+4/);
    expect(renderPushTable(t, 5, 2000)).toContain('revision 5: 1 box, 0 applied');
    expect(renderPushTable(t, 5, 2000)).toContain('1 waiting (1 offline)');
    expect(t.onMessage('acme/vigil/yard/a/status', status('online'))).toBe(true);
    expect(renderPushTable(t, 5, 2000)).toMatch(/yard\/a\s+WAITING\s+4/);
    expect(renderPushTable(t, 5, 2000)).not.toContain('offline');
  });

  it("an applied box's line shows what changed, then what is still failing there", () => {
    const t = new PushTracker('group:north', 5);
    t.onMessage('vigil/yard/a/config/state', state('a', 4));
    t.pushed(1000);
    const warnings = ['model "det": file not found: /m.onnx (still retried; camera gate waits for it)'];
    t.onMessage(
      'vigil/yard/a/config/result',
      result('a', 5, 'applied', [], { changed: ['cameras.dock: fps'], warnings }),
    );
    expect(renderPushTable(t, 5, 2000)).toMatch(
      /yard\/a\s+APPLIED\s+5\s+\S+\s+cameras\.dock: fps; warning: model "det": file not found: \/m\.onnx \(still retried; camera gate waits for it\)\n/,
    );
  });

  it('a box on another document waits for its answer; answers to another document of the revision do not count', () => {
    const t = new PushTracker('group:north', 5, 'd5');
    t.onMessage('vigil/yard/a/config/state', state('a', 6)); // newer: it will refuse 5 as stale
    t.onMessage(
      'vigil/yard/b/config/state',
      Buffer.from(JSON.stringify({ ...JSON.parse(String(state('b', 5))), digest: 'other' })),
    );
    t.onMessage(
      'vigil/yard/c/config/state',
      Buffer.from(JSON.stringify({ ...JSON.parse(String(state('c', 5))), digest: 'd5' })),
    );
    expect(
      t.onMessage('vigil/yard/b/config/result', result('b', 5, 'applied', [], { digest: 'other' })),
    ).toBe(false);
    expect(t.onMessage('vigil/yard/c/config/result', result('c', 5, 'applied', [], { digest: 'd5' }))).toBe(
      true,
    );
    t.pushed(1000);
    expect(Object.fromEntries([...t.rows].map(([k, r]) => [k, r.status]))).toEqual({
      'yard/a': 'waiting',
      'yard/b': 'waiting',
      'yard/c': 'current', // ran it before the push: not applied by this one
    });
    t.onMessage('vigil/yard/a/config/result', result('a', 5, 'rejected', ['stale: …'], { digest: 'd5' }));
    t.onMessage('vigil/yard/b/config/result', result('b', 5, 'rejected', ['stale: …'], { digest: 'd5' }));
    expect(t.done()).toBe(true);
    expect(t.counts()).toMatchObject({ current: 1, rejected: 2, applied: 0 });
  });

  it('ignores payloads that are not fleet messages', () => {
    const t = new PushTracker('site:yard', 1);
    expect(t.onMessage('vigil/yard/a/config/state', Buffer.from('junk'))).toBe(false);
    expect(t.onMessage('vigil/yard/a/config/result', Buffer.from('{"revision":1}'))).toBe(false);
    expect(t.rows.size).toBe(0);
  });
});
