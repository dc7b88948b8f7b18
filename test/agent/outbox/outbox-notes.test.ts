import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { Outbox, type OutboxMessage } from '../../../agent/outbox/outbox.js';

let dir: string;
const file = () => path.join(dir, 'outbox.db');
const open = () => Outbox.open(file(), OutboxConfig.parse({}));

const event = (note: OutboxMessage['note']): OutboxMessage => ({
  topic: 'vigil/s/d/cameras/c1/events',
  priority: 2,
  ...(note && { note }),
  build: ({ id }) => ({ id }),
});

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-notes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// What a crash must not forget (an open safety event) is noted in the commit of the message that opens it.
describe('outbox notes', () => {
  it('are written and deleted with their message, survive a reopen, and are read by prefix', () => {
    const outbox = open();
    outbox.enqueue(event({ key: 'open-event:a', value: { n: 1 } }));
    outbox.enqueue(event({ key: 'open-event:b', value: { n: 2 } }));
    outbox.enqueue(event({ key: 'open-eventX', value: { n: 3 } }));
    outbox.enqueue(event({ key: 'open-event:a', value: { n: 4 } }));
    outbox.enqueue(event({ key: 'open-event:b', value: null }));
    outbox.enqueue(event(undefined));
    expect(outbox.notes('open-event:')).toEqual([{ key: 'open-event:a', value: { n: 4 } }]);
    outbox.close();

    const again = open();
    expect(again.notes('open-event:')).toEqual([{ key: 'open-event:a', value: { n: 4 } }]);
    // Notes are not the outbox's own records (moved-aside files, the clock) and are no rows.
    expect(again.depth().rows).toBe(6);
    expect(again.notes('')).toHaveLength(2);
    again.forgetNote('open-event:a');
    expect(again.notes('open-event:')).toEqual([]);
    again.close();
  });

  it('change only with a stored row: a refused end leaves its event noted, a refused start notes nothing', () => {
    const outbox = Outbox.open(file(), OutboxConfig.parse({ maxBytes: 4096 }));
    outbox.enqueue(event({ key: 'open-event:a', value: { n: 1 } }));
    const end: OutboxMessage = {
      ...event({ key: 'open-event:a', value: null }),
      build: () => 'x'.repeat(8192),
    };
    expect(outbox.enqueue(end)).toMatchObject({ dropped: 'max-bytes' });
    expect(outbox.notes('open-event:')).toEqual([{ key: 'open-event:a', value: { n: 1 } }]);
    const start: OutboxMessage = {
      ...event({ key: 'open-event:b', value: { n: 2 } }),
      build: () => 'x'.repeat(8192),
    };
    expect(outbox.enqueue(start)).toMatchObject({ dropped: 'max-bytes' });
    expect(outbox.notes('open-event:')).toEqual([{ key: 'open-event:a', value: { n: 1 } }]);
    outbox.close();
  });
});
