import type { IConnackPacket, MqttClient } from 'mqtt';
import type { MqttConfig } from '../../config/schema.js';
import type { OutboxRow } from '../outbox/outbox.js';
import type { ProtocolLevel } from './client-options.js';
import type { InflightRows } from './inflight-rows.js';
import { closedOnMessage, searchMessage, SilentRefusals } from './silent-refusals.js';

/** mqtt-packet's error for a PUBACK whose reason code MQTT 5 does not allow (see `invalidPuback`). */
export const invalidPubackError = 'Invalid puback reason code';

/**
 * Finds the rows a broker will never take because of their size, so they are dropped as refused instead
 * of being re-sent for good and blocking their stream. A known limit (the CONNACK's Maximum Packet Size, or
 * mqtt.maxPacketBytes) is checked before a row is sent; without one, the broker's answer to an oversize
 * PUBLISH is one the link cannot read as a refusal: a PUBACK mqtt.js fails to parse (mosquitto, MQTT 5), or
 * a close (MQTT 3.1.1), which SilentRefusals tells apart from a broker that simply went away.
 */
export class OversizeRefusals {
  private readonly silent: SilentRefusals;
  private maxPacketBytes = Infinity;
  private limitName: string | undefined;
  /** Rows acknowledged or refused before this connection. */
  private settledBefore = 0;

  constructor(
    private readonly cfg: MqttConfig,
    private readonly inflight: InflightRows,
    private readonly noteError: (err: Error) => void,
  ) {
    this.silent = new SilentRefusals(cfg.inflightWindow);
  }

  /** A connection is up: its limit is the smaller of the announced and configured ones. */
  connected(props: NonNullable<IConnackPacket['properties']>): void {
    const configured = this.cfg.maxPacketBytes ?? Infinity;
    this.maxPacketBytes = Math.min(props.maximumPacketSize ?? Infinity, configured);
    this.limitName = configured < (props.maximumPacketSize ?? Infinity) ? 'mqtt.maxPacketBytes' : undefined;
    this.settledBefore = this.settledRows();
  }

  /** Rows in flight allowed now, given the connection's normal window (1 while searching). */
  window(normal: number): number {
    return this.silent.window(normal);
  }

  /** A row was acknowledged; true when this ends a search (the full window again). */
  acked(): boolean {
    return this.silent.acked();
  }

  /** Sends a row unless it is over the known limit (then it is refused at once). */
  publish(client: MqttClient, row: OutboxRow, current: () => boolean): void {
    this.inflight.publish(client, row, this.maxPacketBytes, current, this.limitName);
  }

  /**
   * mosquitto answers a PUBLISH over its message_size_limit with PUBACK 0x95, a reason code MQTT 5 does not
   * allow there: mqtt.js fails to parse it, keeps the connection and loses the acks read with it, so rows
   * would stay in flight for good and block their stream. PUBACKs come in publish order: once the acks parsed
   * before it are handled (mqtt.js does so on the next ticks), the refused row is the oldest in flight. It is
   * dropped, and the connection, whose acks can no longer be trusted, is closed: the rest is re-sent.
   */
  invalidPuback(client: MqttClient, current: () => boolean, statusInflight: () => boolean): void {
    setImmediate(() => {
      if (!current()) return;
      const err = new Error(
        'the broker refused a message with a PUBACK reason code MQTT 5 does not define (mosquitto: over its message_size_limit)',
      );
      // The status publish goes first on a connection: while it is unacknowledged, it is the oldest.
      if (statusInflight()) this.noteError(err);
      else this.inflight.refuseOldest(err);
      client.stream?.destroy();
    });
  }

  /**
   * The connection closed with `unacked` rows in flight. With no packet limit known, a broker (MQTT 3.1.1)
   * refuses an oversize row only by closing the connection: SilentRefusals finds that row by the closes, and
   * it is dropped as refused.
   */
  closed(unacked: OutboxRow[], established: boolean, timedOut: boolean, protocol: ProtocolLevel): void {
    if (Number.isFinite(this.maxPacketBytes)) return;
    if (!established || timedOut) return this.silent.interrupted();
    const verdict = this.silent.closed(unacked, this.settledRows() - this.settledBefore);
    if (verdict.kind === 'search') this.noteError(new Error(searchMessage));
    if (verdict.kind === 'drop')
      this.inflight.refuse(verdict.row, new Error(closedOnMessage(verdict.row, protocol)));
  }

  private settledRows(): number {
    return this.inflight.stats.acked + this.inflight.stats.rejected;
  }
}
