import mqtt from 'mqtt';
import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../../config/logger.js';
import type { MqttConfig } from '../../config/schema.js';
import { backoffDelay } from './backoff.js';
import { clientOptions, type ProtocolLevel } from './client-options.js';
import { describeTlsError } from './tls-errors.js';

/** A connection that lived this long resets the backoff; shorter ones (flapping) keep growing it. */
const stableAfterMs = 10_000;

/** CONNACK from a 3.1.1 broker to an MQTT 5 CONNECT: 1 (unacceptable protocol level) or 0x84 (unsupported). */
const isProtocolRefusal = (err: Error) => [1, 0x84].includes((err as { code?: unknown }).code as number);

/** mqtt.js's error when the broker stopped answering: the network or a hung broker, not a refusal. */
const keepaliveTimeout = 'Keepalive timeout';

export interface BrokerConnectionOptions {
  cfg: MqttConfig;
  clientId: string;
  log: Logger;
  /** The last will, built anew for each attempt. */
  will: () => { topic: string; payload: Buffer };
  /** Reconnect backoff bounds (default 500 ms doubling to 30 s, with jitter). */
  reconnect?: { minMs?: number; maxMs?: number };
}

/** What the connection tells its owner, always about the current client (older ones are ignored). */
export interface ConnectionEvents {
  /** A connection attempt begins. */
  connecting(): void;
  connected(client: MqttClient, connack: IConnackPacket): void;
  /** An error event of the client that the connection does not handle itself (the MQTT 5 refusal). */
  error(client: MqttClient, err: Error): void;
  /** Worth reporting, nothing to handle: a client that could not be created, a DISCONNECT from the broker. */
  problem(err: Error): void;
  message(packet: IPublishPacket): void;
  /**
   * The client is gone; `established`: it had connected; `timedOut`: mqtt.js gave up on it (keepalive).
   * Called before the reconnect is scheduled, also once stopped.
   */
  closed(established: boolean, timedOut: boolean): void;
  /** Waiting for the next attempt (not called once stopped). */
  disconnected(): void;
}

/**
 * The link's connection to the broker across reconnects, apart from what is sent over it: every attempt is a
 * fresh mqtt.js client (clean session) whose events count only while it is the current one, MQTT 5 falls back
 * to 3.1.1 for good once a broker refuses it, and a lost connection is retried with backoff.
 */
export class BrokerConnection {
  private current: MqttClient | undefined;
  private level: ProtocolLevel = 5;
  /** Bumped per connection: callbacks from an older connection are ignored. */
  private generation = 0;
  private connectedAt = 0;
  private timedOut = false;
  private attempts = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: BrokerConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {}

  /** The current client, or the last one once stopped; undefined between a close and the next attempt. */
  get client(): MqttClient | undefined {
    return this.current;
  }

  get protocol(): ProtocolLevel {
    return this.level;
  }

  /** For callbacks of something sent now: true while the connection it was sent on is still the current one. */
  guard(): () => boolean {
    const gen = this.generation;
    return () => gen === this.generation;
  }

  connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.timedOut = false;
    this.events.connecting();
    let client: MqttClient;
    try {
      client = mqtt.connect(
        this.opts.cfg.url,
        clientOptions(this.opts.cfg, this.opts.clientId, this.opts.will(), this.level),
      );
    } catch (err) {
      this.events.problem(describeTlsError(err as Error, this.opts.cfg));
      this.onClose(gen);
      return;
    }
    this.current = client;
    client.on('connect', (connack) => gen === this.generation && this.onConnect(client, connack));
    client.on('error', (err) => gen === this.generation && this.onError(client, err));
    client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      if (gen === this.generation)
        this.events.problem(new Error(`broker disconnected us (reason code ${code})`));
    });
    client.on('message', (topic, payload, packet) => gen === this.generation && this.events.message(packet));
    client.on('close', () => gen === this.generation && this.onClose(gen));
  }

  /** No more attempts; the current client's events still count until `detach`. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
  }

  /** From here on the current client's callbacks are ignored (its rows stay for the next start). */
  detach(): void {
    this.generation++;
  }

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.connectedAt = performance.now(); // for 'stable': a wall-clock step must not reset or hold the backoff
    this.events.connected(client, connack);
  }

  private onError(client: MqttClient, err: Error): void {
    if (err.message === keepaliveTimeout) this.timedOut = true;
    if (this.level === 5 && this.connectedAt === 0 && isProtocolRefusal(err)) {
      // A 3.1.1 broker: the next attempt (and every later one) speaks 3.1.1, without MQTT 5 properties.
      this.level = 4;
      this.opts.log.warn('the broker refused MQTT 5, using MQTT 3.1.1', { url: this.opts.cfg.url });
      return;
    }
    this.events.error(client, describeTlsError(err, this.opts.cfg));
  }

  private onClose(gen: number): void {
    this.generation++; // the rows in flight are re-sent on the next connection
    // The closed client is left to the garbage collector; its listeners ignore an old generation.
    this.current = undefined;
    this.events.closed(this.connectedAt !== 0, this.timedOut);
    if (this.stopped) return;
    if (this.connectedAt && performance.now() - this.connectedAt >= stableAfterMs) this.attempts = 0;
    this.connectedAt = 0;
    const { minMs = 500, maxMs = 30_000 } = this.opts.reconnect ?? {};
    const delay = backoffDelay(this.attempts++, minMs, maxMs);
    this.events.disconnected();
    this.opts.log.debug('reconnecting', { inMs: delay, attempt: this.attempts, gen });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
