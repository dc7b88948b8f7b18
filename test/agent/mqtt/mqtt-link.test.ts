import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LinkState, MqttLink } from '../../../agent/mqtt/mqtt-link.js';
import { DetectionsPayload, StatusPayload } from '../../../agent/mqtt/payloads.js';
import type { Received } from '../../support/mosquitto.js';
import { freePort } from '../../support/free-port.js';
import { logLines } from '../../support/log-lines.js';
import { useLinkFixture } from '../../support/link-fixture.js';

const fx = useLinkFixture('link');
const { t, broker, subscriber, link, until, drained } = fx;

function enqueueDetection(camera: string, n: number): void {
  fx.outbox.enqueue({
    topic: t.camera(camera).detections,
    stream: `detections/${camera}`,
    priority: 0,
    build: ({ id, seq, ts }) => ({
      id,
      camera,
      ts,
      pts: n / 10,
      seq: seq ?? 0,
      model: 'yolo',
      provider: 'cpu',
      inferenceMs: 4.2,
      frame: { width: 640, height: 480 },
      detections: [{ label: 'person', classId: 0, score: 0.9, box: { x1: n, y1: 2, x2: 30, y2: 40 } }],
    }),
  });
}

/** Detections per camera, deduplicated by id as a subscriber must (delivery is at-least-once). */
function seqsByCamera(messages: Received[]): Record<string, number[]> {
  const seen = new Set<string>();
  const out: Record<string, number[]> = {};
  for (const m of messages) {
    const d = DetectionsPayload.parse(JSON.parse(m.payload.toString()));
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    (out[d.camera] ??= []).push(d.seq);
  }
  return out;
}

/** Kills the socket under mqtt.js, as a crash or a pulled cable would: no DISCONNECT is sent. */
const killSocket = (l: MqttLink) =>
  (l as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();

const status = (m: Received) => StatusPayload.parse(JSON.parse(m.payload.toString()));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('MqttLink', () => {
  it('publishes the outbox in order with QoS 1 and JSON content type, deleting rows on PUBACK', async () => {
    const b = await broker();
    const sub = await subscriber(b.url, 'vigil/#');
    const l = link(b.url);
    for (let n = 1; n <= 60; n++) {
      enqueueDetection(n % 2 ? 'cam1' : 'cam2', n);
      if (n % 7 === 0) l.notify();
    }
    l.notify();
    await sub.waitFor((m) => m.filter((x) => x.topic.endsWith('/detections')).length >= 60);
    const detections = sub.messages.filter((m) => m.topic.endsWith('/detections'));
    expect(seqsByCamera(detections)).toEqual({ cam1: range(1, 30), cam2: range(1, 30) });
    expect(detections.every((m) => m.qos === 1 && m.contentType === 'application/json')).toBe(true);
    expect(detections[0]!.topic).toBe('vigil/s/d/cameras/cam1/detections');
    const online = sub.messages.find((m) => m.topic === t.status)!;
    expect(status(online)).toMatchObject({ state: 'online', version: '9.9.9' });
    await drained();
    expect(l.counters()).toMatchObject({ published: 60, acked: 60, rejected: 0, connects: 1, inflight: 0 });
    expect(l.state).toMatchObject({ state: 'connected' });
  });

  it('buffers while the broker is down and delivers everything after it returns', async () => {
    const b = await broker({ persistence: true, dir: path.join(fx.dir, 'broker') });
    // A persistent session: what is published while this subscriber reconnects waits for it.
    const sub = await subscriber(b.url, 'vigil/s/d/cameras/+/detections', {
      clientId: 'vigil-test-sub',
      clean: false,
    });
    const l = link(b.url);
    for (let n = 1; n <= 5; n++) enqueueDetection('cam1', n);
    l.notify();
    await sub.waitFor((m) => m.length >= 5);

    await b.stop();
    await until(l, (s) => s.state === 'disconnected');
    const publishedBefore = l.counters().published;
    for (let n = 6; n <= 25; n++) enqueueDetection(n % 2 ? 'cam1' : 'cam2', n);
    l.notify();
    await new Promise((r) => setImmediate(r));
    expect(l.counters().published).toBe(publishedBefore); // nothing handed to mqtt.js while down
    expect(fx.outbox.depth().rows).toBe(20);

    await b.start();
    await sub.waitFor((m) => {
      const seqs = seqsByCamera(m);
      return seqs.cam1?.length === 15 && seqs.cam2?.length === 10;
    });
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: range(1, 15), cam2: range(1, 10) });
    await drained();
    expect(l.counters().connects).toBe(2);
  });

  it('re-sends, in order, the rows that were in flight when the connection dropped', async () => {
    const b = await broker();
    const sub = await subscriber(b.url, 'vigil/s/d/cameras/+/detections');
    const l = link(b.url);
    await until(l, (s) => s.state === 'connected');
    for (let n = 1; n <= 100; n++) enqueueDetection('cam1', n);
    l.notify();
    await new Promise((r) => setImmediate(r)); // after the drain notify() scheduled, before any PUBACK is read
    const inFlight = l.counters().inflight;
    expect(inFlight).toBeGreaterThan(0);
    killSocket(l);
    await sub.waitFor((m) => seqsByCamera(m).cam1?.length === 100);
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: range(1, 100) });
    await drained();
    expect(l.counters()).toMatchObject({ published: 100 + inFlight, acked: 100, connects: 2 });
  });

  it('runs without a broker, reports the error, keeps the rows and still stops promptly', async () => {
    const port = await freePort(); // nothing listens here
    const l = link(`mqtt://127.0.0.1:${port}`);
    enqueueDetection('cam1', 1);
    l.notify();
    const down = await until(l, (s) => s.state === 'disconnected' && !!s.lastError);
    expect(down.lastError!.message).toMatch(/ECONNREFUSED/);
    await l.stop();
    expect(l.state.state).toBe('stopped');
    expect(fx.outbox.depth().rows).toBe(1);
  });

  it('dates a broker outage from when the link went down, not from its latest retry', async () => {
    const b = await broker();
    const l = link(b.url);
    const seen: LinkState[] = [];
    const sub = l.state$.subscribe((s) => seen.push(s));
    try {
      const up = await until(l, (s) => s.state === 'connected');
      await b.stop();
      const down = await until(l, (s) => s.state === 'disconnected');
      expect(down.since).toBeGreaterThanOrEqual(up.since);
      // Retries every 50–200 ms: several connecting → disconnected rounds, each still dated from the drop.
      await until(
        l,
        () => seen.filter((s) => s.state === 'connecting' && s.since === down.since).length >= 3,
      );
      const during = seen.slice(seen.indexOf(down));
      expect(during.every((s) => s.state !== 'connected' && s.since === down.since)).toBe(true);
      await b.start();
      const back = await until(l, (s) => s.state === 'connected');
      expect(back.since).toBeGreaterThan(down.since);
    } finally {
      sub.unsubscribe();
    }
  });

  it('retains online while connected and offline after a clean stop', async () => {
    const b = await broker();
    const l = link(b.url);
    await until(l, (s) => s.state === 'connected');
    const first = await subscriber(b.url, t.status);
    await first.waitFor((m) => m.some((x) => x.retain && status(x).state === 'online'));

    const stoppedAt = Date.now();
    await l.stop();
    const after = await subscriber(b.url, t.status);
    await after.waitFor((m) => m.length > 0);
    expect(after.messages[0]!.retain).toBe(true);
    // The explicit offline, not the will (whose ts is the connect time).
    expect(status(after.messages[0]!)).toMatchObject({ state: 'offline', version: '9.9.9' });
    expect(status(after.messages[0]!).ts).toBeGreaterThanOrEqual(stoppedAt);
  });

  it('leaves a retained offline last will when the connection dies uncleanly', async () => {
    const b = await broker();
    const watcher = await subscriber(b.url, t.status);
    const l = link(b.url, {}, { reconnect: { minMs: 60_000, maxMs: 60_000 } }); // stays down after the kill
    await watcher.waitFor((m) => m.some((x) => status(x).state === 'online'));
    killSocket(l);
    await watcher.waitFor((m) => m.some((x) => status(x).state === 'offline'));
    const fresh = await subscriber(b.url, t.status);
    await fresh.waitFor((m) => m.length > 0);
    expect(fresh.messages[0]!.retain).toBe(true);
    expect(status(fresh.messages[0]!).state).toBe('offline');
  });

  it('uses username and password, and reports a refused login as an error', async () => {
    const brokerDir = path.join(fx.dir, 'broker');
    mkdirSync(brokerDir);
    execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', `${brokerDir}/passwd`, 'edge', 's3cret']);
    const b = await broker({
      dir: brokerDir,
      allowAnonymous: false,
      config: [`password_file ${brokerDir}/passwd`],
    });

    const refused = link(b.url, { username: 'edge', password: 'wrong' });
    const state = await until(refused, (s) => !!s.lastError);
    expect(state.lastError!.message).toMatch(/not authorized|bad user ?name or password/i);
    await refused.stop();

    const ok = link(b.url, { username: 'edge', password: 's3cret' });
    await until(ok, (s) => s.state === 'connected');
  });

  it('drops a message the broker refuses by ACL, counts it and keeps delivering the rest', async () => {
    const brokerDir = path.join(fx.dir, 'broker');
    const acl = path.join(brokerDir, 'acl');
    mkdirSync(brokerDir);
    writeFileSync(
      acl,
      'topic read #\ntopic readwrite vigil/s/d/status\ntopic readwrite vigil/s/d/cameras/#\n',
    );
    const b = await broker({ dir: brokerDir, config: [`acl_file ${acl}`] });
    const sub = await subscriber(b.url, 'vigil/#');
    const l = link(b.url);
    enqueueDetection('cam1', 1);
    fx.outbox.enqueue({ topic: 'vigil/s/d/forbidden', priority: 2, build: () => ({ x: 1 }) });
    enqueueDetection('cam1', 2);
    l.notify();
    await sub.waitFor((m) => m.filter((x) => x.topic.endsWith('/detections')).length === 2);
    await drained();
    expect(l.counters()).toMatchObject({ rejected: 1, acked: 2 });
    expect(l.state.lastError?.message).toMatch(/not authorized/i);
    expect(fx.outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 2, count: 1 }]);
  });

  it('logs each outage: the lost connection, then the first refused reconnect, again at the next outage', async () => {
    const b = await broker();
    const { log, lines } = logLines();
    const l = link(b.url, {}, { log });
    await until(l, (s) => s.state === 'connected');
    for (const outage of [1, 2]) {
      const at = Date.now();
      await b.stop();
      await until(l, (s) => s.state === 'disconnected' && (s.lastError?.at ?? 0) >= at);
      await b.start();
      await until(l, (s) => s.state === 'connected');
      const msgs = lines.map((r) => r.msg);
      expect(msgs.filter((m) => m === 'connection to the broker lost, reconnecting')).toHaveLength(outage);
      expect(msgs.filter((m) => m === 'mqtt error')).toHaveLength(outage);
    }
    const lost = lines.find((r) => r.msg === 'connection to the broker lost, reconnecting');
    expect(lost).toMatchObject({ level: 'warn', url: b.url, unacked: 0 });
  });
});
