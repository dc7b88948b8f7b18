import type { OutboxRow } from '../outbox/outbox.js';
import { rowProperties } from './client-options.js';
import { publishPacketBytes } from './publish-packet-size.js';

/** Connections in a row that close with rows in flight and none settled before rows go one at a time. */
export const quietClosesBeforeSearch = 3;
/** Closes in a row with the same row alone in flight before that row is taken as refused. */
export const closesBeforeDrop = 3;

/** What the link should do after a close. */
export type CloseVerdict =
  | { kind: 'none' }
  /** Rows go one at a time from now on, to find the one the broker closes on. */
  | { kind: 'search' }
  /** The broker closed on this row, alone in flight, `closesBeforeDrop` times in a row: drop it. */
  | { kind: 'drop'; row: OutboxRow };

/**
 * A broker that cannot say "too large" (MQTT 3.1.1 has no Maximum Packet Size and no PUBACK reason code)
 * closes the connection on an oversize PUBLISH instead, and the acks read before it are lost: the link
 * would reconnect and send the same row for ever. Used while no packet limit is known (docs/mqtt.md).
 *
 * After `quietClosesBeforeSearch` connections in a row close with rows in flight and none acknowledged or
 * refused, rows go out one at a time; a row alone in flight when the broker closes `closesBeforeDrop` times in
 * a row is the one it refuses. A failed connect or a keepalive timeout ends both streaks: a broker that is
 * down, restarting or unreachable is not closing on a publish (it accepts the next connection at once).
 * Normal windowing resumes at the first ack after a drop, or after `resumeAfterAcks` acks without one.
 */
export class SilentRefusals {
  private quietCloses = 0;
  private searching = false;
  private suspect: { rowid: number; closes: number } | undefined;
  private acksWhileSearching = 0;
  private dropped = false;

  constructor(private readonly resumeAfterAcks: number) {}

  /** Rows in flight allowed now, given the connection's normal window. */
  window(normal: number): number {
    return this.searching ? 1 : normal;
  }

  get isSearching(): boolean {
    return this.searching;
  }

  /** The connection never came up, or timed out: nothing to learn, and the streaks start over. */
  interrupted(): void {
    this.quietCloses = 0;
    this.suspect = undefined;
  }

  /** A row was acknowledged; true when this ends the search (normal windowing again). */
  acked(): boolean {
    if (!this.searching) return false;
    this.acksWhileSearching++;
    if (!this.dropped && this.acksWhileSearching < this.resumeAfterAcks) return false;
    this.searching = false;
    this.dropped = false;
    this.quietCloses = 0;
    this.suspect = undefined;
    return true;
  }

  /**
   * The broker closed an established connection. `inflight`: the outbox rows unacknowledged at the close,
   * oldest first; `settled`: rows acknowledged or refused on that connection.
   */
  closed(inflight: readonly OutboxRow[], settled: number): CloseVerdict {
    if (!this.searching) {
      if (settled > 0) this.quietCloses = 0;
      if (settled > 0 || inflight.length === 0) return { kind: 'none' };
      if (++this.quietCloses < quietClosesBeforeSearch) return { kind: 'none' };
      this.searching = true;
      this.acksWhileSearching = 0;
      this.suspect = undefined;
      return { kind: 'search' };
    }
    // One at a time: a close with nothing in flight says nothing about any row.
    const row = inflight.length === 1 ? inflight[0]! : undefined;
    if (!row) return { kind: 'none' };
    const closes = this.suspect?.rowid === row.rowid ? this.suspect.closes + 1 : 1;
    this.suspect = { rowid: row.rowid, closes };
    if (closes < closesBeforeDrop) return { kind: 'none' };
    this.suspect = undefined;
    this.dropped = true;
    return { kind: 'drop', row };
  }
}

/** The warning when the search starts: the likely cause, and the setting that avoids it. */
export const searchMessage =
  `the broker closed the connection ${quietClosesBeforeSearch} times in a row with messages in flight and none ` +
  'acknowledged: sending one at a time to find a message it refuses (an MQTT 3.1.1 broker closes on a packet ' +
  "over its size limit without saying so; set mqtt.maxPacketBytes to the broker's limit)";

/** The error a row dropped by the search is reported with, its packet measured as it was sent. */
export function closedOnMessage(row: OutboxRow, protocolVersion: number): string {
  // Any time on the outbox's clock does: the expiry property's size does not depend on its value.
  const properties = rowProperties(row, row.createdAt);
  const packetBytes = publishPacketBytes(row.topic, row.payload.length, properties, protocolVersion);
  return (
    `the broker closed the connection ${closesBeforeDrop} times in a row right after a ${packetBytes}-byte ` +
    "packet was sent alone, never acknowledging it: dropped as refused (most likely over the broker's " +
    "maximum packet size, which MQTT 3.1.1 does not announce; set mqtt.maxPacketBytes to the broker's limit)"
  );
}
