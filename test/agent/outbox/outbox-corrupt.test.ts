import { closeSync, existsSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../../agent/outbox/outbox.js';
import { detection, file, openOutbox, useOutbox } from './outbox-fixture.js';

// A corrupt outbox file is moved aside, kept with its -wal and -shm, and the Outbox starts fresh.

useOutbox();

describe('Outbox', () => {
  it('moves a corrupt file aside with its -wal and -shm, starts fresh and remembers it', () => {
    const first = openOutbox();
    first.enqueue(detection('cam1', 1));
    first.close();
    writeFileSync(file, Buffer.alloc(8192, 0x5a)); // garbage over the header and first pages
    writeFileSync(`${file}-wal`, 'junk');
    writeFileSync(`${file}-shm`, 'junk');

    const events: OutboxEvent[] = [];
    const outbox = openOutbox(
      {},
      { onEvent: (e) => events.push(e), now: () => Date.UTC(2025, 0, 2, 3, 4, 5) },
    );
    const movedTo = `${file}.corrupt-2025-01-02T03-04-05.000Z`;
    expect(events).toEqual([expect.objectContaining({ type: 'corrupt-moved-aside', file, movedTo })]);
    expect(readdirSync(path.dirname(file)).sort()).toEqual(
      expect.arrayContaining(['outbox.db', ...['', '-wal', '-shm'].map((s) => path.basename(movedTo) + s)]),
    );
    expect(outbox.depth().rows).toBe(0);
    expect(outbox.enqueue(detection('cam1', 1)).seq).toBe(1);
    outbox.close();

    const again = openOutbox();
    expect(again.movedAside()).toEqual([expect.objectContaining({ movedTo })]);
    again.clearMovedAside();
    again.close();
    expect(openOutbox().movedAside()).toEqual([]);
    expect(existsSync(movedTo)).toBe(true);
  });

  it('moves aside a file with a valid header whose pages fail quick_check', () => {
    const first = openOutbox();
    for (let n = 0; n < 500; n++)
      first.enqueue({ ...detection('cam1', n), build: () => ({ n, pad: 'x'.repeat(300) }) });
    first.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 8 * 4096); // pages 9-11: table b-tree pages
    closeSync(fd);

    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, { onEvent: (e) => events.push(e) });
    expect(events).toEqual([
      expect.objectContaining({ type: 'corrupt-moved-aside', reason: expect.stringMatching(/quick_check/) }),
    ]);
    expect(outbox.depth().rows).toBe(0);
  });
});
