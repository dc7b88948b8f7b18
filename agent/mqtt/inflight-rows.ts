import type { MqttClient } from 'mqtt';
import type { Logger } from '../../config/logger.js';
import type { Outbox, OutboxRow } from '../outbox/outbox.js';
import { rowProperties } from './client-options.js';
import { publishPacketBytes } from './publish-packet-size.js';

/** mqtt.js reports a PUBACK reason code >= 0x80 as an error carrying that code. */
const isRefusal = (err: Error) => ((err as { code?: unknown }).code as number) >= 0x80;

/**
 * The outbox rows published on the current connection and not yet acknowledged: a row is deleted on its
 * PUBACK, dropped on a refusal, and simply forgotten when the connection goes (it is still in the outbox).
 */
export class InflightRows {
  /** Rowid -> the row and when its publish was sent (performance.now), in the order they were sent. */
  private readonly sent = new Map<number, { row: OutboxRow; at: number }>();
  readonly stats = { published: 0, acked: 0, rejected: 0, expired: 0, last: 0, avg: 0 };

  constructor(
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly noteError: (err: Error) => void,
    /** A row was acknowledged or refused. */
    private readonly onSettled: (outcome: 'acked' | 'refused') => void,
  ) {}

  get size(): number {
    return this.sent.size;
  }

  ids(): Set<number> {
    return new Set(this.sent.keys());
  }

  /** The rows in flight, in the order they were sent. */
  rows(): OutboxRow[] {
    return [...this.sent.values()].map((s) => s.row);
  }

  clear(): void {
    this.sent.clear();
  }

  /**
   * `current` says whether the connection it was sent on is still the link's; `limitName` names where
   * `maxPacketBytes` comes from, for the error.
   */
  publish(
    client: MqttClient,
    row: OutboxRow,
    maxPacketBytes: number,
    current: () => boolean,
    limitName = "the broker's maximum packet size",
  ): void {
    // Expiry on the outbox's clock, not the wall clock: a step of it must not expire nor revive a response.
    const now = this.outbox.clock();
    if (row.expiresAt !== null && row.expiresAt <= now) {
      this.stats.expired++;
      this.outbox.drop(row.rowid, 'expired');
      return;
    }
    const properties = rowProperties(row, now);
    const size = publishPacketBytes(
      row.topic,
      row.payload.length,
      properties,
      client.options.protocolVersion ?? 4,
    );
    if (size > maxPacketBytes) {
      this.refused(row, new Error(`a ${size}-byte packet exceeds ${limitName} (${maxPacketBytes} bytes)`));
      return;
    }
    this.sent.set(row.rowid, { row, at: performance.now() });
    this.stats.published++;
    const options = { qos: 1 as const, retain: row.retain, properties };
    client.publish(row.topic, row.payload, options, (err) => {
      if (!current()) return; // that connection is gone: the row is re-sent on the next one
      if (err && !isRefusal(err)) return; // e.g. closing: stays in flight until the connection drops
      const ackedAt = performance.now();
      const sentAt = this.sent.get(row.rowid)?.at ?? ackedAt;
      this.sent.delete(row.rowid);
      if (err) this.refused(row, err);
      else this.acked(row, ackedAt - sentAt);
      this.onSettled(err ? 'refused' : 'acked');
    });
  }

  /**
   * The broker refused the oldest row in flight in a way mqtt.js could not report against it (see
   * OversizeRefusals.invalidPuback): PUBACKs come in publish order, so it is the first one sent still
   * unacknowledged.
   */
  refuseOldest(err: Error): void {
    const oldest = this.sent.values().next().value;
    if (!oldest) return this.noteError(err);
    this.sent.delete(oldest.row.rowid);
    this.refused(oldest.row, err);
  }

  /** A row no longer in flight that the broker will never take (OversizeRefusals' SilentRefusals found it). */
  refuse(row: OutboxRow, err: Error): void {
    this.sent.delete(row.rowid);
    this.refused(row, err);
  }

  private acked(row: OutboxRow, latencyMs: number): void {
    const s = this.stats;
    s.acked++;
    s.last = latencyMs;
    s.avg = s.acked === 1 ? latencyMs : s.avg + (latencyMs - s.avg) / 20;
    try {
      this.outbox.ack(row.rowid);
    } catch (err) {
      // The row stays and is sent again later: a duplicate, which subscribers dedupe by id.
      this.log.error('outbox ack failed', { reason: (err as Error).message });
    }
  }

  /** A message the broker will never take (ACL, size): retrying would block everything behind it. */
  private refused(row: OutboxRow, err: Error): void {
    this.stats.rejected++;
    this.log.error('broker refused a message, dropped', {
      topic: row.topic,
      id: row.id,
      reason: err.message,
    });
    this.noteError(err);
    try {
      this.outbox.drop(row.rowid, 'rejected');
    } catch (dropErr) {
      this.log.error('outbox drop failed', { reason: (dropErr as Error).message });
    }
  }
}
