import { describe, expect, it, vi } from 'vitest';
import { DetectionsPayload, StatusPayload } from '../../../agent/mqtt/payloads.js';
import type { Received } from '../../support/mosquitto.js';
import { mqtt311Front } from '../../support/mqtt311-front.js';
import { useLinkFixture } from '../../support/link-fixture.js';

const fx = useLinkFixture('link-faults');
const { t, defer, broker, subscriber, link, until, drained } = fx;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function enqueueDetection(camera: string, n: number, pad = 0): void {
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
      model: 'y'.repeat(pad + 1),
      provider: 'cpu',
      inferenceMs: 4.2,
      frame: { width: 640, height: 480 },
      detections: [{ label: 'person', classId: 0, score: 0.9, box: { x1: n, y1: 2, x2: 30, y2: 40 } }],
    }),
  });
}

function seqsByCamera(messages: Received[]): Record<string, number[]> {
  const seen = new Set<string>();
  const out: Record<string, number[]> = {};
  for (const m of messages) {
    if (!m.topic.endsWith('/detections')) continue;
    const d = DetectionsPayload.parse(JSON.parse(m.payload.toString()));
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    (out[d.camera] ??= []).push(d.seq);
  }
  return out;
}
const status = (m: Received) => StatusPayload.parse(JSON.parse(m.payload.toString()));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('MqttLink against a broker that misbehaves', () => {
  it('drops a message mosquitto refuses over message_size_limit (PUBACK 0x95) and keeps delivering its stream', async () => {
    // mosquitto answers a PUBLISH over message_size_limit with PUBACK 0x95, a reason code MQTT 5 does not
    // allow in a PUBACK: mqtt.js fails to parse it (and loses the acks read with it) without closing.
    const b = await broker({ config: ['message_size_limit 1000'] });
    const sub = await subscriber(b.url, 'vigil/s/d/cameras/+/detections');
    enqueueDetection('cam1', 1);
    enqueueDetection('cam1', 2, 5000);
    enqueueDetection('cam1', 3);
    enqueueDetection('cam2', 4);
    const l = link(b.url);
    await until(l, (s) => s.state === 'connected');
    enqueueDetection('cam1', 5);
    l.notify();
    await sub.waitFor((m) => {
      const s = seqsByCamera(m);
      return s.cam1?.length === 3 && s.cam2?.length === 1;
    });
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: [1, 3, 4], cam2: [1] });
    await drained(5000);
    expect(l.counters()).toMatchObject({ rejected: 1, acked: 4, inflight: 0 });
    expect(fx.outbox.dropDetail()).toEqual([{ reason: 'rejected', priority: 0, count: 1 }]);
    expect(l.state.lastError?.message).toMatch(/PUBACK reason code/);
    // The connection is healthy afterwards: a later row goes and is acknowledged.
    enqueueDetection('cam1', 6);
    l.notify();
    await sub.waitFor((m) => seqsByCamera(m).cam1?.length === 4);
    await drained(5000);
    expect(l.state.state).toBe('connected');
  });

  it('refuses, unsent, a row over the maximum packet size the broker announces, and the rest of its stream goes', async () => {
    const b = await broker({ config: ['max_packet_size 2000'] });
    const sub = await subscriber(b.url, 'vigil/s/d/cameras/+/detections');
    enqueueDetection('cam1', 1); // backlog: committed before the connection
    enqueueDetection('cam1', 2, 5000);
    const l = link(b.url);
    await until(l, (s) => s.state === 'connected');
    enqueueDetection('cam1', 3); // live, held until the backlog of its stream is done
    enqueueDetection('cam1', 4, 5000);
    enqueueDetection('cam1', 5);
    l.notify();
    await sub.waitFor((m) => seqsByCamera(m).cam1?.length === 3);
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: [1, 3, 5] });
    await drained(5000);
    expect(l.counters()).toMatchObject({ rejected: 2, acked: 3, connects: 1 });
    expect(l.state.lastError?.message).toMatch(/exceeds the broker's maximum packet size \(2000 bytes\)/);
  });

  it('notices a hung broker by keepalive, and after it resumes delivers everything in order, online again', async () => {
    const b = await broker();
    const sub = await subscriber(b.url, 'vigil/s/d/cameras/+/detections');
    const l = link(b.url, { keepaliveS: 1, inflightWindow: 8 });
    await until(l, (s) => s.state === 'connected');
    await sleep(100); // the online status acknowledged
    process.kill(b.pid!, 'SIGSTOP');
    for (let n = 1; n <= 40; n++) enqueueDetection(n % 2 ? 'cam1' : 'cam2', n);
    l.notify();
    const down = await until(l, (s) => s.state === 'disconnected');
    expect(down.lastError?.message).toMatch(/keepalive timeout/i);
    expect(fx.outbox.depth().rows).toBe(40);
    process.kill(b.pid!, 'SIGCONT');
    await sub.waitFor((m) => {
      const s = seqsByCamera(m);
      return s.cam1?.length === 20 && s.cam2?.length === 20;
    }, 20_000);
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: range(1, 20), cam2: range(1, 20) });
    await drained(20_000);
    const c = l.counters();
    expect(c.published - c.acked).toBeLessThanOrEqual(8); // re-sends: at most one window
    const fresh = await subscriber(b.url, t.status);
    await fresh.waitFor((m) => m.length > 0);
    expect(status(fresh.messages[0]!).state).toBe('online');
  });

  it('stops within its timeout with the broker hung, keeping every unacknowledged row', async () => {
    const b = await broker();
    const l = link(b.url);
    await until(l, (s) => s.state === 'connected');
    await sleep(100);
    process.kill(b.pid!, 'SIGSTOP');
    for (let n = 1; n <= 10; n++) enqueueDetection('cam1', n);
    l.notify();
    await sleep(50);
    expect(l.counters().inflight).toBeGreaterThan(0);
    const t0 = Date.now();
    await l.stop(1000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(l.state.state).toBe('stopped');
    expect(fx.outbox.depth().rows).toBe(10);
  });

  it('subscribes again after the broker restarts', async () => {
    const b = await broker();
    const l = link(b.url);
    const got: string[] = [];
    l.subscribe('vigil/s/d/request/+', (p) => got.push(p.toString()));
    await until(l, (s) => s.state === 'connected');
    const pub = await subscriber(b.url, 'unused');
    const requests = () => got.filter((p) => !p.startsWith('probe'));
    const arrived = (n: number) => vi.waitFor(() => expect(requests()).toHaveLength(n), 20_000);
    // Probes until one reaches the handler: the link's subscription is in place at the broker (however long
    // its SUBACK takes); a request published after that one cannot overtake it.
    const subscribed = (probe: string) =>
      vi.waitFor(async () => {
        await pub.client.publishAsync('vigil/s/d/request/probe', probe, { qos: 1 });
        await sleep(20);
        expect(got).toContain(probe);
      }, 30_000);
    await subscribed('probe-1');
    pub.client.publish('vigil/s/d/request/a', 'one', { qos: 1 });
    await arrived(1);
    await b.stop();
    await until(l, (s) => s.state === 'disconnected');
    await b.start();
    await until(l, (s) => s.state === 'connected');
    await vi.waitFor(() => expect(pub.client.connected).toBe(true), 30_000);
    await subscribed('probe-2');
    pub.client.publish('vigil/s/d/request/a', 'two', { qos: 1 });
    await arrived(2);
    expect(requests()).toEqual(['one', 'two']);
  });

  it('falls back to MQTT 3.1.1 when the broker refuses MQTT 5, and delivers', async () => {
    const b = await broker();
    // A 3.1.1-only broker: mosquitto behind a front that refuses MQTT 5 as a 3.1.1 broker does.
    const front = await mqtt311Front(b.port);
    defer(() => front.close());
    const sub = await subscriber(b.url, 'vigil/#');
    const l = link(front.url);
    for (let n = 1; n <= 5; n++) enqueueDetection('cam1', n);
    l.notify();
    await sub.waitFor((m) => seqsByCamera(m).cam1?.length === 5);
    expect(seqsByCamera(sub.messages)).toEqual({ cam1: range(1, 5) });
    expect(front.refusedV5).toBe(1);
    expect(l.counters()).toMatchObject({ protocol: '3.1.1', connects: 1 });
    const online = sub.messages.find((m) => m.topic === t.status)!;
    expect(status(online).state).toBe('online');
    expect(online.contentType).toBeUndefined(); // no MQTT 5 properties on 3.1.1
    await drained(5000);
  });
});
