import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { emptyPayload, Outbox, retainedClear } from '../../../agent/outbox/outbox.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

function openOutbox(): Outbox {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-empty-payload-'));
  const outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({}));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => outbox.close());
  return outbox;
}

const topic = 'vigil/s/d/cameras/gone/state';
const state = (s: string) => ({
  topic,
  priority: 1 as const,
  retain: true,
  coalesceKey: 'state/gone',
  build: () => ({ state: s }),
});

// A removed camera's retained topics are deleted with an empty retained message. Payloads were always
// JSON.stringify(build()): there was no way to store an empty one.
describe('empty payloads (retained clears)', () => {
  it('stores an empty payload for emptyPayload, JSON for anything else', () => {
    const outbox = openOutbox();
    outbox.enqueue({ topic: 'a', priority: 1, retain: true, build: () => emptyPayload });
    outbox.enqueue({ topic: 'b', priority: 1, build: () => '' });
    const [a, b] = outbox.next(10, new Set());
    expect(a!.payload.length).toBe(0);
    expect(a!.retain).toBe(true);
    expect(b!.payload.toString()).toBe('""');
  });

  it('a clear replaces the retained value still waiting under the same coalesce key', () => {
    const outbox = openOutbox();
    outbox.enqueue(state('stopped'));
    outbox.enqueue(retainedClear(topic, 'state/gone'));
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => [r.topic, r.payload.length, r.retain])).toEqual([[topic, 0, true]]);
  });

  it('a value enqueued after the clear replaces it in turn: the latest wins, never an older one', () => {
    const outbox = openOutbox();
    outbox.enqueue(retainedClear(topic, 'state/gone'));
    outbox.enqueue(state('connecting')); // the camera came back (a rollback)
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => r.payload.toString())).toEqual(['{"state":"connecting"}']);
  });

  it('without a coalesce key the clear goes after the waiting values of its topic', () => {
    const outbox = openOutbox();
    const pm25 = 'vigil/s/d/cameras/gone/pm25';
    outbox.enqueue({ topic: pm25, priority: 1, retain: true, build: () => ({ pm25: 1 }) });
    outbox.enqueue(retainedClear(pm25));
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => r.payload.toString())).toEqual(['{"pm25":1}', '']);
  });
});
