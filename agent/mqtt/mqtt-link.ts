import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { Observable } from 'rxjs';
import { BrokerConnection } from './broker-connection.js';
import { jsonProperties as json } from './client-options.js';
import { DrainPlan } from './drain-plan.js';
import { InflightRows } from './inflight-rows.js';
import { LinkStateLog } from './link-state-log.js';
import type { LinkCounters, LinkState, MqttLinkOptions } from './link-types.js';
import { invalidPubackError, OversizeRefusals } from './oversize-refusals.js';
import { fillPacketLengthCache } from './packet-length-cache.js';
import type { StatusPayload } from './payloads.js';
import { retainedSnapshot, type RetainedSnapshot } from './retained-snapshot.js';
import { inboundMessage, Subscriptions, validFilter, type MessageHandler } from './subscriptions.js';

export type { InboundMessage, MessageHandler } from './subscriptions.js';
export type { LinkCounters, LinkState, MqttLinkOptions } from './link-types.js';

/**
 * The MQTT side of store-and-forward: drains the outbox with up to `inflightWindow` QoS 1 publishes
 * in flight and deletes a row only on its PUBACK. The outbox is the only queue: nothing is handed to
 * mqtt.js while disconnected, and every connection is a fresh client (clean session), so rows that
 * were in flight when a connection dropped are simply re-sent, in order, from the outbox. Which rows go
 * next (backlog at a rate, live at once, order per key) is the DrainPlan's choice; connecting and
 * reconnecting are the BrokerConnection's, rows too large for the broker the OversizeRefusals'.
 */
export class MqttLink {
  /** Its state for observers and the log (link-state-log.ts). */
  private readonly states: LinkStateLog;
  readonly state$: Observable<LinkState>;
  private readonly clientId: string;
  private readonly plan: DrainPlan;
  private readonly subs = new Subscriptions();
  private readonly conn: BrokerConnection;
  private readonly inflight: InflightRows;
  private readonly oversize: OversizeRefusals;
  private statusInflight = false;
  private window = 1;
  private pumping = false;
  private wakeScheduled = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  /** Set while stopping: called when the last row in flight is acknowledged. */
  private onDrained: (() => void) | undefined;
  private connects = 0;

  constructor(private readonly opts: MqttLinkOptions) {
    // Before anything is sent: packet lengths cached later would each pin a Buffer pool block for good.
    fillPacketLengthCache();
    this.clientId = opts.cfg.clientId ?? `vigil-${randomUUID().slice(0, 8)}`;
    this.states = new LinkStateLog(opts.log, opts.cfg.url);
    this.state$ = this.states.state$;
    this.inflight = new InflightRows(
      opts.outbox,
      opts.log,
      (err) => this.states.error(err),
      (outcome) => {
        if (this.inflight.size === 0) this.onDrained?.();
        if (outcome === 'acked' && this.oversize.acked())
          this.opts.log.info('acks flow again: back to the full window', { window: this.window });
        this.notify();
      },
    );
    this.oversize = new OversizeRefusals(opts.cfg, this.inflight, (err) => this.states.error(err));
    this.plan = new DrainPlan(opts.outbox, opts.drainRatePerS ?? opts.outbox.config.drainRatePerS);
    const { cfg, log, reconnect, statusTopic } = opts;
    const will = () => ({ topic: statusTopic, payload: this.statusPayload('offline') });
    this.conn = new BrokerConnection(
      { cfg, clientId: this.clientId, log, will, reconnect },
      {
        connecting: () => this.states.set('connecting'),
        connected: (client, connack) => this.onConnect(client, connack),
        error: (client, err) => this.onError(client, err),
        problem: (err) => this.states.error(err),
        message: (packet) => this.onMessage(packet),
        closed: (established, timedOut) => this.onClose(established, timedOut),
        disconnected: () => this.states.set('disconnected'),
      },
    );
  }

  get state(): LinkState {
    return this.states.state;
  }

  counters(): LinkCounters {
    const { published, acked, rejected, expired, last, avg } = this.inflight.stats;
    const connects = this.connects;
    const protocol = this.conn.protocol === 5 ? '5' : '3.1.1';
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
    this.conn.connect();
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
   * What the broker holds retained under `filters` now (retained-snapshot.ts); undefined while
   * disconnected or when it cannot be known.
   */
  async retained(filters: string[], timeoutMs = 10_000): Promise<RetainedSnapshot | undefined> {
    const client = this.client;
    if (!client?.connected || !filters.every(validFilter)) return undefined;
    const own = (f: string) => this.subs.filters().includes(f);
    return retainedSnapshot(client, filters, this.opts.statusTopic, timeoutMs, own);
  }

  /**
   * Publishes the retained `offline` status and disconnects cleanly (so the broker drops the last
   * will), within `timeoutMs` even when the broker is gone. Unacknowledged rows stay in the outbox.
   */
  stop(timeoutMs = 1000): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  /** The current client (the last one once stopped); tests reach it to kill its socket. */
  private get client(): MqttClient | undefined {
    return this.conn.client;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // A little is kept back for the forced close and the bookkeeping after the last wait.
    // Monotonic: a wall-clock step while stopping must neither cut the wait short nor stretch it.
    const deadline = performance.now() + Math.max(0, timeoutMs - 25);
    // Waits for p, but never past `at`; clears its timer so the process can exit right after.
    const until = async (p: Promise<unknown>, at: number) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        p,
        new Promise((r) => (timer = setTimeout(r, Math.max(0, at - performance.now())))),
      ]);
      clearTimeout(timer);
    };
    clearInterval(this.pollTimer);
    this.conn.stop();
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
      await until(Promise.all([offline, drained]), performance.now() + timeoutMs / 2);
    }
    this.conn.detach(); // from here on, callbacks are ignored and the rows stay for the next start
    this.inflight.clear();
    if (client) {
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      const ended = new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()));
      await until(ended, deadline);
      if (!client.disconnected) client.stream?.destroy();
    }
    this.states.set('stopped');
    this.states.complete();
  }

  private onError(client: MqttClient, err: Error): void {
    if (client.connected && err.message === invalidPubackError)
      return this.oversize.invalidPuback(client, this.conn.guard(), () => this.statusInflight);
    this.states.error(err);
  }

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.connects++;
    const props = connack.properties ?? {};
    // Never more in flight than the broker's Receive Maximum (the status publish included).
    this.window = Math.max(1, Math.min(this.opts.cfg.inflightWindow, (props.receiveMaximum ?? 65535) - 1));
    this.oversize.connected(props);
    this.plan.reset();
    const protocol = this.counters().protocol;
    this.states.connected({ clientId: this.clientId, window: this.window, protocol });
    this.statusInflight = true;
    const current = this.conn.guard();
    client.publish(this.opts.statusTopic, this.statusPayload('online'), this.statusOptions(), () => {
      if (!current()) return;
      this.statusInflight = false;
      this.pump();
    });
    const filters = this.subs.filters();
    if (filters.length) this.sendSubscribe(client, filters);
    this.pump();
  }

  private sendSubscribe(client: MqttClient, filters: string[]): void {
    const current = this.conn.guard();
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (!err || !current()) return;
      this.opts.log.error('subscription refused', { filters, reason: err.message });
      this.states.error(new Error(`subscription to ${filters.join(', ')} refused: ${err.message}`));
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

  /** The connection is gone: the rows in flight are re-sent on the next one. */
  private onClose(established: boolean, timedOut: boolean): void {
    const unacked = this.inflight.rows();
    this.inflight.clear();
    this.statusInflight = false;
    clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    if (this.stopping) return;
    if (established) this.states.lost(unacked.length);
    this.oversize.closed(unacked, established, timedOut, this.conn.protocol);
  }

  private pump(): void {
    const client = this.client;
    if (this.pumping || this.stopping || !client?.connected || this.state.state !== 'connected') return;
    this.pumping = true;
    try {
      for (;;) {
        const window = this.oversize.window(this.window);
        const room = window - this.inflight.size - (this.statusInflight ? 1 : 0);
        const rows = this.plan.take(room, this.inflight.ids());
        if (rows.length === 0) break;
        const current = this.conn.guard();
        for (const row of rows) this.oversize.publish(client, row, current);
      }
      this.scheduleRateWake();
    } catch (err) {
      this.opts.log.error('outbox read failed', { reason: (err as Error).message });
    } finally {
      this.pumping = false;
    }
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

  private statusOptions() {
    return { qos: 1 as const, retain: true, ...(this.conn.protocol === 5 && { properties: json }) };
  }

  private statusPayload(state: StatusPayload['state']): Buffer {
    const { version, box } = this.opts;
    const status: StatusPayload = { state, ts: Date.now(), version, ...(box !== undefined && { box }) };
    return Buffer.from(JSON.stringify(status));
  }
}
