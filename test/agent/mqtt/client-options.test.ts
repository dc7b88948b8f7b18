import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MqttConfig } from '../../../config/schema.js';
import {
  clientOptions,
  inboundMaxBytes,
  jsonProperties,
  rowProperties,
} from '../../../agent/mqtt/client-options.js';
import type { OutboxRow } from '../../../agent/outbox/outbox.js';
import { collect, startMosquitto, type Mosquitto } from '../../support/mosquitto.js';

// Options built from the config, checked as the broker sees them: a real mosquitto with a password file.
let dir: string;
let broker: Mosquitto;
const will = { topic: 'vigil/s/d/status', payload: Buffer.from('{"state":"offline"}') };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => `co-${Math.random().toString(16).slice(2, 10)}`;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-client-options-'));
  broker = await startMosquitto({ dir: path.join(dir, 'broker'), users: { box: 's3cret' } });
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cfg = (extra: Record<string, unknown> = {}) =>
  MqttConfig.parse({ url: broker.url, username: 'box', password: 's3cret', ...extra });

/** Connects with the options as built; resolves with the client or rejects with the broker's refusal. */
function connect(opts: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, opts);
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => reject(err));
  });
}

/** The broker's own log line for a client: "(p5, c1, k30, u'box')" = protocol, clean start, keepalive, user. */
function connectLine(clientId: string): Promise<string> {
  return vi.waitFor(
    () => {
      const line = broker
        .log()
        .split('\n')
        .find((l) => l.includes(`New client connected`) && l.includes(` as ${clientId} `));
      if (!line) throw new Error(`no connect line for ${clientId}:\n${broker.log()}`);
      return line;
    },
    { timeout: 20_000, interval: 20 },
  );
}

describe('clientOptions from the config', () => {
  it('what mqtt.js is told: no reconnects, no queueing, clean session, keepalive from config', () => {
    const o = clientOptions(cfg({ keepaliveS: 7 }), 'id-1', will);
    expect(o).toMatchObject({
      clientId: 'id-1',
      username: 'box',
      password: 's3cret',
      keepalive: 7,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      connectTimeout: 10_000,
      will: { ...will, qos: 1, retain: true, properties: jsonProperties },
      properties: { maximumPacketSize: inboundMaxBytes },
    });
    expect(inboundMaxBytes).toBe(256 * 1024);
    expect(o).not.toHaveProperty('ca');
    expect(o).not.toHaveProperty('rejectUnauthorized');
  });

  it('MQTT 3.1.1 (level 4): no properties anywhere, in the will either', () => {
    const o = clientOptions(cfg(), 'id-2', will, 4);
    expect(o.protocolVersion).toBe(4);
    expect(o).not.toHaveProperty('properties');
    expect(o.will).toEqual({ ...will, qos: 1, retain: true });
  });

  it('the default keepalive is 30 s and no credentials when none are configured', () => {
    const o = clientOptions(MqttConfig.parse({ url: 'mqtt://127.0.0.1:1' }), 'id', will);
    expect(o.keepalive).toBe(30);
    expect(o.username).toBeUndefined();
    expect(o.password).toBeUndefined();
  });

  it('TLS files are read on every call (a renewed certificate is picked up), a missing one throws', () => {
    const tdir = mkdtempSync(path.join(dir, 'tls-'));
    const f = (n: string) => path.join(tdir, n);
    // Contents as PEM looks: the files are checked for that, not parsed.
    const pem = (label: string, body: string) =>
      `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
    writeFileSync(f('ca.crt'), pem('CERTIFICATE', 'CA-1'));
    writeFileSync(f('c.crt'), pem('CERTIFICATE', 'CERT-1'));
    writeFileSync(f('c.key'), pem('EC PRIVATE KEY', 'KEY-1'));
    const tls = { ca: f('ca.crt'), cert: f('c.crt'), key: f('c.key'), rejectUnauthorized: false };
    const c = cfg({ url: 'mqtts://127.0.0.1:8883', tls });
    const first = clientOptions(c, 'id', will);
    expect(first.ca).toEqual(Buffer.from(pem('CERTIFICATE', 'CA-1')));
    expect(first.cert).toEqual(Buffer.from(pem('CERTIFICATE', 'CERT-1')));
    expect(first.key).toEqual(Buffer.from(pem('EC PRIVATE KEY', 'KEY-1')));
    expect(first.rejectUnauthorized).toBe(false);
    writeFileSync(f('c.crt'), pem('CERTIFICATE', 'CERT-2'));
    expect(clientOptions(c, 'id', will).cert).toEqual(Buffer.from(pem('CERTIFICATE', 'CERT-2')));
    // Only a CA: the others stay unset; rejectUnauthorized defaults to true.
    const caOnly = clientOptions(
      cfg({ url: 'mqtts://127.0.0.1:8883', tls: { ca: f('ca.crt') } }),
      'id',
      will,
    );
    expect(caOnly.ca).toEqual(Buffer.from(pem('CERTIFICATE', 'CA-1')));
    expect(caOnly.cert).toBeUndefined();
    expect(caOnly.key).toBeUndefined();
    expect(caOnly.rejectUnauthorized).toBe(true);
    // A file that is no PEM (OpenSSL would say "no start line", and skip a CA file without a word).
    writeFileSync(f('c.crt'), 'garbage');
    expect(() => clientOptions(c, 'id', will)).toThrow(
      `mqtt.tls.cert: ${f('c.crt')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    writeFileSync(f('c.crt'), pem('CERTIFICATE', 'CERT-2'));
    writeFileSync(f('c.key'), pem('CERTIFICATE', 'not a key'));
    expect(() => clientOptions(c, 'id', will)).toThrow(
      `mqtt.tls.key: ${f('c.key')} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
    rmSync(f('c.key'));
    expect(() => clientOptions(c, 'id', will)).toThrow(
      `mqtt.tls.key: cannot read ${f('c.key')}: no such file`,
    );
  });
});

describe('clientOptions against a real mosquitto', () => {
  it('the broker sees MQTT 5, clean start, the configured keepalive and user', async () => {
    const id = uid();
    await connect(clientOptions(cfg({ keepaliveS: 7 }), id, will));
    expect(await connectLine(id)).toContain("(p5, c1, k7, u'box')");
    const id4 = uid();
    await connect(clientOptions(cfg({ keepaliveS: 11 }), id4, will, 4));
    // mosquitto numbers its protocols itself: p2 is MQTT 3.1.1.
    expect(await connectLine(id4)).toContain("(p2, c1, k11, u'box')");
  });

  it('wrong credentials are refused by the broker', async () => {
    await expect(connect(clientOptions(cfg({ password: 'wrong' }), uid(), will))).rejects.toThrow(
      /Not authorized|Bad User Name or Password/i,
    );
    await expect(
      connect(clientOptions(cfg({ username: undefined, password: undefined }), uid(), will)),
    ).rejects.toThrow();
  });

  it('does not reconnect by itself after the broker drops it (the link does that, with backoff)', async () => {
    const id = uid();
    const client = await connect(clientOptions(cfg(), id, will));
    let reconnects = 0;
    client.on('reconnect', () => reconnects++);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    // A second connection with the same client id takes the session over: the broker drops the first.
    await connect(clientOptions(cfg(), id, will));
    await closed;
    await sleep(1500);
    expect(reconnects).toBe(0);
    expect(client.connected).toBe(false);
  });

  it('an unclean death publishes the will: retained, QoS 1, JSON properties on MQTT 5 only', async () => {
    const sub = await collect(broker.url, 'vigil/will/#', {
      extra: { username: 'box', password: 's3cret' },
    });
    try {
      for (const [level, topic] of [
        [5, 'vigil/will/v5'],
        [4, 'vigil/will/v4'],
      ] as const) {
        const client = await connect(clientOptions(cfg(), uid(), { ...will, topic }, level));
        client.stream.destroy(); // no DISCONNECT: the broker sends the will
        await sub.waitFor((m) => m.some((x) => x.topic === topic));
      }
      const got = (topic: string) => sub.messages.find((m) => m.topic === topic)!;
      // A live subscriber gets it with retain false (MQTT), so check retention with a new one.
      const late = await collect(broker.url, 'vigil/will/#', {
        extra: { username: 'box', password: 's3cret' },
      });
      try {
        await late.waitFor((m) => m.length === 2);
        expect(late.messages.every((m) => m.retain && m.payload.equals(will.payload))).toBe(true);
      } finally {
        await late.close();
      }
      expect(got('vigil/will/v5').qos).toBe(1);
      expect(got('vigil/will/v5').contentType).toBe('application/json');
      expect(got('vigil/will/v4').contentType).toBeUndefined();
    } finally {
      await sub.close();
    }
  });

  it('announces the maximum packet size: the broker drops a larger message for us, not a smaller one', async () => {
    const client = await connect(clientOptions(cfg(), uid(), will));
    const got: number[] = [];
    client.on('message', (_t, payload) => got.push(payload.length));
    await client.subscribeAsync('vigil/big', { qos: 1 });
    const sender = await connect({
      username: 'box',
      password: 's3cret',
      protocolVersion: 5,
      clientId: uid(),
    });
    await sender.publishAsync('vigil/big', Buffer.alloc(inboundMaxBytes + 1024), { qos: 1 });
    await sender.publishAsync('vigil/big', Buffer.alloc(inboundMaxBytes - 1024), { qos: 1 });
    await sender.publishAsync('vigil/big', Buffer.alloc(10), { qos: 1 });
    // In order: once the last one is in, the two before have come or been dropped.
    await vi.waitFor(() => expect(got).toContain(10), 20_000);
    expect(got).toEqual([inboundMaxBytes - 1024, 10]);
  });
});

describe('rowProperties', () => {
  const row = (over: Partial<OutboxRow> = {}): OutboxRow =>
    ({
      rowid: 1,
      id: 'x',
      topic: 't',
      payload: Buffer.from('{}'),
      retain: false,
      priority: 1,
      stream: null,
      seq: null,
      createdAt: 0,
      bytes: 0,
      expiresAt: null,
      key: 't',
      ...over,
    }) as OutboxRow;

  it('no content type for an empty payload (a retained message cleared): it is no JSON', () => {
    expect(rowProperties(row({ payload: Buffer.alloc(0), retain: true }), 0)).toEqual({});
  });

  it('JSON content type and payload format, nothing else for a plain row', () => {
    expect(rowProperties(row(), 0)).toEqual({
      contentType: 'application/json',
      payloadFormatIndicator: true,
    });
  });

  it('the expiry left, in whole seconds rounded up, at least 1', () => {
    const expiry = (expiresAt: number, now: number) =>
      rowProperties(row({ expiresAt }), now)?.messageExpiryInterval;
    expect(expiry(10_000, 0)).toBe(10);
    expect(expiry(10_001, 0)).toBe(11);
    expect(expiry(1000, 999)).toBe(1);
    expect(expiry(1000, 5000)).toBe(1);
  });

  it('correlation data and user properties the row carries, without touching the shared defaults', () => {
    const p = rowProperties(
      row({ properties: { correlationData: Buffer.from('c'), userProperties: { a: 'b' } } }),
      0,
    );
    expect(p).toEqual({
      contentType: 'application/json',
      payloadFormatIndicator: true,
      correlationData: Buffer.from('c'),
      userProperties: { a: 'b' },
    });
    expect(jsonProperties).toEqual({ contentType: 'application/json', payloadFormatIndicator: true });
  });
});
