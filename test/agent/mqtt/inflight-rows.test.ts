import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../config/logger.js';
import { OutboxConfig } from '../../../config/schema.js';
import { rowProperties } from '../../../agent/mqtt/client-options.js';
import { InflightRows } from '../../../agent/mqtt/inflight-rows.js';
import { publishPacketBytes } from '../../../agent/mqtt/publish-packet-size.js';
import { Outbox, type OutboxMessage, type OutboxRow } from '../../../agent/outbox/outbox.js';
import { collect, startMosquitto, type Collector, type Mosquitto } from '../../support/mosquitto.js';

let dir: string;
let outbox: Outbox;
/** The wall clock (payload timestamps), and the monotonic one that ages and expiries are measured by. */
let clock: number;
let mono: number;
let errors: Error[];
let logged: { msg: string; fields?: Record<string, unknown> }[];
let settled: (() => void)[];
let inflight: InflightRows;
const cleanup: (() => Promise<void> | void)[] = [];

const log: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (msg, fields) => void logged.push({ msg, fields }),
  child: () => log,
};

/** Resolves on the next ack or refusal InflightRows reports. */
const nextSettled = () => new Promise<void>((r) => settled.push(r));

function put(topic: string, extra: Partial<OutboxMessage> = {}): OutboxRow {
  outbox.enqueue({ topic, priority: 1, build: () => ({ topic }), ...extra });
  return outbox.rowsAfter(outbox.lastRowid() - 1, 1)[0]!;
}
const stored = () => outbox.next(100, new Set()).map((r) => r.rowid);

async function broker(extra: string[] = []): Promise<Mosquitto> {
  const brokerDir = path.join(dir, 'broker');
  mkdirSync(brokerDir, { recursive: true });
  const acl = path.join(brokerDir, 'acl');
  // Everything but vigil/forbidden: the broker refuses that one with PUBACK 0x87.
  writeFileSync(acl, 'topic read #\ntopic readwrite vigil/ok/#\n');
  const b = await startMosquitto({ dir: brokerDir, config: [`acl_file ${acl}`, ...extra] });
  cleanup.push(() => b.stop());
  return b;
}

/** A connection as the link makes it: MQTT 5, clean, no reconnect of its own. */
async function connect(b: Mosquitto): Promise<MqttClient> {
  return (await connectWithAck(b)).client;
}

async function connectWithAck(b: Mosquitto): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(b.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  cleanup.push(() => new Promise<void>((r) => client.end(true, {}, () => r())));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack };
}

async function subscriber(b: Mosquitto): Promise<Collector> {
  const c = await collect(b.url, 'vigil/#');
  cleanup.push(() => c.close());
  return c;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-inflight-'));
  clock = Date.now();
  mono = 0;
  outbox = Outbox.open(path.join(dir, 'outbox.db'), OutboxConfig.parse({ synchronous: 'OFF' }), {
    now: () => clock,
    monotonic: () => mono,
  });
  errors = [];
  logged = [];
  settled = [];
  inflight = new InflightRows(
    outbox,
    log,
    (err) => errors.push(err),
    () => settled.shift()?.(),
  );
});

afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanup.splice(0).reverse()) await fn();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('InflightRows', () => {
  it('keeps a row in flight until its PUBACK, then deletes it from the outbox', async () => {
    const b = await broker();
    const sub = await subscriber(b);
    const client = await connect(b);
    const row = put('vigil/ok/a');
    const done = nextSettled();
    inflight.publish(client, row, Infinity, () => true);
    expect(inflight.size).toBe(1);
    expect(inflight.ids()).toEqual(new Set([row.rowid]));
    expect(stored()).toEqual([row.rowid]);
    await done;
    expect(inflight.size).toBe(0);
    expect(stored()).toEqual([]);
    expect(inflight.stats).toMatchObject({ published: 1, acked: 1, rejected: 0, expired: 0 });
    await sub.waitFor((m) => m.length === 1);
    expect(sub.messages[0]).toMatchObject({ topic: 'vigil/ok/a', qos: 1, contentType: 'application/json' });
    expect(JSON.parse(sub.messages[0]!.payload.toString())).toEqual({ topic: 'vigil/ok/a' });
    expect(errors).toEqual([]);
  });

  it('keeps the last ack latency and a moving average over about twenty', async () => {
    const client = await connect(await broker());
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const latency = async (ms: number) => {
      const done = nextSettled();
      inflight.publish(client, put('vigil/ok/l'), Infinity, () => true);
      // The PUBACK cannot arrive before these synchronous lines: the ack sees `ms` gone by, and the wall
      // clock stepped back an hour, which a latency must not see.
      vi.advanceTimersByTime(ms);
      vi.setSystemTime(Date.now() - 3_600_000);
      await done;
    };
    await latency(40);
    expect(inflight.stats).toMatchObject({ acked: 1, last: 40, avg: 40 });
    await latency(240);
    expect(inflight.stats).toMatchObject({ acked: 2, last: 240, avg: 50 });
  });

  it('drops a row whose expiry has come instead of sending it late', async () => {
    const b = await broker();
    const sub = await subscriber(b);
    const client = await connect(b);
    const late = put('vigil/ok/late', { expiryS: 1, priority: 2 });
    mono += 1;
    const due = put('vigil/ok/due', { expiryS: 1 });
    clock += 365 * 86_400_000; // NTP steps the wall clock a year ahead: expiry is elapsed time
    mono = 1000; // exactly at the first one's expiresAt: already worthless
    inflight.publish(client, late, Infinity, () => true);
    expect(inflight.size).toBe(0);
    expect(inflight.stats).toMatchObject({ published: 0, expired: 1 });
    expect(outbox.dropDetail()).toEqual([{ reason: 'expired', priority: 2, count: 1 }]);

    // The second one, a millisecond before its own: still sent.
    const done = nextSettled();
    inflight.publish(client, due, Infinity, () => true);
    await done;
    await sub.waitFor((m) => m.length === 1);
    // Published in order from one client: had the expired row gone out, it would have arrived first.
    expect(sub.messages.map((m) => m.topic)).toEqual(['vigil/ok/due']);
    expect(stored()).toEqual([]);
  });

  it("measures a packet as the broker does, properties included: at the broker's limit it goes, a byte over is refused unsent", async () => {
    const b = await broker(['max_packet_size 600']);
    const { client, connack } = await connectWithAck(b);
    const limit = connack.properties?.maximumPacketSize ?? Infinity;
    expect(limit).toBe(600);
    const closed = vi.fn();
    client.on('close', closed);
    // What a command response carries: correlation data, user properties (non-ASCII: bytes, not characters)
    // and an expiry, on a non-ASCII topic.
    const row = (padding: number) =>
      put('vigil/ok/réponse', {
        priority: 2,
        expiryS: 60,
        properties: { correlationData: Buffer.alloc(120, 7), userProperties: { requester: 'opérateur' } },
        build: () => ({ pad: 'x'.repeat(padding) }),
      });
    const probe = row(0);
    outbox.drop(probe.rowid, 'expired');
    const size = (r: OutboxRow) =>
      publishPacketBytes(r.topic, r.payload.length, rowProperties(r, Date.now()), 5);
    const atLimit = limit - size(probe);

    const over = row(atLimit + 1);
    inflight.publish(client, over, limit, () => true);
    expect(inflight.stats).toMatchObject({ published: 0, rejected: 1 });
    expect(errors.map((e) => e.message)).toEqual([
      "a 601-byte packet exceeds the broker's maximum packet size (600 bytes)",
    ]);
    expect(outbox.dropDetail()).toContainEqual({ reason: 'rejected', priority: 2, count: 1 });

    // Exactly at the limit: the broker takes it (had the size been under-counted, it would close the
    // connection instead of acknowledging).
    const fits = row(atLimit);
    expect(size(fits)).toBe(600);
    const done = nextSettled();
    inflight.publish(client, fits, limit, () => true);
    await done;
    expect(inflight.stats).toMatchObject({ published: 1, acked: 1, rejected: 1 });
    expect(stored()).toEqual([]);
    expect(closed).not.toHaveBeenCalled();
  });

  it('lists the rows in flight in send order, and drops one the link found refused once it is no longer in flight', async () => {
    const b = await broker();
    const client = await connect(b);
    process.kill(b.pid!, 'SIGSTOP'); // no PUBACK: the rows stay in flight
    cleanup.push(() => void process.kill(b.pid!, 'SIGCONT'));
    const [first, second] = [put('vigil/ok/1'), put('vigil/ok/2')];
    inflight.publish(client, first, Infinity, () => true);
    inflight.publish(client, second, Infinity, () => true);
    expect(inflight.rows().map((r) => r.rowid)).toEqual([first.rowid, second.rowid]);
    inflight.clear(); // the connection closed
    inflight.refuse(first, new Error('closed on it'));
    expect(stored()).toEqual([second.rowid]);
    expect(inflight.stats).toMatchObject({ rejected: 1, acked: 0 });
    expect(errors.map((e) => e.message)).toEqual(['closed on it']);
    expect(outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 1, count: 1 }]);
  });

  it('names the limit a packet exceeds when the link says where it comes from', async () => {
    const client = await connect(await broker());
    inflight.publish(
      client,
      put('vigil/ok/a', { build: () => ({ pad: 'x'.repeat(3000) }) }),
      2000,
      () => true,
      'mqtt.maxPacketBytes',
    );
    expect(errors[0]!.message).toMatch(/^a \d+-byte packet exceeds mqtt\.maxPacketBytes \(2000 bytes\)$/);
    expect(inflight.stats).toMatchObject({ published: 0, rejected: 1 });
  });

  it('drops a row the broker refuses (PUBACK >= 0x80) and reports the error', async () => {
    const client = await connect(await broker());
    const row = put('vigil/forbidden', { priority: 2 });
    const done = nextSettled();
    inflight.publish(client, row, Infinity, () => true);
    await done;
    expect(inflight.size).toBe(0);
    expect(inflight.stats).toMatchObject({ published: 1, acked: 0, rejected: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/not authorized/i);
    expect(stored()).toEqual([]);
    expect(outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 2, count: 1 }]);
  });

  it('ignores the PUBACK of a connection that is no longer current: the row is sent again later', async () => {
    const client = await connect(await broker());
    const row = put('vigil/ok/a');
    let current = true;
    const asked = new Promise<void>((resolve) =>
      inflight.publish(client, row, Infinity, () => {
        resolve();
        return current;
      }),
    );
    current = false; // the link moved on to a new connection before the PUBACK came
    await asked;
    expect(inflight.size).toBe(1);
    expect(inflight.stats.acked).toBe(0);
    expect(stored()).toEqual([row.rowid]);
    inflight.clear();
    expect(inflight.size).toBe(0);
    expect(stored()).toEqual([row.rowid]);
  });

  it('keeps a row in flight when the publish fails without a refusal (connection closing)', async () => {
    const client = await connect(await broker());
    const row = put('vigil/ok/a');
    let asked = 0;
    inflight.publish(client, row, Infinity, () => {
      asked++;
      return true;
    });
    // A forced end fails the pending publish with "Connection closed" before any PUBACK can come.
    await new Promise<void>((r) => client.end(true, {}, () => r()));
    expect(asked).toBe(1);
    expect(inflight.ids()).toEqual(new Set([row.rowid]));
    expect(inflight.stats).toMatchObject({ acked: 0, rejected: 0 });
    expect(errors).toEqual([]);
    expect(stored()).toEqual([row.rowid]);
  });

  it('logs, and does not throw, when the outbox cannot record the ack or the drop', async () => {
    const client = await connect(await broker());
    const acked = put('vigil/ok/a');
    const big = put('vigil/ok/b');
    const done = nextSettled();
    inflight.publish(client, acked, Infinity, () => true);
    outbox.close(); // e.g. the agent is shutting down
    await done;
    expect(inflight.stats.acked).toBe(1);
    expect(() => inflight.publish(client, big, 1, () => true)).not.toThrow();
    expect(logged.map((l) => l.msg)).toEqual([
      'outbox ack failed',
      'broker refused a message, dropped',
      'outbox drop failed',
    ]);
  });
});
