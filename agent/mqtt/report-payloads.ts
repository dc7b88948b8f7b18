import { z } from 'zod';
import { dropReasons } from '../outbox/drop-counts.js';

/**
 * Payloads the agent publishes about itself: the periodic `health`, the `drops` report and the `events`
 * notices. Schemas of what it publishes about cameras are in payloads.ts.
 */

const EpochMs = z.number().int().nonnegative();
const Count = z.number().int().nonnegative();
const Bytes = z.number().int().nonnegative();
const NonNeg = z.number().nonnegative();
const DropTotals = z.strictObject(
  Object.fromEntries(dropReasons.map((r) => [r, Count])) as Record<
    (typeof dropReasons)[number],
    typeof Count
  >,
);
const LastError = z.strictObject({ message: z.string(), at: EpochMs }).nullable();

/** `<base>/<site>/<device>/health`, retained, every `mqtt.healthIntervalS` seconds. */
export const HealthPayload = z.strictObject({
  ts: EpochMs,
  version: z.string(),
  uptimeS: z.number().nonnegative(),
  outbox: z.strictObject({
    rows: Count,
    bytes: Bytes,
    /** Age of the oldest message waiting, ms (0 when empty). */
    oldestAgeMs: z.number().nonnegative(),
    /** Dropped and not yet reported on `drops`, by reason. */
    dropsUnreported: DropTotals,
    /** Dropped since this process started, reported or not. */
    dropsSinceStart: DropTotals,
    /** The latest storage failure (a full disk), null when none. */
    lastError: LastError,
  }),
  link: z.strictObject({
    protocol: z.enum(['5', '3.1.1']),
    connects: Count,
    published: Count,
    acked: Count,
    inflight: Count,
    /** Backlog rows from before the current connection still waiting (0 when caught up). */
    backlogRows: Count,
    /** Publish-to-PUBACK round trip with the broker, ms: the latest and a moving average; null before any. */
    roundTripMs: z.strictObject({ last: z.number().nonnegative(), avg: z.number().nonnegative() }).nullable(),
    lastError: LastError,
  }),
  system: z.strictObject({
    /** Whole-box CPU load, percent; null when it could not be read. */
    cpuPercent: z.number().nonnegative().nullable(),
    load1: z.number().nonnegative(),
    cores: z.number().int().positive(),
    memory: z.strictObject({ usedBytes: NonNeg, totalBytes: NonNeg }).nullable(),
    /** The hottest thermal zone, °C; null where the box has no sensor. */
    temperatureC: z.number().nullable(),
    /** The filesystem of the data dir (where the outbox lives). */
    disk: z.strictObject({ path: z.string(), usedBytes: NonNeg, totalBytes: NonNeg }).nullable(),
    process: z.strictObject({ rssBytes: NonNeg, cpuPercent: NonNeg }),
  }),
  /** Camera id -> its current state. */
  cameras: z.record(z.string(), z.enum(['connecting', 'streaming', 'stalled', 'failed', 'stopped'])),
});
export type HealthPayload = z.infer<typeof HealthPayload>;

/** `<base>/<site>/<device>/drops`: messages the outbox could not keep, counted since the previous report. */
export const DropsPayload = z.strictObject({
  /** Dedupe key (at-least-once). A report is committed with the reset of its counts: never counted twice. */
  id: z.string().min(1),
  ts: EpochMs,
  total: Count,
  counts: z.array(
    z.strictObject({
      /** max-rows / max-bytes / max-age / disk-low: a bound; disk-full; rejected: refused by the broker; expired. */
      reason: z.enum(dropReasons),
      /** 0 routine (detections), 1 readings (state, PM2.5, health), 2 alerts and command responses. */
      priority: z.union([z.literal(0), z.literal(1), z.literal(2)]),
      count: z.number().int().positive(),
    }),
  ),
});
export type DropsPayload = z.infer<typeof DropsPayload>;

/** A corrupt outbox database found at start-up, renamed so a fresh one could start. */
export const OutboxMovedAsideEvent = z.strictObject({
  id: z.string().min(1),
  type: z.literal('outbox-moved-aside'),
  ts: EpochMs,
  /** The database path and where the damaged file (with its -wal and -shm) now is. */
  file: z.string(),
  movedTo: z.string(),
  /** SQLite's diagnosis. */
  reason: z.string(),
  /** Epoch ms when it was moved. */
  at: EpochMs,
});

/** `<base>/<site>/<device>/events`: notices about the agent itself, told apart by `type`. */
export const AgentEventPayload = z.discriminatedUnion('type', [OutboxMovedAsideEvent]);
export type AgentEventPayload = z.infer<typeof AgentEventPayload>;
