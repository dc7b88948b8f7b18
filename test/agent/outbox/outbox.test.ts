import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { Outbox, type OutboxEvent, type OutboxMessage } from '../../../agent/outbox/outbox.js';

let dir: string;
let file: string;
const open: Outbox[] = [];

function openOutbox(cfg: Partial<OutboxConfig> = {}, opts: Parameters<typeof Outbox.open>[2] = {}): Outbox {
  const outbox = Outbox.open(file, OutboxConfig.parse(cfg), opts);
  open.push(outbox);
  return outbox;
}

const detection = (camera: string, n: number, extra: Partial<OutboxMessage> = {}): OutboxMessage => ({
  topic: `vigil/s/d/cameras/${camera}/detections`,
  stream: `detections/${camera}`,
  priority: 0,
  build: ({ id, seq, ts }) => ({ id, seq, ts, n }),
  ...extra,
});

const body = (payload: Buffer) => JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
/** Reaches the connection a real Outbox uses, for pragmas a test needs (max_page_count). */
const dbOf = (outbox: Outbox) => (outbox as unknown as { db: Database.Database }).db;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-outbox-'));
  file = path.join(dir, 'nested', 'outbox.db');
});

afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Outbox', () => {
  it('opens in WAL mode with the configured synchronous level', () => {
    const outbox = openOutbox({ synchronous: 'FULL' });
    expect(dbOf(outbox).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(dbOf(outbox).pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('acknowledges without an fsync of its own, and commits stay FULL after it', () => {
    const outbox = openOutbox({ synchronous: 'FULL' });
    outbox.enqueue(detection('cam1', 1));
    const levels: unknown[] = [];
    const db = dbOf(outbox);
    const pragma = db.pragma.bind(db);
    const [row] = outbox.next(1, new Set());
    db.pragma = ((source: string, options?: Database.PragmaOptions) => {
      if (source.startsWith('synchronous =')) levels.push(source);
      return pragma(source, options);
    }) as typeof db.pragma;
    expect(outbox.ack(row!.rowid)).toBe(true);
    expect(levels).toEqual(['synchronous = NORMAL', 'synchronous = FULL']);
    expect(pragma('synchronous', { simple: true })).toBe(2);
    outbox.enqueue(detection('cam1', 2));
    expect(levels).toHaveLength(2); // an enqueue keeps FULL
  });

  it('keeps committed rows and continues each stream seq across close and reopen', () => {
    const first = openOutbox();
    const a = first.enqueue(detection('cam1', 1));
    const b = first.enqueue(detection('cam1', 2));
    const c = first.enqueue(detection('cam2', 1));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 1]);
    first.ack(first.next(1, new Set())[0]!.rowid); // cam1 #1 delivered; its seq must still count
    first.close();

    const second = openOutbox();
    expect(second.depth().rows).toBe(2);
    expect(second.next(10, new Set()).map((r) => [r.id, r.seq])).toEqual([
      [b.id, 2],
      [c.id, 1],
    ]);
    expect(second.enqueue(detection('cam1', 3)).seq).toBe(3);
    expect(second.enqueue(detection('cam2', 2)).seq).toBe(2);
    expect(second.enqueue({ topic: 't', priority: 1, build: () => ({}) }).seq).toBeNull();
  });

  it('hands rows out oldest first with the payload build() made, skipping the excluded ones', () => {
    const outbox = openOutbox({}, { now: () => 1_700_000_000_000 });
    const ids = [1, 2, 3, 4].map(
      (n) => outbox.enqueue(detection(n % 2 ? 'a' : 'b', n, { retain: n === 4 })).id,
    );
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(body(rows[0]!.payload)).toEqual({ id: ids[0], seq: 1, ts: 1_700_000_000_000, n: 1 });
    expect(rows[3]).toMatchObject({ retain: true, priority: 0, stream: 'detections/b', seq: 2 });
    expect(rows[0]!.bytes).toBe(rows[0]!.payload.length + rows[0]!.topic.length);
    expect(outbox.next(2, new Set([rows[0]!.rowid, rows[2]!.rowid])).map((r) => r.id)).toEqual([
      ids[1],
      ids[3],
    ]);
  });

  it('removes a row on ack, once', () => {
    const outbox = openOutbox();
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue(detection('cam1', 2));
    const [first, second] = outbox.next(2, new Set());
    expect(outbox.ack(first!.rowid)).toBe(true);
    expect(outbox.ack(first!.rowid)).toBe(false);
    expect(outbox.next(10, new Set()).map((r) => r.rowid)).toEqual([second!.rowid]);
    expect(outbox.depth()).toMatchObject({ rows: 1, bytes: second!.bytes });
  });

  it('defers an ack or drop the full disk cannot write to the next commit, never losing or double-counting', () => {
    const outbox = openOutbox();
    for (let n = 1; n <= 3; n++) outbox.enqueue(detection('cam1', n));
    const [a, b] = outbox.next(2, new Set());
    // The delete's own commit fails as on a real full disk (test/e2e/full-disk.test.ts); in a transaction it works.
    const sql = (outbox as unknown as { sql: { delete: Database.Statement } }).sql;
    const real = sql.delete;
    const full = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    sql.delete = { all: full, get: (pk: number) => real.get(pk) } as unknown as Database.Statement;
    expect(outbox.ack(a!.rowid)).toBe(true);
    expect(outbox.drop(b!.rowid, 'expired')).toBe(true);
    expect(outbox.ack(a!.rowid)).toBe(false);
    expect(outbox.depth().rows).toBe(3); // still stored: a reconnect would re-send them
    expect(outbox.lastError()?.message).toBe('disk full: database or disk is full');
    outbox.enqueue(detection('cam1', 4)); // room again: the deferred deletes commit with it
    expect(outbox.next(10, new Set()).map((r) => r.rowid)).not.toContain(a!.rowid);
    expect(outbox.depth().rows).toBe(2);
    expect(outbox.dropDetail()).toEqual([{ reason: 'expired', priority: 0, count: 1 }]);
  });

  it('replaces an unsent row with the same coalesce key and never reuses its row id', () => {
    const outbox = openOutbox();
    const state = (s: string): OutboxMessage => ({
      topic: 'vigil/s/d/cameras/cam1/state',
      priority: 1,
      retain: true,
      coalesceKey: 'state/cam1',
      build: () => ({ state: s }),
    });
    outbox.enqueue(state('connecting'));
    const inFlight = outbox.next(1, new Set())[0]!;
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue(state('streaming'));
    const rows = outbox.next(10, new Set());
    expect(rows.map((r) => body(r.payload))).toEqual([
      expect.objectContaining({ n: 1 }),
      { state: 'streaming' },
    ]);
    expect(rows.every((r) => r.rowid > inFlight.rowid)).toBe(true);
    // A late PUBACK for the replaced row must not remove anything.
    expect(outbox.ack(inFlight.rowid)).toBe(false);
    expect(outbox.depth().rows).toBe(2);
  });

  it('at the row bound drops the oldest routine rows first, never an alert for a routine message', () => {
    const outbox = openOutbox({ maxRows: 4 });
    outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 1 }) });
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue({ topic: 'reading', priority: 1, build: () => ({ r: 1 }) });
    outbox.enqueue(detection('cam1', 2));
    expect(outbox.enqueue(detection('cam1', 3)).dropped).toBeUndefined(); // evicts detection 1
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 2 }) }).dropped).toBeUndefined(); // evicts 2
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 3 }) }).dropped).toBeUndefined(); // 3
    expect(outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ a: 4 }) }).dropped).toBeUndefined(); // reading
    // Only alerts left: a routine message is the one dropped, and its seq is spent (a visible gap).
    expect(outbox.enqueue(detection('cam1', 4))).toMatchObject({ seq: 4, dropped: 'max-rows' });
    expect(outbox.next(10, new Set()).map((r) => body(r.payload))).toEqual([
      { a: 1 },
      { a: 2 },
      { a: 3 },
      { a: 4 },
    ]);
    expect(outbox.drops()).toMatchObject({ 'max-rows': 5, 'max-bytes': 0 });
    expect(outbox.dropDetail()).toEqual(
      expect.arrayContaining([
        { reason: 'max-rows', priority: 0, count: 4 },
        { reason: 'max-rows', priority: 1, count: 1 },
      ]),
    );
  });

  it('enforces the byte bound and keeps the counts across a restart until cleared', () => {
    const big = 'x'.repeat(900);
    const first = openOutbox({ maxBytes: 3000 });
    for (let n = 0; n < 5; n++) first.enqueue({ ...detection('cam1', n), build: () => ({ n, big }) });
    expect(first.depth().bytes).toBeLessThanOrEqual(3000);
    expect(first.next(10, new Set()).map((r) => body(r.payload).n)).toEqual([2, 3, 4]);
    expect(first.enqueue({ topic: 't', priority: 2, build: () => ({ big: big.repeat(4) }) }).dropped).toBe(
      'max-bytes',
    );
    first.close();

    const second = openOutbox({ maxBytes: 3000 });
    expect(second.drops()['max-bytes']).toBe(3);
    // Reporting and clearing the counts inside build() commits both together.
    const report = () => {
      const drops = second.drops();
      second.clearDrops();
      return { drops };
    };
    second.enqueue({ topic: 'health', priority: 1, build: report });
    expect(body(second.next(10, new Set()).at(-1)!.payload)).toMatchObject({ drops: { 'max-bytes': 3 } });
    second.close();
    expect(openOutbox({ maxBytes: 3000 }).drops()['max-bytes']).toBe(0);
  });

  it('drops rows older than maxAgeHours', () => {
    let now = 1_000_000;
    // Ages are elapsed time (test/agent/outbox/outbox-clock.test.ts): here the wall clock never steps.
    const outbox = openOutbox({ maxAgeHours: 1 }, { now: () => now, monotonic: () => now });
    outbox.enqueue(detection('cam1', 1));
    outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({}) });
    now += 30 * 60_000;
    outbox.enqueue(detection('cam1', 2));
    expect(outbox.depth()).toMatchObject({ rows: 3, oldestAgeMs: 30 * 60_000 });
    now += 45 * 60_000;
    outbox.enqueue(detection('cam1', 3));
    expect(outbox.next(10, new Set()).map((r) => r.seq)).toEqual([2, 3]);
    expect(outbox.dropDetail()).toEqual(
      expect.arrayContaining([
        { reason: 'max-age', priority: 0, count: 1 },
        { reason: 'max-age', priority: 2, count: 1 },
      ]),
    );
  });

  it('survives a full disk: frees routine rows and retries, else drops the message and reports it', () => {
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({}, { onEvent: (e) => events.push(e) });
    const db = dbOf(outbox);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 40}`); // ~160 KiB more
    const pad = 'p'.repeat(2000);
    let stored = 0;
    for (let n = 0; n < 200; n++)
      if (!outbox.enqueue({ ...detection('cam1', n), build: () => ({ n, pad }) }).dropped) stored++;
    expect(stored).toBe(200); // every one stored: old routine rows made way
    expect(outbox.drops()['disk-full']).toBeGreaterThan(0);
    expect(outbox.depth().rows).toBe(outbox.next(1000, new Set()).length);

    // Only alerts left: nothing to free, so the alert itself is dropped, without a throw.
    for (const r of outbox.next(1000, new Set())) outbox.ack(r.rowid);
    events.length = 0;
    let dropped = 0;
    for (let n = 0; n < 200 && !dropped; n++) {
      if (outbox.enqueue({ topic: 'alert', priority: 2, build: () => ({ n, pad }) }).dropped === 'disk-full')
        dropped++;
    }
    expect(dropped).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: 'disk-full', topic: 'alert', dropped: true })]);
    expect(outbox.dropDetail()).toContainEqual({ reason: 'disk-full', priority: 2, count: 1 });
  });

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
