import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { MqttConfig } from '../../../config/schema.js';
import { BrokerConnection, type ConnectionEvents } from '../../../agent/mqtt/broker-connection.js';
import { freePort } from '../../support/free-port.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { mqtt311Front } from '../../support/mqtt311-front.js';

const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function broker(): Promise<Mosquitto> {
  const b = await startMosquitto();
  cleanup.push(() => b.stop());
  return b;
}

/** A connection whose events are written down, in order, as short lines. */
function connection(url: string) {
  const events: string[] = [];
  const waiters: { line: string; count: number; resolve: () => void }[] = [];
  const note = (line: string) => {
    events.push(line);
    for (const w of waiters.filter((w) => events.filter((e) => e === w.line).length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const handlers: ConnectionEvents = {
    connecting: () => note('connecting'),
    connected: (client) => note(`connected ${client.options.protocolVersion}`),
    error: (_client, err) => note(`error ${(err as { code?: unknown }).code ?? err.message}`),
    problem: (err) => note(`problem ${err.message}`),
    message: (packet) => note(`message ${packet.topic}`),
    closed: (established, timedOut) =>
      note(`closed ${established ? 'established' : 'never up'}${timedOut ? ' timed out' : ''}`),
    disconnected: () => note('disconnected'),
  };
  const conn = new BrokerConnection(
    {
      cfg: MqttConfig.parse({ url }),
      clientId: 'broker-connection-test',
      log: silentLogger,
      will: () => ({ topic: 'vigil/test/status', payload: Buffer.from('{"state":"offline"}') }),
      reconnect: { minMs: 20, maxMs: 50 },
    },
    handlers,
  );
  cleanup.push(() => {
    const client = conn.client;
    conn.stop();
    conn.detach();
    return client && new Promise<void>((r) => client.end(true, {}, () => r()));
  });
  /** Resolves once `line` has been noted `count` times in all. */
  const seen = (line: string, count = 1) =>
    new Promise<void>((resolve) => {
      if (events.filter((e) => e === line).length >= count) resolve();
      else waiters.push({ line, count, resolve });
    });
  return { conn, events, seen };
}

/** Kills the socket under mqtt.js, as a pulled cable would: no DISCONNECT is sent. */
const killSocket = (client: MqttClient | undefined) => client!.stream.destroy();

describe('BrokerConnection', () => {
  it('reports a close, reconnects with a fresh client, and turns the old connection’s guards false', async () => {
    const b = await broker();
    const { conn, events, seen } = connection(b.url);
    conn.connect();
    await seen('connected 5');
    const first = conn.client;
    const guard = conn.guard();
    expect(guard()).toBe(true);

    killSocket(first);
    await seen('connected 5', 2);
    expect(events).toEqual([
      'connecting',
      'connected 5',
      'closed established',
      'disconnected',
      'connecting',
      'connected 5',
    ]);
    expect(guard()).toBe(false);
    expect(conn.guard()()).toBe(true);
    expect(conn.client).not.toBe(first);
  });

  it('falls back to MQTT 3.1.1 for good when the broker refuses 5, without passing the refusal on', async () => {
    const b = await broker();
    const front = await mqtt311Front(b.port);
    cleanup.push(() => front.close());
    const { conn, events, seen } = connection(front.url);
    conn.connect();
    await seen('connected 4');
    expect(conn.protocol).toBe(4);
    expect(events).toEqual(['connecting', 'closed never up', 'disconnected', 'connecting', 'connected 4']);

    killSocket(conn.client);
    await seen('connected 4', 2);
    expect(front.refusedV5).toBe(1);
  });

  it('passes on a failed connect and keeps retrying', async () => {
    const port = await freePort();
    const { conn, events, seen } = connection(`mqtt://127.0.0.1:${port}`);
    conn.connect();
    await seen('connecting', 3);
    expect(events.slice(0, 4)).toEqual([
      'connecting',
      'error ECONNREFUSED',
      'closed never up',
      'disconnected',
    ]);
    expect(conn.protocol).toBe(5);
  });

  it('once stopped, reports a close but makes no further attempt', async () => {
    const b = await broker();
    const { conn, events, seen } = connection(b.url);
    conn.connect();
    await seen('connected 5');
    conn.stop();
    killSocket(conn.client);
    await seen('closed established');
    expect(conn.client).toBeUndefined();
    // Past the largest backoff: an attempt would have begun by now.
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual(['connecting', 'connected 5', 'closed established']);
    conn.connect();
    expect(events).toHaveLength(3);
  });

  it('once detached, ignores the current client’s events and keeps it as the last one', async () => {
    const b = await broker();
    const { conn, events, seen } = connection(b.url);
    conn.connect();
    await seen('connected 5');
    const client = conn.client!;
    const guard = conn.guard();
    conn.stop();
    conn.detach();
    expect(guard()).toBe(false);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    killSocket(client);
    await closed;
    expect(events).toEqual(['connecting', 'connected 5']);
    expect(conn.client).toBe(client);
  });
});
