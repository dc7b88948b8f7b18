import type { Logger } from '../../config/logger.js';
import type { MqttConfig } from '../../config/schema.js';
import type { Outbox } from '../outbox/outbox.js';

export interface LinkState {
  state: 'connecting' | 'connected' | 'disconnected' | 'stopped';
  /**
   * Epoch ms when this state began. While the broker is away the link alternates `connecting` and
   * `disconnected` at every retry; both keep the time the link went down (or started), not the last retry.
   */
  since: number;
  /** The latest error: a refused connect (bad credentials, ACL), a lost socket, a publish the broker refused. */
  lastError?: { message: string; at: number };
}

export interface LinkCounters {
  /** PUBLISH packets sent for outbox rows, re-sends after a reconnect included. */
  published: number;
  /** Rows the broker acknowledged (and the outbox deleted). */
  acked: number;
  /** Rows the broker refused (PUBACK reason code >= 0x80) or could never take: dropped as `rejected`. */
  rejected: number;
  /** Rows whose expiry passed before they could be sent: dropped as `expired`. */
  expired: number;
  connects: number;
  inflight: number;
  /** Publish to PUBACK; `avg` is a moving average over roughly the last 20 acks. */
  latencyMs: { last: number; avg: number };
  /** MQTT protocol level of the current (or last) connection. */
  protocol: '5' | '3.1.1';
}

export interface MqttLinkOptions {
  cfg: MqttConfig;
  statusTopic: string;
  outbox: Outbox;
  log: Logger;
  version: string;
  /** This box's id in its `status` (docs/mqtt.md): how it knows its own retained status under an old root. */
  box?: string;
  /** Backlog rows per second after a (re)connect (default: the outbox config's `drainRatePerS`). */
  drainRatePerS?: number;
  /** Reconnect backoff bounds (default 500 ms doubling to 30 s, with jitter). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Safety-net drain interval in case a notify() was missed (default 5 s). */
  pollMs?: number;
}
