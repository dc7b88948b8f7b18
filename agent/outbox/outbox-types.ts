import type { DropDetail, DropReason, OutboxPriority } from './drop-counts.js';
import type { FreeSpaceOptions, FreeSpaceReading } from './free-space.js';
import type { MovedAside } from './open-database.js';

// The shapes that go in and out of the Outbox (agent/outbox/outbox.ts).

/** MQTT 5 properties a message carries besides content type and expiry (which the link sets). */
export interface OutboxProperties {
  correlationData?: Buffer;
  userProperties?: Record<string, string>;
}

export interface BuildMeta {
  id: string;
  seq: number | null;
  ts: number;
}

export interface OutboxMessage {
  topic: string;
  /** Sequence stream (e.g. `detections/cam1`): the message gets the stream's next `seq`, from 1. */
  stream?: string;
  priority: OutboxPriority;
  retain?: boolean;
  /** Latest-value messages: a row still in the outbox with the same key is replaced. */
  coalesceKey?: string;
  /** Seconds after the commit when the message is worthless: it is then dropped (`expired`), not sent late. */
  expiryS?: number;
  properties?: OutboxProperties;
  /**
   * A durable note written (or, with `value` null, deleted) in the message's own transaction, read back with
   * Outbox.notes() at the next start: what a crash must not forget, such as a safety event still open. Only
   * with a stored row: a message the bounds refuse leaves the notes unchanged.
   */
  note?: OutboxNote;
  /** Builds the payload inside the commit. Must be pure: after a full disk it may be called twice. */
  build: (meta: BuildMeta) => unknown;
}

export interface OutboxNote {
  key: string;
  value: unknown;
}

/** A report the outbox builds from its own records (drop counts, moved-aside files) and commits atomically. */
export type ReportMessage<T> = Omit<OutboxMessage, 'build' | 'stream' | 'coalesceKey'> & {
  build: (report: T, meta: BuildMeta) => unknown;
};

export interface EnqueueResult {
  id: string;
  seq: number | null;
  /** Set when the message was not stored. `seq` is then still spent, except after a full disk (null). */
  dropped?: DropReason;
}

export interface OutboxRow {
  rowid: number;
  id: string;
  topic: string;
  payload: Buffer;
  retain: boolean;
  priority: OutboxPriority;
  stream: string | null;
  seq: number | null;
  /** Ordering key: the stream, else the topic. Rows of one key are published in commit order. */
  key: string;
  /** On the outbox's clock (Outbox.clock(): elapsed time, not the wall clock), as is `expiresAt`. */
  createdAt: number;
  /** Null: never expires. */
  expiresAt: number | null;
  properties?: OutboxProperties;
  /** Payload plus topic bytes: what the byte bound counts. */
  bytes: number;
}

export type OutboxEvent =
  | ({ type: 'corrupt-moved-aside' } & MovedAside)
  | {
      type: 'disk-full';
      topic: string;
      priority: OutboxPriority;
      freedRows: number;
      dropped: boolean;
      error: string;
    }
  /**
   * The disk went under (`low`) or back over the free-space margin; evictions count as `disk-low`. A reading
   * that failed ends `low` too, with `readError` instead of `freeBytes`.
   */
  | ({ type: 'free-space'; low: boolean; minFreeBytes: number } & FreeSpaceReading)
  /**
   * The wall clock stepped by `stepMs` (NTP after a boot without RTC, say): payload timestamps jump with it;
   * ages and expiries do not (docs/adr/0009-outbox-age-clock.md).
   */
  | { type: 'clock-step'; stepMs: number; wallNow: number }
  /** Closed with drop counts a full disk never let it write: they are not reported. */
  | { type: 'drop-counts-lost'; counts: DropDetail[] };

export interface OutboxOptions {
  /** The wall clock: payload timestamps. Default Date.now. */
  now?: () => number;
  /** Ms that only run forward, for ages and expiries. Default performance.now. */
  monotonic?: () => number;
  onEvent?: (e: OutboxEvent) => void;
  /** How the free space of the database's disk is read (tests). */
  freeSpace?: FreeSpaceOptions;
}
