import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { Outbox, type OutboxEvent, type OutboxMessage } from '../../../agent/outbox/outbox.js';

// The free-space bound on a real SQLite file; only the free space of the disk is made up (a statfs the test
// sets), since filling a real disk is the end-to-end test's job (test/e2e/disk-low.test.ts).

let dir: string;
let file: string;
const open: Outbox[] = [];
/** What the made-up statfs says is free. */
let free: number;
const plenty = 2 ** 40;
const MiB = 1024 * 1024;

function openOutbox(cfg: Partial<OutboxConfig> = {}, events: OutboxEvent[] = []): Outbox {
  const outbox = Outbox.open(file, OutboxConfig.parse({ synchronous: 'OFF', minFreeMiB: 1, ...cfg }), {
    onEvent: (e) => events.push(e),
    freeSpace: { freeBytes: () => free, everyMs: 0 },
  });
  open.push(outbox);
  return outbox;
}

const pad = 'p'.repeat(600);
const detection = (n: number): OutboxMessage => ({
  topic: 'vigil/s/d/cameras/c1/detections',
  stream: 'detections/c1',
  priority: 0,
  build: ({ id, seq }) => ({ id, seq, n, pad }),
});
const alert = (n: number): OutboxMessage => ({
  topic: 'vigil/s/d/cameras/c1/events',
  priority: 2,
  build: ({ id }) => ({ id, n, pad }),
});

const dbOf = (outbox: Outbox) => (outbox as unknown as { db: Database.Database }).db;
const pages = (outbox: Outbox) => dbOf(outbox).pragma('page_count', { simple: true }) as number;
const rows = (outbox: Outbox) =>
  outbox.next(100_000, new Set()).map((r) => JSON.parse(r.payload.toString()) as { n: number; seq?: number });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-disk-low-'));
  file = path.join(dir, 'outbox.db');
  free = plenty;
});

afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the free-space bound', () => {
  it('under the margin the file stops growing: new rows take the place of the oldest, counted disk-low', () => {
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, events);
    for (let n = 1; n <= 300; n++) expect(outbox.enqueue(detection(n)).dropped).toBeUndefined();
    const before = pages(outbox);

    free = 512 * 1024; // under the 1 MiB margin
    for (let n = 301; n <= 900; n++) expect(outbox.enqueue(detection(n)).dropped).toBeUndefined();

    expect(pages(outbox)).toBeLessThanOrEqual(before);
    const kept = rows(outbox).map((r) => r.n);
    // The newest are all there, the oldest went, in order: a contiguous run ending with the last one.
    expect(kept.at(-1)).toBe(900);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 901 - kept.length + i));
    expect(kept.length).toBeGreaterThan(200);
    expect(outbox.drops()['disk-low']).toBe(900 - kept.length);
    expect(outbox.drops()['disk-full']).toBe(0);
    expect(outbox.depth().rows).toBe(kept.length);
    expect(events).toEqual([{ type: 'free-space', low: true, freeBytes: 512 * 1024, minFreeBytes: MiB }]);

    // Over the margin again: it grows as before, and says so.
    free = plenty;
    for (let n = 901; n <= 1200; n++) outbox.enqueue(detection(n));
    expect(pages(outbox)).toBeGreaterThan(before);
    expect(outbox.depth().rows).toBe(kept.length + 300);
    expect(events.at(-1)).toEqual({ type: 'free-space', low: false, freeBytes: plenty, minFreeBytes: MiB });
  });

  it('keeps the alerts: only routine rows make way for routine messages', () => {
    const outbox = openOutbox();
    for (let n = 1; n <= 300; n++) outbox.enqueue(n % 10 === 0 ? alert(n) : detection(n));
    free = 0;
    for (let n = 301; n <= 900; n++) expect(outbox.enqueue(detection(n)).dropped).toBeUndefined();

    const kept = rows(outbox).map((r) => r.n);
    expect(kept.filter((n) => n % 10 === 0 && n <= 300)).toHaveLength(30); // every alert
    expect(kept.at(-1)).toBe(900);
    expect(outbox.dropDetail()).toEqual([{ reason: 'disk-low', priority: 0, count: 900 - kept.length }]);
  });

  it('refuses as a full disk, evicting nothing and taking no seq, when nothing it may displace makes room', () => {
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, events);
    for (let n = 1; n <= 100; n++) outbox.enqueue(alert(n));
    outbox.enqueue(detection(101));
    const before = rows(outbox);
    free = 0;

    // 40 kB: its overflow pages need more than one small routine row could give back.
    const big: OutboxMessage = {
      ...detection(102),
      build: ({ id, seq }) => ({ id, seq, big: 'b'.repeat(40_000) }),
    };
    const result = outbox.enqueue(big);
    expect(result).toMatchObject({ seq: null, dropped: 'disk-full' });
    expect(rows(outbox)).toEqual(before); // the routine row and every alert still there
    expect(outbox.drops()).toMatchObject({ 'disk-full': 1, 'disk-low': 0 });
    expect(events.at(-1)).toMatchObject({ type: 'disk-full', topic: big.topic, freedRows: 0, dropped: true });
    expect(outbox.lastError()?.message).toMatch(/^disk full: no room under the free-space margin/);
    // The refused message took no seq: the next one follows the stored one.
    expect(outbox.enqueue(detection(103)).seq).toBe(2);

    // An alert may displace the routine rows and, after them, the oldest alerts.
    const bigAlert: OutboxMessage = { ...alert(104), build: ({ id }) => ({ id, big: 'b'.repeat(40_000) }) };
    expect(outbox.enqueue(bigAlert).dropped).toBeUndefined();
    const detail = outbox.dropDetail();
    expect(detail).toContainEqual(expect.objectContaining({ reason: 'disk-low', priority: 2 }));
    expect(rows(outbox).at(-1)).not.toHaveProperty('n');
  });

  it('a disk that fills anyway (SQLite itself says full) still goes the full-disk way: no throw, totals right', () => {
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, events);
    for (let n = 1; n <= 200; n++) outbox.enqueue(detection(n));
    free = 0;
    const limit = pages(outbox);
    dbOf(outbox).pragma(`max_page_count = ${limit}`); // SQLITE_FULL at the first page the file would grow by
    const big = (n: number): OutboxMessage => ({
      ...alert(n),
      build: ({ id }) => ({ id, n, big: 'b'.repeat(20_000) }),
    });
    for (let n = 201; n <= 260; n++) {
      const result = outbox.enqueue(n % 3 ? detection(n) : big(n));
      expect([undefined, 'disk-full']).toContain(result.dropped);
    }
    expect(pages(outbox)).toBe(limit);
    expect(outbox.depth().rows).toBe(rows(outbox).length);
    expect(rows(outbox).at(-1)?.n).toBe(260);
    // SQLite rolls the whole transaction back on SQLITE_FULL: the bound cannot try further evictions, the
    // full-disk way frees routine rows (counted disk-full) and tries again.
    expect(outbox.drops()['disk-full']).toBeGreaterThan(0);
    expect(events).toContainEqual(expect.objectContaining({ type: 'disk-full' }));
  });

  it('reads the free space at most once per period, not per insert', () => {
    let reads = 0;
    let clock = 0;
    const outbox = Outbox.open(file, OutboxConfig.parse({ synchronous: 'OFF' }), {
      freeSpace: {
        freeBytes: () => {
          reads++;
          return plenty;
        },
        clock: () => clock,
      },
    });
    open.push(outbox);
    for (let n = 1; n <= 100; n++) outbox.enqueue(detection(n));
    expect(reads).toBe(1);
    clock += 999;
    outbox.enqueue(detection(101));
    expect(reads).toBe(1);
    clock += 1;
    for (let n = 102; n <= 200; n++) outbox.enqueue(detection(n));
    expect(reads).toBe(2);
  });

  it('reads the real disk by default: a margin larger than any disk refuses what would grow the file', () => {
    const events: OutboxEvent[] = [];
    const outbox = Outbox.open(file, OutboxConfig.parse({ synchronous: 'OFF', minFreeMiB: 2 ** 40 }), {
      onEvent: (e) => events.push(e),
    });
    open.push(outbox);
    const big: OutboxMessage = { ...detection(1), build: () => ({ big: 'b'.repeat(40_000) }) };
    expect(outbox.enqueue(big).dropped).toBe('disk-full');
    const low = events.find((e) => e.type === 'free-space');
    expect(low).toMatchObject({ low: true, minFreeBytes: 2 ** 60 });
    expect((low as { freeBytes: number }).freeBytes).toBeGreaterThan(0);
  });

  it('keeps the WAL inside the margin: checkpointed at a quarter of it, then reused', () => {
    const outbox = openOutbox({ minFreeMiB: 1, synchronous: 'NORMAL' });
    expect(dbOf(outbox).pragma('wal_autocheckpoint', { simple: true })).toBe(64); // 256 KiB of 4 KiB pages
    expect(dbOf(outbox).pragma('journal_size_limit', { simple: true })).toBe(512 * 1024);
    for (let n = 1; n <= 3000; n++) outbox.enqueue(detection(n));
    // One commit past the checkpoint threshold at most (a few pages), never SQLite's 1000 pages (4 MiB).
    expect(statSync(`${file}-wal`).size).toBeLessThan(300 * 1024);
  });

  it('under the margin a fresh WAL stays small: checkpointed every 16 pages, not at a quarter of the margin', () => {
    // A small disk with the default 64 MiB margin: the WAL would be checkpointed only at 1000 pages (4 MiB).
    const outbox = openOutbox({ minFreeMiB: 64, synchronous: 'NORMAL' });
    const autocheckpoint = () => dbOf(outbox).pragma('wal_autocheckpoint', { simple: true });
    expect(autocheckpoint()).toBe(1000);
    free = 0; // under the margin from the start: the WAL has no room to reach its usual size
    for (let n = 1; n <= 2000; n++) {
      expect(outbox.enqueue(detection(n)).dropped).toBeUndefined();
      const [row] = outbox.next(1, new Set()); // the broker is there: each row is acknowledged
      outbox.ack(row!.rowid);
    }
    expect(autocheckpoint()).toBe(16);
    // One commit past 16 pages at most, where it grew to 4 MiB before.
    expect(statSync(`${file}-wal`).size).toBeLessThan(100 * 1024);

    free = plenty; // space is back: the usual checkpoint period again
    outbox.enqueue(detection(2001));
    expect(autocheckpoint()).toBe(1000);
  });

  it('with a margin of 0 it is off, and SQLite keeps its own WAL defaults', () => {
    const outbox = openOutbox({ minFreeMiB: 0 });
    free = 0;
    for (let n = 1; n <= 300; n++) outbox.enqueue(detection(n));
    expect(outbox.depth().rows).toBe(300);
    expect(outbox.drops()['disk-low']).toBe(0);
    expect(dbOf(outbox).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(dbOf(outbox).pragma('journal_size_limit', { simple: true })).toBe(64 * MiB);
  });
});
