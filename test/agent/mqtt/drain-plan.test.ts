import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { DrainPlan } from '../../../agent/mqtt/drain-plan.js';
import { Outbox, type OutboxRow } from '../../../agent/outbox/outbox.js';

let dir: string;
let outbox: Outbox;
let now: number;

/** Commits a routine message of ordering key `key` (a stream); returns its rowid. */
function put(key: string): number {
  outbox.enqueue({ topic: `t/${key}`, stream: key, priority: 0, build: () => ({}) });
  return outbox.lastRowid();
}
const putMany = (key: string, n: number) => Array.from({ length: n }, () => put(key));

/** A plan on the test's clock, reset as for a new connection. */
function plan(ratePerS: number): DrainPlan {
  const p = new DrainPlan(outbox, ratePerS, () => now);
  p.reset();
  return p;
}

const ids = (rows: OutboxRow[]) => rows.map((r) => r.rowid);
const none = new Set<number>();

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-drain-'));
  // Durability is not under test: no fsync per commit.
  outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ synchronous: 'OFF' }));
  now = 1_000_000;
});

afterEach(() => {
  vi.useRealTimers();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DrainPlan', () => {
  it('sends rows committed after the connection at once, whatever the rate', () => {
    const p = plan(1);
    expect(p.backlogRows()).toBe(0);
    const live = putMany('cam1', 5);
    expect(ids(p.take(10, none))).toEqual(live);
    expect(p.waitMs()).toBeUndefined();
    expect(p.take(10, new Set(live))).toEqual([]);
  });

  it('keeps its rate when the wall clock steps back (NTP): the backlog does not stall for the step', () => {
    const backlog = putMany('cam1', 3);
    vi.useFakeTimers({ toFake: ['Date'] });
    const p = new DrainPlan(outbox, 10); // its own clock, a burst of 1
    p.reset();
    expect(ids(p.take(10, none))).toEqual([backlog[0]]);
    vi.setSystemTime(Date.now() - 3_600_000);
    // A wall-clock bucket would now owe an hour's worth of rows: 3,600,100 ms to wait.
    expect(p.waitMs()).toBeLessThanOrEqual(100);
  });

  it('drains the backlog oldest first at the rate, and says how long until the next row', () => {
    const backlog = putMany('cam1', 4);
    const p = plan(10); // a burst of 1
    expect(p.backlogRows()).toBe(4);
    expect(ids(p.take(10, none))).toEqual([backlog[0]]);
    expect(p.take(10, new Set([backlog[0]!]))).toEqual([]);
    expect(p.waitMs()).toBe(100);
    now += 40;
    expect(p.waitMs()).toBe(60);
    expect(p.take(10, new Set([backlog[0]!]))).toEqual([]);
    now += 60;
    expect(p.waitMs()).toBeUndefined(); // a token is there
    expect(ids(p.take(10, new Set([backlog[0]!])))).toEqual([backlog[1]]);
    // Sent is not acknowledged: the backlog still counts a row until its ack.
    expect(p.backlogRows()).toBe(4);
    outbox.ack(backlog[0]!);
    expect(p.backlogRows()).toBe(3);
  });

  it('allows a tenth of a second of rows at once, and no more after a pause', () => {
    const backlog = putMany('cam1', 40);
    const p = plan(100); // a burst of 10
    const sent: number[] = [];
    const take = () => {
      const rows = ids(p.take(64, new Set(sent)));
      sent.push(...rows);
      return rows.length;
    };
    expect(take()).toBe(10);
    expect(take()).toBe(0);
    now += 50;
    expect(take()).toBe(5);
    now += 60_000; // tokens do not pile up past the burst
    expect(take()).toBe(10);
    expect(sent).toEqual(backlog.slice(0, 25));
  });

  it('at a rate below one a second still sends one row at a time', () => {
    putMany('cam1', 3);
    const p = plan(0.5);
    expect(p.take(10, none)).toHaveLength(1);
    expect(p.waitMs()).toBe(2000);
    now += 1999;
    expect(p.take(10, none)).toEqual([]);
    now += 1;
    expect(p.take(10, none)).toHaveLength(1);
  });

  it('has no wait when no backlog row is waiting, however few tokens are left', () => {
    const [only] = putMany('cam1', 1);
    const p = plan(10);
    expect(ids(p.take(10, none))).toEqual([only]);
    expect(p.waitMs()).toBeUndefined();
  });

  it('alternates live and backlog rows in the window', () => {
    const backlog = putMany('old', 3);
    const p = plan(1000);
    const live = putMany('new', 3);
    const first = ids(p.take(4, none));
    expect(first).toEqual([live[0], backlog[0], live[1], backlog[1]]);
    expect(ids(p.take(4, new Set(first)))).toEqual([live[2], backlog[2]]);
  });

  it('holds a key back while it has backlog, so each key keeps commit order', () => {
    const backlog = putMany('cam1', 2);
    const p = plan(1000);
    const [cam1Live] = putMany('cam1', 1);
    const [cam2Live] = putMany('cam2', 1);
    const inflight = new Set<number>();
    const take = () => {
      const rows = ids(p.take(10, inflight));
      for (const r of rows) inflight.add(r);
      return rows;
    };
    expect(take()).toEqual([cam2Live, backlog[0], backlog[1]]);
    expect(take()).toEqual([]);
    outbox.ack(backlog[0]!);
    inflight.delete(backlog[0]!);
    expect(take()).toEqual([]); // one backlog row of cam1 left
    // Dropped counts as gone too (e.g. refused by the broker).
    outbox.drop(backlog[1]!, 'rejected');
    inflight.delete(backlog[1]!);
    // cam1 is live now; cam2's row, still in flight, is not sent twice.
    expect(take()).toEqual([cam1Live]);
    expect(take()).toEqual([]);
  });

  it('finds an unblocked live row behind more blocked rows than one scan chunk', () => {
    const [old] = putMany('cam1', 1);
    const p = plan(1);
    expect(ids(p.take(10, none))).toEqual([old]);
    const blocked = putMany('cam1', 100);
    const [free] = putMany('cam2', 1);
    expect(ids(p.take(5, new Set([old!])))).toEqual([free]);
    outbox.ack(old!);
    expect(ids(p.take(200, new Set([free!])))).toEqual(blocked);
  });

  it('takes nothing, and spends nothing, with no room in the window', () => {
    const backlog = putMany('cam1', 2);
    const p = plan(10);
    expect(p.take(0, none)).toEqual([]);
    expect(p.take(-1, none)).toEqual([]);
    expect(ids(p.take(1, none))).toEqual([backlog[0]]);
  });

  it('a new connection makes every unacknowledged row backlog, from the oldest', () => {
    const first = putMany('cam1', 2);
    const p = plan(1000);
    const live = putMany('cam2', 2);
    expect(p.take(10, none)).toHaveLength(4);
    outbox.ack(first[0]!);
    // The connection drops with three rows in flight: the next one sends them again, in order.
    p.reset();
    expect(p.backlogRows()).toBe(3);
    expect(ids(p.take(10, none))).toEqual([first[1], live[0], live[1]]);
  });
});
