import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { Outbox, type OutboxEvent, type OutboxMessage } from '../../../agent/outbox/outbox.js';

// Wall-clock steps (a Jetson without RTC boots in 1970, then NTP jumps it years ahead; NTP may also step it
// back): ages and expiries are measured by elapsed time, not by the wall clock (docs/adr/0009-outbox-age-clock.md).

const hour = 3_600_000;
const year = 365 * 24 * hour;
let dir: string;
let file: string;
const open: Outbox[] = [];

/** A wall clock a test steps, and a monotonic one that only runs forward, each set by hand. */
const clocks = (wall: number) => {
  const c = { wall, mono: 0 };
  return { c, opts: { now: () => c.wall, monotonic: () => c.mono } };
};

function openOutbox(
  opts: Parameters<typeof Outbox.open>[2],
  cfg: Partial<OutboxConfig> = { maxAgeHours: 1 },
) {
  const outbox = Outbox.open(file, OutboxConfig.parse(cfg), opts);
  open.push(outbox);
  return outbox;
}

const detection = (n: number): OutboxMessage => ({
  topic: 'vigil/s/d/cameras/cam1/detections',
  stream: 'detections/cam1',
  priority: 0,
  build: ({ id, seq, ts }) => ({ id, seq, ts, n }),
});
const body = (payload: Buffer) => JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
const seqs = (o: Outbox) => o.next(100, new Set()).map((r) => r.seq);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-outbox-clock-'));
  file = path.join(dir, 'outbox.db');
});

afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Outbox across wall-clock steps', () => {
  it('keeps rows stored before NTP steps the clock years ahead, says so, and stamps payloads with the wall clock', () => {
    const { c, opts } = clocks(Date.UTC(1970, 0, 1, 0, 0, 30));
    const events: OutboxEvent[] = [];
    const outbox = openOutbox({ ...opts, onEvent: (e) => events.push(e) });
    outbox.enqueue(detection(1));
    outbox.enqueue(detection(2));
    c.mono += 5 * 60_000;
    c.wall = Date.UTC(2026, 11, 3); // NTP
    c.mono += 2000;
    outbox.enqueue(detection(3));
    expect(seqs(outbox)).toEqual([1, 2, 3]);
    expect(outbox.drops()['max-age']).toBe(0);
    expect(outbox.depth().oldestAgeMs).toBe(5 * 60_000 + 2000);
    expect(body(outbox.next(3, new Set())[2]!.payload).ts).toBe(Date.UTC(2026, 11, 3));
    const stepMs = Date.UTC(2026, 11, 3) - Date.UTC(1970, 0, 1, 0, 0, 30) - (5 * 60_000 + 2000);
    expect(events).toEqual([{ type: 'clock-step', stepMs, wallNow: Date.UTC(2026, 11, 3) }]);
  });

  it('still ages rows out when the clock steps back (no row becomes immortal)', () => {
    const { c, opts } = clocks(Date.UTC(2026, 11, 3));
    const outbox = openOutbox(opts);
    outbox.enqueue(detection(1));
    c.wall -= 10 * year;
    c.mono += 30 * 60_000;
    outbox.enqueue(detection(2));
    c.mono += 45 * 60_000;
    outbox.enqueue(detection(3));
    expect(seqs(outbox)).toEqual([2, 3]);
    expect(outbox.drops()['max-age']).toBe(1);
  });

  it('expires a response by elapsed time whatever the wall clock does', () => {
    const { c, opts } = clocks(Date.UTC(2026, 11, 3));
    const outbox = openOutbox(opts);
    outbox.enqueue({ topic: 'res', priority: 1, expiryS: 30, build: () => ({}) });
    const [row] = outbox.next(1, new Set());
    c.wall += year;
    expect(row!.expiresAt! - outbox.clock()).toBe(30_000);
    c.wall -= 2 * year;
    c.mono += 31_000;
    expect(row!.expiresAt! - outbox.clock()).toBe(-1000);
  });

  it('after a restart at a clock behind the last run (no RTC), rows keep the age they had', () => {
    const first = clocks(Date.UTC(2026, 11, 3));
    const before = openOutbox(first.opts);
    before.enqueue(detection(1));
    first.c.mono += 20 * 60_000;
    before.enqueue(detection(2));
    before.close();
    const second = clocks(Date.UTC(1970, 0, 1, 0, 0, 40)); // reboot without RTC
    const after = openOutbox(second.opts);
    expect(after.depth().oldestAgeMs).toBe(20 * 60_000);
    second.c.mono += 41 * 60_000;
    after.enqueue(detection(3));
    expect(seqs(after)).toEqual([2, 3]);
  });

  it('after a restart, counts the downtime the wall clock shows, even when the last run started at 1970', () => {
    const first = clocks(Date.UTC(1970, 0, 1, 0, 0, 30));
    const before = openOutbox(first.opts);
    before.enqueue(detection(1));
    first.c.mono += 5 * 60_000;
    first.c.wall = Date.UTC(2026, 11, 3, 12); // NTP
    first.c.mono += 1000;
    before.enqueue(detection(2)); // remembers where its clock stood against the wall clock
    before.close();
    // Back 30 minutes later, with the clock right from the start (RTC, or timesyncd's saved clock).
    const second = clocks(Date.UTC(2026, 11, 3, 12, 30));
    const after = openOutbox(second.opts);
    expect(after.depth().oldestAgeMs).toBe(5 * 60_000 + 1000 + 30 * 60_000);
    expect(seqs(after)).toEqual([1, 2]);
    second.c.mono += 25 * 60_000;
    after.enqueue(detection(3));
    expect(seqs(after)).toEqual([2, 3]);
  });
});
