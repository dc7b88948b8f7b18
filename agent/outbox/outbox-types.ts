import type { DropReason, OutboxPriority } from './drop-counts.js';
import type { MovedAside } from './open-database.js';

// The shapes that go in and out of the Outbox (agent/outbox/outbox.ts).
export interface OutboxMessage {
  topic: string;
  /** Sequence stream (e.g. `detections/cam1`): the message gets the stream's next `seq`, from 1. */
  stream?: string;
  priority: OutboxPriority;
  retain?: boolean;
  /** Latest-value messages: a row still in the outbox with the same key is replaced. */
  coalesceKey?: string;
  /** Builds the payload inside the commit. Must be pure: after a full disk it may be called twice. */
  build: (meta: { id: string; seq: number | null; ts: number }) => unknown;
}

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
  createdAt: number;
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
    };

export interface OutboxOptions {
  now?: () => number;
  onEvent?: (e: OutboxEvent) => void;
}
