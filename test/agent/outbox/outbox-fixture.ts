import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { OutboxConfig } from '../../../config/schema.js';
import { Outbox, type OutboxMessage } from '../../../agent/outbox/outbox.js';

// What outbox.test.ts, outbox-limits.test.ts and outbox-corrupt.test.ts share: a real Outbox on a file in a
// temp folder of each test's own.

/** This test's outbox file (in a folder not made yet: the Outbox makes it). */
export let file: string;
let dir: string;
const open: Outbox[] = [];

/** Registers the file's hooks: a fresh temp folder before each test; its Outboxes closed and it removed after. */
export function useOutbox(): void {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-outbox-'));
    file = path.join(dir, 'nested', 'outbox.db');
  });

  afterEach(() => {
    for (const o of open.splice(0)) o.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export function openOutbox(
  cfg: Partial<OutboxConfig> = {},
  opts: Parameters<typeof Outbox.open>[2] = {},
): Outbox {
  const outbox = Outbox.open(file, OutboxConfig.parse(cfg), opts);
  open.push(outbox);
  return outbox;
}

export const detection = (camera: string, n: number, extra: Partial<OutboxMessage> = {}): OutboxMessage => ({
  topic: `vigil/s/d/cameras/${camera}/detections`,
  stream: `detections/${camera}`,
  priority: 0,
  build: ({ id, seq, ts }) => ({ id, seq, ts, n }),
  ...extra,
});

export const body = (payload: Buffer) => JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
/** Reaches the connection a real Outbox uses, for pragmas a test needs (max_page_count). */
export const dbOf = (outbox: Outbox) => (outbox as unknown as { db: Database.Database }).db;
