import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import { BehaviorSubject, type Observable } from 'rxjs';
import { backoffDelay } from './backoff.js';
import type { OutboxRow } from '../outbox/outbox.js';
import { clientOptions, jsonProperties as json, type ProtocolLevel } from './client-options.js';
import { DrainPlan } from './drain-plan.js';
import { InflightRows } from './inflight-rows.js';
import type { LinkCounters, LinkState, MqttLinkOptions } from './link-types.js';
import type { StatusPayload } from './payloads.js';
import { closedOnMessage, searchMessage, SilentRefusals } from './silent-refusals.js';
import { inboundMessage, Subscriptions, validFilter, type MessageHandler } from './subscriptions.js';

export type { InboundMessage, MessageHandler } from './subscriptions.js';
export type { LinkCounters, LinkState, MqttLinkOptions } from './link-types.js';

/** A connection that lived this long resets the backoff; shorter ones (flapping) keep growing it. */
const stableAfterMs = 10_000;

/** CONNACK from a 3.1.1 broker to an MQTT 5 CONNECT: 1 (unacceptable protocol level) or 0x84 (unsupported). */
const isProtocolRefusal = (err: Error) => [1, 0x84].includes((err as { code?: unknown }).code as number);

/** mqtt-packet's error for a PUBACK whose reason code MQTT 5 does not allow (see onInvalidPuback). */
const invalidPuback = 'Invalid puback reason code';

/** mqtt.js's error when the broker stopped answering: the network or a hung broker, not a refusal. */
const keepaliveTimeout = 'Keepalive timeout';

/**
 * The MQTT side of store-and-forward: drains the outbox with up to `inflightWindow` QoS 1 publishes
 * in flight and deletes a row only on its PUBACK. The outbox is the only queue: nothing is handed to
 * mqtt.js while disconnected, and every connection is a fresh client (clean session), so rows that
 * were in flight when a connection dropped are simply re-sent, in order, from the outbox. Which rows go
 * next (backlog at a rate, live at once, order per key) is the DrainPlan's choice.
 */
export class MqttLink {
  private readonly subject: BehaviorSubject<LinkState>;
  readonly state$: Observable<LinkState>;
  private readonly clientId: string;
  private readonly plan: DrainPlan;
  private readonly subs = new Subscriptions();
  private client: MqttClient | undefined;
  private protocol: ProtocolLevel = 5;
  /** Bumped per connection: callbacks from an older connection are ignored. */
  private generation = 0;
  private readonly inflight: InflightRows;
  private statusInflight = false;
  private window = 1;
  private maxPacketBytes = Infinity;
  private limitName: string | undefined;
  private readonly refusals: SilentRefusals;
  /** Rows acknowledged or refused before this connection, and whether mqtt.js gave up on it (keepalive). */
  private settledBefore = 0;
  private timedOut = false;
  private attempts = 0;
  private connectedAt = 0;
  private pumping = false;
  private wakeScheduled = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  /** Set while stopping: called when the last row in flight is acknowledged. */
  private onDrained: (() => void) | undefined;
  private connects = 0;

  constructor(private readonly opts: MqttLinkOptions) {
    this.clientId = opts.cfg.clientId ?? `vigil-${randomUUID().slice(0, 8)}`;
    this.subject = new BehaviorSubject<LinkState>({ state: 'disconnected', since: Date.now() });
    this.state$ = this.subject.asObservable();
    this.inflight = new InflightRows(
      opts.outbox,
      opts.log,
      (err) => this.noteError(err),
      (outcome) => {
        if (this.inflight.size === 0) this.onDrained?.();
        if (outcome === 'acked' && this.refusals.acked())
          this.opts.log.info('acks flow again: back to the full window', { window: this.window });
        this.notify();
      },
    );
    this.refusals = new SilentRefusals(opts.cfg.inflightWindow);
    this.plan = new DrainPlan(opts.outbox, opts.drainRatePerS ?? opts.outbox.config.drainRatePerS);
  }

  get state(): LinkState {
    return this.subject.value;
  }

  counters(): LinkCounters {
    const { published, acked, rejected, expired, last, avg } = this.inflight.stats;
    const connects = this.connects;
    const protocol = this.protocol === 5 ? '5' : '3.1.1';
    const inflight = this.inflight.size;
    return { published, acked, rejected, expired, connects, inflight, latencyMs: { last, avg }, protocol };
  }

  /** Rows committed before the current connection and not yet acknowledged (0 while disconnected). */
  backlogRows(): number {
    return this.state.state === 'connected' ? this.plan.backlogRows() : 0;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pollTimer = setInterval(() => this.pump(), this.opts.pollMs ?? 5000);
    this.pollTimer.unref();
    this.connect();
  }

  /** Something was enqueued: drain soon. Calls within one tick make one drain. */
  notify(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.pump();
    });
  }

  /**
   * Subscribes (QoS 1) now if connected and again on every connection; returns the unsubscribe. A
   * handler that throws is logged. A refused subscription (ACL) is reported as the link's lastError.
   */
  subscribe(filter: string, handler: MessageHandler): () => void {
    if (!validFilter(filter)) throw new Error(`invalid MQTT topic filter: "${filter}"`);
    if (this.subs.add(filter, handler) && this.client?.connected) this.sendSubscribe(this.client, [filter]);
    return () => {
      if (this.subs.remove(filter, handler) && this.client?.connected) this.client.unsubscribe(filter);
    };
  }

  /**
   * Publishes the retained `offline` status and disconnects cleanly (so the broker drops the last
   * will), within `timeoutMs` even when the broker is gone. Unacknowledged rows stay in the outbox.
   */
  stop(timeoutMs = 1000): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // A little is kept back for the forced close and the bookkeeping after the last wait.
    const deadline = Date.now() + Math.max(0, timeoutMs - 25);
    // Waits for p, but never past `at`; clears its timer so the process can exit right after.
    const until = async (p: Promise<unknown>, at: number) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.max(0, at - Date.now()))))]);
      clearTimeout(timer);
    };
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.rateTimer);
    const client = this.client;
    if (client?.connected) {
      const offline = new Promise<void>((resolve) =>
        client.publish(this.opts.statusTopic, this.statusPayload('offline'), this.statusOptions(), () =>
          resolve(),
        ),
      );
      // Acks for rows already in flight still count while we wait: fewer duplicates after a restart.
      const drained = new Promise<void>((resolve) =>
        this.inflight.size === 0 ? resolve() : (this.onDrained = resolve),
      );
      await until(Promise.all([offline, drained]), Date.now() + timeoutMs / 2);
    }
    this.generation++; // from here on, callbacks are ignored and the rows stay for the next start
    this.inflight.clear();
    if (client) {
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      const ended = new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()));
      await until(ended, deadline);
      if (!client.disconnected) client.stream?.destroy();
    }
    this.setState('stopped');
    this.subject.complete();
  }

  private connect(): void {
    if (this.stopping) return;
    const gen = ++this.generation;
    const { cfg, statusTopic } = this.opts;
    this.timedOut = false;
    this.setState('connecting');
    let client: MqttClient;
    try {
      const will = { topic: statusTopic, payload: this.statusPayload('offline') };
      client = mqtt.connect(cfg.url, clientOptions(cfg, this.clientId, will, this.protocol));
    } catch (err) {
      this.noteError(err as Error);
      this.onClose(gen);
      return;
    }
    this.client = client;
    client.on('connect', (connack) => gen === this.generation && this.onConnect(client, connack));
    client.on('error', (err) => gen === this.generation && this.onError(client, err));
    client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      if (gen === this.generation) this.noteError(new Error(`broker disconnected us (reason code ${code})`));
    });
    client.on('message', (topic, payload, packet) => gen === this.generation && this.onMessage(packet));
    client.on('close', () => gen === this.generation && this.onClose(gen));
  }

  private onError(client: MqttClient, err: Error): void {
    if (err.message === keepaliveTimeout) this.timedOut = true;
    if (client.connected && err.message === invalidPuback) return this.onInvalidPuback(client);
    if (this.protocol === 5 && this.connectedAt === 0 && isProtocolRefusal(err)) {
      // A 3.1.1 broker: the next attempt (and every later one) speaks 3.1.1, without MQTT 5 properties.
      this.protocol = 4;
      this.opts.log.warn('the broker refused MQTT 5, using MQTT 3.1.1', { url: this.opts.cfg.url });
      return;
    }
    this.noteError(err);
  }

  /**
   * mosquitto answers a PUBLISH over its message_size_limit with PUBACK 0x95, a reason code MQTT 5 does not
   * allow there: mqtt.js fails to parse it, keeps the connection and loses the acks read with it, so rows
   * would stay in flight for good and block their stream. PUBACKs come in publish order: once the acks parsed
   * before it are handled (mqtt.js does so on the next ticks), the refused row is the oldest in flight. It is
   * dropped, and the connection, whose acks can no longer be trusted, is closed: the rest is re-sent.
   */
  private onInvalidPuback(client: MqttClient): void {
    const gen = this.generation;
    setImmediate(() => {
      if (gen !== this.generation) return;
      const err = new Error(
        'the broker refused a message with a PUBACK reason code MQTT 5 does not define (mosquitto: over its message_size_limit)',
      );
      // The status publish goes first on a connection: while it is unacknowledged, it is the oldest.
      if (this.statusInflight) this.noteError(err);
      else this.inflight.refuseOldest(err);
      client.stream?.destroy();
    });
  }

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.connectedAt = Date.now();
    this.connects++;
    const props = connack.properties ?? {};
    // Never more in flight than the broker's Receive Maximum (the status publish included).
    this.window = Math.max(1, Math.min(this.opts.cfg.inflightWindow, (props.receiveMaximum ?? 65535) - 1));
    // The smaller of the announced and configured limits; with neither, SilentRefusals watches the closes.
    const configured = this.opts.cfg.maxPacketBytes ?? Infinity;
    this.maxPacketBytes = Math.min(props.maximumPacketSize ?? Infinity, configured);
    this.limitName = configured < (props.maximumPacketSize ?? Infinity) ? 'mqtt.maxPacketBytes' : undefined;
    this.settledBefore = this.settledRows();
    this.plan.reset();
    const protocol = this.counters().protocol;
    const { url } = this.opts.cfg;
    this.opts.log.info('connected', { url, clientId: this.clientId, window: this.window, protocol });
    this.setState('connected');
    this.statusInflight = true;
    const gen = this.generation;
    client.publish(this.opts.statusTopic, this.statusPayload('online'), this.statusOptions(), () => {
      if (gen !== this.generation) return;
      this.statusInflight = false;
      this.pump();
    });
    const filters = this.subs.filters();
    if (filters.length) this.sendSubscribe(client, filters);
    this.pump();
  }

  private sendSubscribe(client: MqttClient, filters: string[]): void {
    const gen = this.generation;
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (!err || gen !== this.generation) return;
      this.opts.log.error('subscription refused', { filters, reason: err.message });
      this.noteError(new Error(`subscription to ${filters.join(', ')} refused: ${err.message}`));
    });
  }

  private onMessage(packet: IPublishPacket): void {
    this.subs.dispatch(inboundMessage(packet), (err, filter, topic) =>
      this.opts.log.error('message handler failed', {
        filter,
        topic,
        reason: (err as Error)?.message ?? String(err),
      }),
    );
  }

  private onClose(gen: number): void {
    this.generation++; // the rows in flight are re-sent on the next connection
    const unacked = this.inflight.rows();
    this.inflight.clear();
    this.statusInflight = false;
    clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    // The closed client is left to the garbage collector; its listeners ignore an old generation.
    this.client = undefined;
    if (this.stopping) return;
    this.watchRefusals(unacked);
    if (this.connectedAt && Date.now() - this.connectedAt >= stableAfterMs) this.attempts = 0;
    this.connectedAt = 0;
    const delay = backoffDelay(
      this.attempts++,
      this.opts.reconnect?.minMs ?? 500,
      this.opts.reconnect?.maxMs ?? 30_000,
    );
    this.setState('disconnected');
    this.opts.log.debug('reconnecting', { inMs: delay, attempt: this.attempts, gen });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private pump(): void {
    const client = this.client;
    if (this.pumping || this.stopping || !client?.connected || this.state.state !== 'connected') return;
    this.pumping = true;
    try {
      for (;;) {
        const window = this.refusals.window(this.window);
        const room = window - this.inflight.size - (this.statusInflight ? 1 : 0);
        const rows = this.plan.take(room, this.inflight.ids());
        if (rows.length === 0) break;
        const gen = this.generation;
        const current = () => gen === this.generation;
        for (const row of rows)
          this.inflight.publish(client, row, this.maxPacketBytes, current, this.limitName);
      }
      this.scheduleRateWake();
    } catch (err) {
      this.opts.log.error('outbox read failed', { reason: (err as Error).message });
    } finally {
      this.pumping = false;
    }
  }

  /**
   * With no packet limit known, a broker (MQTT 3.1.1) refuses an oversize row only by closing the
   * connection: SilentRefusals finds that row by the closes, and it is dropped as refused.
   */
  private watchRefusals(unacked: OutboxRow[]): void {
    if (Number.isFinite(this.maxPacketBytes)) return;
    if (!this.connectedAt || this.timedOut) return this.refusals.interrupted();
    const verdict = this.refusals.closed(unacked, this.settledRows() - this.settledBefore);
    if (verdict.kind === 'search') this.noteError(new Error(searchMessage));
    if (verdict.kind === 'drop')
      this.inflight.refuse(verdict.row, new Error(closedOnMessage(verdict.row, this.protocol)));
  }

  private settledRows(): number {
    return this.inflight.stats.acked + this.inflight.stats.rejected;
  }

  /** The backlog waits for the rate, not for an ack or a notify: wake up when it allows the next row. */
  private scheduleRateWake(): void {
    if (this.rateTimer) return;
    const wait = this.plan.waitMs();
    if (wait === undefined) return;
    this.rateTimer = setTimeout(() => {
      this.rateTimer = undefined;
      this.pump();
    }, wait);
  }

  private noteError(err: Error): void {
    const previous = this.state.lastError?.message;
    // A broker that stays away would otherwise log the same line at every attempt.
    if (err.message !== previous)
      this.opts.log.warn('mqtt error', { reason: err.message, url: this.opts.cfg.url });
    this.subject.next({ ...this.state, lastError: { message: err.message, at: Date.now() } });
  }

  private setState(state: LinkState['state']): void {
    if (this.state.state === state) return;
    const { lastError } = this.state;
    this.subject.next(lastError ? { state, since: Date.now(), lastError } : { state, since: Date.now() });
  }

  private statusOptions() {
    return { qos: 1 as const, retain: true, ...(this.protocol === 5 && { properties: json }) };
  }

  private statusPayload(state: StatusPayload['state']): Buffer {
    const status: StatusPayload = { state, ts: Date.now(), version: this.opts.version };
    return Buffer.from(JSON.stringify(status));
  }
}
